import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing

/// Headers-first, locators, getheaders and tip events of `ChainService` (one caller at a time).
struct ChainServiceTests {
    static func service(_ directory: String) throws -> ChainService {
        ChainService(try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 4))
    }

    static func rule(_ body: () throws -> Void) -> RuleName? {
        do { try body() } catch ChainStateError.rejected(let rejection, _, _) { return rejection.rule } catch { return nil }
        return nil
    }

    @Test("headers first: headers enter the index ahead of their blocks, which then connect in any order")
    func headersFirst() throws {
        let (blocks, generator) = Fixtures.blocks(10, seed: 5, transactions: 4)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let service = try Self.service(directory)

        #expect(Self.rule { try service.acceptHeader(blocks[4].header) } == .headerPrevHash) // parent unknown
        var tall = blocks[0].header
        tall.height += 1
        while (try? ContextFreeRules.checkProofOfWork(tall, parameters: Fixtures.regtest)) == nil { tall.nonce += 1 }
        #expect(Self.rule { try service.acceptHeader(tall) } == .headerHeight)
        for block in blocks { #expect(try service.acceptHeader(block.header) == .added) }
        #expect(try service.acceptHeader(blocks[3].header) == .duplicate)
        var snapshot = service.snapshot
        #expect(snapshot.bestHeaderHeight == 10 && snapshot.bestHeaderHash == blocks[9].hash)
        #expect(snapshot.tipHeight == 0 && snapshot.header(blocks[9].hash) == blocks[9].header)
        #expect(try service.block(blocks[0].hash) == nil) // a header without its block

        // Blocks whose parent is header-only wait; the first one connects them all.
        for block in blocks.dropFirst().reversed() { #expect(try service.accept(block) == .orphan) }
        #expect(try service.accept(blocks[0]) == .connected)
        snapshot = service.snapshot
        #expect(snapshot.tipHash == blocks[9].hash && snapshot.bestHeaderHash == blocks[9].hash)
        #expect(try service.block(blocks[5].hash) == blocks[5].encoded)
        let summary = try service.withWriter { try $0.utxoSummary() }
        #expect(summary.digest == generator.utxoDigest().digest)
    }

    @Test("header-only nodes stay in memory: a reopened datadir does not know them")
    func headersNotPersisted() throws {
        let (blocks, _) = Fixtures.blocks(3, seed: 5, transactions: 2)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
            try state.accept(blocks[0])
            try state.acceptHeader(blocks[1].header)
            try state.acceptHeader(blocks[2].header)
            #expect(state.bestHeader.hash == blocks[2].hash && state.tip.hash == blocks[0].hash)
            try state.flush()
        }
        let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
        #expect(reopened.node(blocks[0].hash) != nil && reopened.node(blocks[1].hash) == nil)
        #expect(reopened.bestHeader.hash == blocks[0].hash)
        #expect(try reopened.accept(blocks[1]) == .connected)
    }

    @Test("locators step back one block at a time for 11 entries, then doubling, ending at genesis")
    func locators() throws {
        let (state, _, directory) = try Fixtures.chain(blocks: 30, seed: 9, transactions: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let snapshot = ChainService(state).snapshot
        let heights: [UInt64] = Array((20...30).reversed()) + [19, 17, 13, 5, 0]
        #expect(snapshot.locator() == heights.map { snapshot.hash(atHeight: $0)! })
        #expect(snapshot.hash(atHeight: 31) == nil)
    }

    @Test("getheaders: after the first locator entry on the active chain, up to the limit, ending at stop")
    func getHeaders() throws {
        let (state, _, directory) = try Fixtures.chain(blocks: 30, seed: 9, transactions: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (side, _) = Fixtures.blocks(3, seed: 10, transactions: 2)
        for block in side { #expect(try state.accept(block) == .sideBranch) }
        let snapshot = ChainService(state).snapshot
        func hash(_ height: UInt64) -> Hash256 { snapshot.hash(atHeight: height)! }
        func heights(_ headers: [BlockHeader]) -> [UInt64] { headers.map(\.height) }

        #expect(heights(snapshot.headers(locator: [hash(0)])) == Array(1...30))
        #expect(heights(snapshot.headers(locator: [hash(0)], limit: 5)) == Array(1...5))
        #expect(heights(snapshot.headers(locator: [hash(10), hash(0)])) == Array(11...30))
        #expect(heights(snapshot.headers(locator: [hash(10)], stop: hash(15))) == Array(11...15))
        #expect(snapshot.headers(locator: [hash(10)], stop: hash(15)).last?.hash == hash(15))
        // Unknown and side-branch entries are passed over.
        #expect(heights(snapshot.headers(locator: [Hash256.zero, side[2].hash, hash(20)])) == Array(21...30))
        #expect(heights(snapshot.headers(locator: [Hash256.zero])) == Array(1...30))
        #expect(snapshot.headers(locator: [hash(30)]).isEmpty)
        #expect(snapshot.headers(locator: [], stop: hash(7)) == [snapshot.header(hash(7))!])
        #expect(snapshot.activeHeight(of: side[2].hash) == nil && snapshot.header(side[2].hash) == side[2].header)
    }

    @Test("tip events: each connected block, then a reorganisation's disconnects, connects and summary")
    func tipEvents() async throws {
        let (branchA, _) = Fixtures.blocks(5, seed: 11, transactions: 2)
        let (branchB, _) = Fixtures.blocks(7, seed: 12, transactions: 2)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let service = try Self.service(directory)
        let events = service.tipEvents()
        for block in branchA + branchB { try service.accept(block) }
        service.finishTipEvents()
        var received = [TipEvent]()
        for await event in events { received.append(event) }

        func connected(_ blocks: ArraySlice<Block>) -> [TipEvent] { blocks.map { .connected(height: $0.header.height, hash: $0.hash) } }
        let disconnectedA = branchA.reversed().map { TipEvent.disconnected(height: $0.header.height, hash: $0.hash) }
        let expectedPrefix = connected(branchA[...]) + disconnectedA + connected(branchB.prefix(6))
        #expect(Array(received.prefix(expectedPrefix.count)) == expectedPrefix)
        guard received.count == expectedPrefix.count + 2, case .reorganized(let reorganization) = received[expectedPrefix.count] else {
            Issue.record("events: \(received)")
            return
        }
        #expect(reorganization.forkHeight == 0 && reorganization.oldTip == branchA[4].hash && reorganization.newTip == branchB[5].hash)
        #expect(reorganization.disconnected == 5 && reorganization.connected == 6)
        #expect(received.last == .connected(height: 7, hash: branchB[6].hash))
    }
}
