import Foundation
import Primitives
import Stratum
import Testing
@testable import Node

/// The pool's bookkeeping without sockets: nonce prefixes and worker accounts.
@Suite struct StratumAccountingTests {
    @Test("prefixes are handed out in order, never twice at once, up to the limit; a freed one is reused last")
    func prefixes() throws {
        var allocator = NoncePrefixAllocator(limit: 3)
        var given = [NoncePrefix]()
        for _ in 0..<3 {
            let prefix = allocator.allocate()
            given.append(try #require(prefix))
        }
        #expect(given.map(\.value) == [0, 1, 2] && given[0].byteCount == 2)
        let refused = allocator.allocate()
        #expect(refused == nil)
        allocator.free(given[1])
        let reused = allocator.allocate()
        #expect(reused?.value == 3)
        #expect(allocator.count == 3)
        // The whole 2-byte space, wrapping around past the prefixes still in use.
        var full = NoncePrefixAllocator(limit: 1_000_000)
        #expect(full.limit == 65_536)
        var seen = Set<UInt64>()
        while let prefix = full.allocate() { seen.insert(prefix.value) }
        #expect(seen.count == 65_536)
        let seventh = try #require(NoncePrefix(value: 7, byteCount: 2))
        full.free(seventh)
        let again = full.allocate()
        #expect(again?.value == 7)
    }

    @Test("workers: shares, work, rejections, hashrate over five minutes; the least recently seen disconnected one is forgotten")
    func workers() throws {
        let powLimit = RPCTestNode.regtest.powLimit
        let accounting = StratumAccounting(metrics: NodeMetrics(), powLimit: powLimit, maxWorkers: 2)
        #expect(accounting.connected(worker: "a", difficulty: 2, now: 1) == "a")
        #expect(accounting.connected(worker: "b", difficulty: 2, now: 2) == "b")
        let time: UInt64 = 1_800_000_000
        accounting.accepted(worker: "a", difficulty: 2, block: false, unixTime: time, now: 3, validationNanoseconds: 1_000)
        accounting.accepted(worker: "a", difficulty: 3, block: true, unixTime: time + 20, now: 4, validationNanoseconds: 1_000)
        accounting.rejected(.stale, worker: "a")
        accounting.rejected(.unauthorized, worker: nil)
        let a = try #require(accounting.snapshot().first { $0.name == "a" }?.worker)
        #expect(a.accepted == 2 && a.acceptedWork == 5 && a.blocks == 1 && a.lastShare == time + 20 && a.rejected[.stale] == 1)
        let perDifficulty = ProofOfWork.work(target: powLimit).approximateDouble
        #expect(accounting.hashrate(a, unixTime: time + 30) == 5 * perDifficulty / 300)
        // Ten minutes on, the shares are out of the window.
        #expect(accounting.hashrate(a, unixTime: time + 600) == 0)
        let totals = accounting.totals
        #expect(totals.accepted == 2 && totals.blocks == 1 && totals.rejected[.unauthorized] == 1 && totals.rejected[.stale] == 1)

        // Full, both connected: a third is counted under the shared overflow account, never refused;
        // once "b" disconnected it makes room, and a fourth takes the overflow account again.
        #expect(accounting.connected(worker: "c", difficulty: 1, now: 5) == StratumAccounting.overflowName)
        accounting.disconnected(accounts: ["b"])
        #expect(accounting.connected(worker: "d", difficulty: 1, now: 6) == "d")
        #expect(accounting.snapshot().map(\.name) == ["(overflow)", "a", "d"])
        #expect(accounting.snapshot().first?.worker.connections == 1)
    }

    @Test("the least recently disconnected worker is forgotten first; a reconnection voids its place in the queue")
    func forgettingOrder() throws {
        let accounting = StratumAccounting(metrics: NodeMetrics(), powLimit: RPCTestNode.regtest.powLimit, maxWorkers: 3)
        for name in ["a", "b", "c"] { #expect(accounting.connected(worker: name, difficulty: 1, now: 1) == name) }
        accounting.disconnected(accounts: ["a"])
        accounting.disconnected(accounts: ["b"])
        // "a" comes back and leaves again: it is now more recent than "b".
        #expect(accounting.connected(worker: "a", difficulty: 1, now: 2) == "a")
        accounting.disconnected(accounts: ["a"])
        #expect(accounting.connected(worker: "d", difficulty: 1, now: 3) == "d")
        #expect(accounting.snapshot().map(\.name) == ["a", "c", "d"])
        #expect(accounting.connected(worker: "e", difficulty: 1, now: 4) == "e")
        #expect(accounting.snapshot().map(\.name) == ["c", "d", "e"])
        // Many short connections of one name keep the queue bounded and the name's account intact.
        accounting.disconnected(accounts: ["e"])
        for round in 0..<1_000 {
            _ = accounting.connected(worker: "e", difficulty: 1, now: Double(5 + round))
            accounting.disconnected(accounts: ["e"])
        }
        accounting.disconnected(accounts: ["c"])
        #expect(accounting.connected(worker: "f", difficulty: 1, now: 2_000) == "f")
        #expect(accounting.snapshot().map(\.name) == ["c", "d", "f"])
        #expect(accounting.snapshot().map(\.worker.connections) == [0, 1, 1])
    }
}
