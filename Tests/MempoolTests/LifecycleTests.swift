import Foundation
@testable import Mempool
import Primitives
import Testing

/// The lifecycle per txid (DESIGN 9) as `status(txid:)` reports it, through every transition.
@Suite(.serialized)
struct LifecycleTests {
    static let value = SizeLimitTests.value
    static let start = SizeLimitTests.start

    /// The recorded states without `validated` (acceptance records it just before `mempool`).
    static func steps(_ pool: Mempool, _ txid: Hash256) -> [TransactionEvent.State] {
        pool.history(txid: txid).map(\.state).filter { $0 != .validated }
    }

    @Test("mempool, pending in a template (once), included, confirmed, finalized at the chain's depth")
    func forwardPath() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, finalityDepth: 3, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let transaction = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        let txid = transaction.txid
        #expect(pool.status(txid: txid) == nil)
        #expect(pool.submit(transaction, source: "test").entry != nil)
        var status = try #require(pool.status(txid: txid))
        #expect(status.state == .mempool && status.entryTime == Self.start && status.confirmations == 0 && status.blockHash == nil)

        clock.advance(by: 5)
        #expect(pool.selection(maxBytes: 1_000_000).entries.map(\.txid) == [txid])
        status = try #require(pool.status(txid: txid))
        #expect(status.state == .pending && status.time == Self.start + 5 && status.entryTime == Self.start)
        // A second template with the same transactions records nothing new.
        _ = pool.selectForBlock(maxBytes: 1_000_000)
        #expect(Self.steps(pool, txid) == [.mempool, .pending])
        // A template without it (too small): back to mempool.
        _ = pool.selection(maxBytes: 10)
        #expect(pool.status(txid: txid)?.state == .mempool)

        let block = try chain.mine([transaction])
        try await chain.waitUntilSynced(pool)
        let height = UInt64(MempoolTests.chainLength) + 1
        status = try #require(pool.status(txid: txid))
        #expect(status.state == .included && status.confirmations == 1 && status.blockHash == block.hash && status.blockHeight == height)
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        status = try #require(pool.status(txid: txid))
        #expect(status.state == .confirmed && status.confirmations == 2 && status.blockHeight == height)
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        status = try #require(pool.status(txid: txid))
        #expect(status.state == .finalized && status.confirmations == 3)
        #expect(Self.steps(pool, txid) == [.mempool, .pending, .included])
        #expect(status.history.last?.detail == block.hash.hex)
    }

    @Test("a reorganisation returns an included transaction to the pool, or to rejected when it no longer fits")
    func reorganisation() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let fork = chain.chain.snapshot.tipHash
        let returning = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        let doomed = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(returning, source: "test").entry != nil && pool.submit(doomed, source: "test").entry != nil)
        let mined = try chain.mine([returning, doomed])
        try await chain.waitUntilSynced(pool)
        #expect(pool.status(txid: returning.txid)?.state == .included && pool.status(txid: doomed.txid)?.blockHash == mined.hash)

        // A longer branch from the fork spends `doomed`'s coin another way.
        clock.advance(by: 60)
        let rival = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 30_000)])
        let first = chain.block([rival], on: fork, extraNonce: 1)
        #expect(try chain.chain.accept(first) == .sideBranch)
        #expect(try chain.chain.accept(chain.block([], on: first.hash, extraNonce: 1)) == .connected)
        try await chain.waitUntilSynced(pool)

        let back = try #require(pool.status(txid: returning.txid))
        #expect(back.state == .mempool && back.entryTime == Self.start + 60 && back.blockHash == nil)
        #expect(Self.steps(pool, returning.txid) == [.mempool, .included, .disconnected, .mempool])
        #expect(back.history.last?.detail == Mempool.returnedByReorganisation)
        let gone = try #require(pool.status(txid: doomed.txid))
        #expect(gone.state == .rejected && gone.rule == "bad-txns-inputs-missingorspent" && gone.time == Self.start + 60)
        #expect(Self.steps(pool, doomed.txid) == [.mempool, .included, .disconnected, .rejected])
        // The rival, never pooled here, is unknown to the lifecycle.
        #expect(pool.status(txid: rival.txid) == nil)
    }

    @Test("rejected (rule and time), removed by a conflicting block, replaced (by which txid)")
    func ends() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let free = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value)])
        #expect(pool.submit(free, source: "test").rule == "min relay fee not met")
        let rejected = try #require(pool.status(txid: free.txid))
        #expect(rejected.state == .rejected && rejected.rule == "min relay fee not met" && rejected.time == Self.start)
        #expect(rejected.entryTime == nil)

        // Conflicts with a block.
        let conflicted = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(conflicted, source: "test").entry != nil)
        let rival = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 20_000)])
        let block = try chain.mine([rival])
        try await chain.waitUntilSynced(pool)
        let removed = try #require(pool.status(txid: conflicted.txid))
        #expect(removed.state == .removed && removed.rule == "conflicts with \(rival.txid.hex) in block \(block.hash.hex)")
        #expect(removed.entryTime == Self.start)

        // Replaced, with its child (the removal helper replacement uses).
        let original = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(Self.value - 10_000)])
        let child = chain.spend([TestChain.output(original, 0)], to: [chain.pay(Self.value - 20_000)])
        #expect(pool.submit(original, source: "test").entry != nil && pool.submit(child, source: "test").entry != nil)
        let replacement = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(Self.value - 50_000)])
        clock.advance(by: 7)
        pool.admission.withLock {
            _ = pool.lock.withLock {
                pool.removeWithDescendants(original.txid, as: .replaced, detail: replacement.txid.hex, time: clock.now)
            }
        }
        for txid in [original.txid, child.txid] {
            let status = try #require(pool.status(txid: txid))
            #expect(status.state == .replaced && status.replacedBy == replacement.txid && status.time == Self.start + 7)
        }
    }

    @Test("terminal states are forgotten after the retention time (on a block), finalized ones too; pooled ones stay")
    func retentionByTime() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, finalityDepth: 2, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let retention = pool.policy.lifecycleRetentionSeconds
        let free = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value)])
        #expect(pool.submit(free, source: "test").entry == nil)
        let mined = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 10_000)])
        let waiting = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(mined, source: "test").entry != nil && pool.submit(waiting, source: "test").entry != nil)
        try chain.mine([mined])
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        #expect(pool.status(txid: mined.txid)?.state == .finalized)

        // Not yet old enough: kept through a block.
        clock.advance(by: retention - 1)
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        #expect(pool.status(txid: free.txid)?.state == .rejected && pool.status(txid: mined.txid)?.state == .finalized)

        clock.advance(by: 2)
        // Forgotten on the next block, not before.
        #expect(pool.status(txid: free.txid) != nil)
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        #expect(pool.status(txid: free.txid) == nil && pool.status(txid: mined.txid) == nil)
        #expect(pool.status(txid: waiting.txid)?.state == .mempool)
    }

    @Test("an included transaction not yet final is kept however old")
    func includedNotFinalKept() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, finalityDepth: 6, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let mined = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(mined, source: "test").entry != nil)
        try chain.mine([mined])
        try await chain.waitUntilSynced(pool)
        clock.advance(by: pool.policy.lifecycleRetentionSeconds * 2)
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        let status = try #require(pool.status(txid: mined.txid))
        #expect(status.state == .confirmed && status.confirmations == 2)
    }

    @Test("the lifecycle remembers a bounded count of transactions")
    func retentionByCount() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, policy: MempoolPolicy(rejectionMemory: 3))
        let refused = (1...4).map { chain.spend([chain.coinbase(height: $0)], to: [chain.pay(Self.value)]) }
        for transaction in refused { #expect(pool.submit(transaction, source: "test").rule == "min relay fee not met") }
        #expect(pool.status(txid: refused[0].txid) == nil)
        #expect(refused.dropFirst().allSatisfy { pool.status(txid: $0.txid)?.state == .rejected })
    }
}
