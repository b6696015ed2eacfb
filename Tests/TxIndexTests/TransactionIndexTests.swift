import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Storage
import Testing
@testable import TxIndex

/// The transaction index over real chains built by ChainGen: background builds, lookups,
/// reorganisations, stop and resume, blocks arriving while it builds.
@Suite struct TransactionIndexTests {
    /// Regtest with coinbases spendable after 2 blocks, so short chains carry transactions
    /// besides their coinbases.
    static let regtest: ConsensusParameters = {
        var parameters = try! ChainParameters.builtIn("regtest")
        parameters.coinbaseMaturity = 2
        return try! ConsensusParameters(parameters)
    }()

    /// A fresh chain datadir, removed when the test's `Chain` goes.
    final class Chain {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-txindex-\(UUID().uuidString)").path
        private(set) var service: ChainService!
        private(set) var database: RocksDB!

        init() throws { try open() }

        private func open() throws {
            let state = try ChainState(directory: directory, parameters: TransactionIndexTests.regtest, cacheMiB: 8)
            database = state.database
            service = ChainService(state)
        }

        /// Closes the database (nothing else may hold the service or database) and opens it again.
        func reopen() throws {
            try service.flush()
            service = nil
            database = nil
            try open()
        }

        deinit { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func blocks(_ count: Int, seed: UInt64, transactions: Int = 4) -> [Block] {
        var generator = ChainGenerator(parameters: regtest, seed: seed, transactionsPerBlock: transactions)
        return (0..<count).map { _ in generator.nextBlock() }
    }

    /// The same transactions under new headers on `parent`: the first block's time moves by a
    /// second, so every hash differs and the transactions move to other blocks.
    static func restamp(_ blocks: some Sequence<Block>, onto parent: BlockHeader) -> [Block] {
        var previous = parent
        var restamped = [Block]()
        for var block in blocks {
            block.header.previousHash = previous.hash
            if restamped.isEmpty { block.header.time += 1 }
            block.header.bits = regtest.requiredBits(parentHeight: previous.height, parentTime: previous.time)
            ChainGenerator.seal(&block)
            restamped.append(block)
            previous = block.header
        }
        return restamped
    }

    /// Waits (at most 60 s) until the index has reached the chain's tip.
    static func waitUntilSynced(_ index: TransactionIndex, _ service: ChainService) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        // Checked once more after the deadline: a test task starved by a busy machine must
        // judge the index, not the scheduler.
        while true {
            if let error = index.error { throw error }
            if index.bestBlock?.hash == service.snapshot.tipHash && index.status.synced { return }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the index did not reach the tip: \(String(describing: index.bestBlock)) vs \(service.snapshot.tipHeight)")
    }

    /// Every transaction of the active chain is found at its block, height and index.
    static func expectComplete(_ index: TransactionIndex, _ service: ChainService, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let snapshot = service.snapshot
        for height in 0...snapshot.tipHeight {
            let hash = snapshot.hash(atHeight: height)!
            let block = try Block(decoding: try service.block(hash)!)
            for (position, transaction) in block.transactions.enumerated() {
                let found = try index.position(of: transaction.txid)
                #expect(found?.blockHash == hash && found?.height == height && found?.index == position,
                        "tx \(position) of block \(height): \(String(describing: found))", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("a chain indexed in the background: every transaction at its block, height and index; unknown txids are nil")
    func buildsInBackground() async throws {
        let chain = try Chain()
        let blocks = Self.blocks(30, seed: 3)
        for block in blocks { try chain.service.accept(block) }
        let index = try TransactionIndex(chain: chain.service, database: chain.database, batchBlocks: 7)
        #expect(index.bestBlock == nil && index.status == (0, false))
        #expect(try index.location(of: blocks[4].transactions[1].txid) == nil) // not built yet
        index.start()
        try await Self.waitUntilSynced(index, chain.service)
        index.stop()
        #expect(index.status == (30, true))
        try Self.expectComplete(index, chain.service)
        #expect(blocks.allSatisfy { $0.header.height < 3 || $0.transactions.count > 1 }) // more than coinbases
        let location = try index.location(of: blocks[9].transactions[2].txid)
        #expect(location?.blockHash == blocks[9].hash && location?.height == 10)
        #expect(try index.location(of: Hash256(bytes: [UInt8](repeating: 0xab, count: 32))!) == nil)
        #expect(try index.location(of: Self.blocks(1, seed: 99)[0].transactions[0].txid) == nil)
        #expect(index.error == nil)
    }

    @Test("reorganisations: transactions move to the new branch's blocks, and those of a replaced branch disappear")
    func reorganisations() async throws {
        let chain = try Chain()
        let branchA = Self.blocks(13, seed: 21)
        for block in branchA.prefix(12) { try chain.service.accept(block) }
        let index = try TransactionIndex(chain: chain.service, database: chain.database, batchBlocks: 4)
        index.start()
        defer { index.stop() }
        try await Self.waitUntilSynced(index, chain.service)

        // A fork at height 6 carrying the same transactions in other blocks, one block longer.
        let fork = Self.restamp(branchA[6...], onto: branchA[5].header)
        for block in fork { try chain.service.accept(block) }
        #expect(chain.service.snapshot.tipHash == fork.last!.hash)
        try await Self.waitUntilSynced(index, chain.service)
        try Self.expectComplete(index, chain.service)
        let moved = try index.location(of: branchA[8].transactions[1].txid)
        #expect(moved?.blockHash == fork[2].hash && moved?.height == 9)
        let kept = try index.location(of: branchA[3].transactions[1].txid)
        #expect(kept?.blockHash == branchA[3].hash)

        // A longer branch from genesis replaces all of it.
        let branchB = Self.blocks(15, seed: 22)
        for block in branchB { try chain.service.accept(block) }
        #expect(chain.service.snapshot.tipHash == branchB.last!.hash)
        // Whether or not the worker has unwound yet, nothing of the old branch is reported.
        for block in branchA { for transaction in block.transactions { #expect(try index.location(of: transaction.txid) == nil) } }
        try await Self.waitUntilSynced(index, chain.service)
        try Self.expectComplete(index, chain.service)
        // The old branch's entries are removed, not merely hidden.
        let family = try chain.database.columnFamily(TransactionIndex.columnFamily)
        for block in branchA + fork {
            for transaction in block.transactions {
                #expect(try chain.database.get(family, TransactionIndex.transactionKey(transaction.txid)) == nil)
            }
            #expect(try chain.database.get(family, TransactionIndex.blockKey(block.hash)) == nil)
        }
    }

    @Test("stopped mid-build, the stored index is exactly the blocks up to its marker; a new index resumes from there")
    func stopAndResume() async throws {
        let chain = try Chain()
        let blocks = Self.blocks(40, seed: 31)
        for block in blocks { try chain.service.accept(block) }
        var index: TransactionIndex? = try TransactionIndex(chain: chain.service, database: chain.database, batchBlocks: 1)
        index!.start()
        // Let it index a few blocks, then stop it (most likely mid-way).
        let deadline = ContinuousClock.now + .seconds(30)
        while (index!.bestBlock?.height ?? 0) < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        index!.stop()
        let stoppedAt = try #require(index!.bestBlock)
        #expect(stoppedAt.height >= 3)
        #expect(chain.service.snapshot.hash(atHeight: stoppedAt.height) == stoppedAt.hash)
        for block in blocks {
            let location = try index!.location(of: block.transactions[0].txid)
            #expect(block.header.height <= stoppedAt.height ? location?.blockHash == block.hash : location == nil)
        }

        // The database closed and opened again, more blocks arrive, and a new index resumes.
        index = nil
        try chain.reopen()
        let resumed = try TransactionIndex(chain: chain.service, database: chain.database)
        #expect(resumed.bestBlock?.hash == stoppedAt.hash && resumed.bestBlock?.height == stoppedAt.height)
        var generator = ChainGenerator(parameters: Self.regtest, seed: 31, transactionsPerBlock: 4)
        for _ in 0..<40 { _ = generator.nextBlock() }
        for _ in 0..<5 { try chain.service.accept(generator.nextBlock()) }
        resumed.start()
        try await Self.waitUntilSynced(resumed, chain.service)
        resumed.stop()
        #expect(resumed.status == (45, true))
        try Self.expectComplete(resumed, chain.service)
    }

    @Test("an index ahead of its chain (blocks the chain never stored, as after a crash) unwinds them from its own records")
    func unwindsBlocksTheChainDoesNotKnow() async throws {
        // An index of chain X, copied record by record into chain Y's database: Y shares only
        // genesis with X and has never seen X's blocks.
        let chainX = try Chain()
        let blocksX = Self.blocks(8, seed: 61)
        for block in blocksX { try chainX.service.accept(block) }
        let indexX = try TransactionIndex(chain: chainX.service, database: chainX.database)
        indexX.start()
        try await Self.waitUntilSynced(indexX, chainX.service)
        indexX.stop()
        let familyX = try chainX.database.columnFamily(TransactionIndex.columnFamily)
        var records = [([UInt8], [UInt8])]()
        let iterator = chainX.database.iterator(familyX)
        iterator.seekToFirst()
        while iterator.isValid { records.append((iterator.key, iterator.value)); iterator.next() }
        try iterator.checkStatus()

        let chainY = try Chain()
        for block in Self.blocks(5, seed: 62) { try chainY.service.accept(block) }
        let familyY = try chainY.database.columnFamily(TransactionIndex.columnFamily)
        for (key, value) in records { try chainY.database.put(familyY, key, value) }
        let indexY = try TransactionIndex(chain: chainY.service, database: chainY.database)
        #expect(indexY.bestBlock?.hash == blocksX.last!.hash)
        indexY.start()
        defer { indexY.stop() }
        try await Self.waitUntilSynced(indexY, chainY.service)
        try Self.expectComplete(indexY, chainY.service)
        for block in blocksX {
            #expect(try chainY.database.get(familyY, TransactionIndex.blockKey(block.hash)) == nil)
            for transaction in block.transactions {
                #expect(try chainY.database.get(familyY, TransactionIndex.transactionKey(transaction.txid)) == nil)
            }
        }
    }

    @Test("an index built while blocks keep arriving ends consistent with the tip")
    func blocksArriving() async throws {
        let chain = try Chain()
        let blocks = Self.blocks(40, seed: 41)
        for block in blocks.prefix(10) { try chain.service.accept(block) }
        let index = try TransactionIndex(chain: chain.service, database: chain.database, batchBlocks: 3)
        index.start()
        defer { index.stop() }
        let service = chain.service!
        let feeder = Task.detached {
            for block in blocks.dropFirst(10) {
                try service.accept(block)
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        try await feeder.value
        try await Self.waitUntilSynced(index, chain.service)
        #expect(index.status == (40, true))
        try Self.expectComplete(index, chain.service)
    }

    @Test("damaged records are reported as corruption, not trapped on")
    func corruptRecords() throws {
        let chain = try Chain()
        let family = try chain.database.columnFamily(TransactionIndex.columnFamily)
        let txid = Self.blocks(1, seed: 51)[0].transactions[0].txid
        try chain.database.put(family, TransactionIndex.transactionKey(txid), [1, 2, 3])
        let index = try TransactionIndex(chain: chain.service, database: chain.database)
        #expect(throws: TransactionIndexError.self) { try index.location(of: txid) }
        try chain.database.put(family, TransactionIndex.bestKey, [9])
        #expect(throws: TransactionIndexError.self) { try TransactionIndex(chain: chain.service, database: chain.database) }

        // A marker naming a block off the active chain without its unwind record: the worker
        // stops with the error (reported once) instead of guessing.
        let stray = Hash256(bytes: [UInt8](repeating: 0x5a, count: 32))!
        try chain.database.put(family, TransactionIndex.bestKey, stray.bytes + [7, 0, 0, 0, 0, 0, 0, 0])
        let stuck = try TransactionIndex(chain: chain.service, database: chain.database)
        let reported = Reports()
        stuck.onFailure { reported.add("\($0)") }
        stuck.start()
        defer { stuck.stop() }
        let deadline = ContinuousClock.now + .seconds(30)
        while stuck.error == nil && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.01) }
        #expect(stuck.error is TransactionIndexError)
        #expect(reported.all == ["corrupt transaction index: indexed block \(stray.hex) has no record"])
        #expect(stuck.bestBlock?.hash == stray && stuck.status == (7, false))
    }

    final class Reports: @unchecked Sendable {
        private let lock = NSLock()
        private var entries: [String] = []
        func add(_ entry: String) { lock.withLock { entries.append(entry) } }
        var all: [String] { lock.withLock { entries } }
    }
}
