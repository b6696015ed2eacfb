import Foundation
@testable import Mempool
import Primitives
import Testing

/// What later rejections may not do to the lifecycle and to relay's filters: overwrite a
/// replaced or included end, let a malleated copy poison an honest transaction, or flush a
/// pooled transaction's history.
@Suite(.serialized)
struct LifecycleGuardTests {
    static let value = SizeLimitTests.value
    static let start = SizeLimitTests.start

    @Test("a replaced transaction sent again is refused but still reports its replacement; not fetched again until a block")
    func replacedStaysReplaced() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let original = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        let replacement = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 100_000)])
        #expect(pool.submit(original, source: "test").entry != nil)
        #expect(pool.submit(replacement, source: "test").entry != nil)
        #expect(pool.status(txid: original.txid)?.state == .replaced)
        #expect(!pool.wants(wtxid: original.wtxid))

        // A lagging peer (or a user) sends the original again: refused by the replacement rules.
        clock.advance(by: 5)
        #expect(pool.submit(original, source: "test").entry == nil)
        let status = try #require(pool.status(txid: original.txid))
        #expect(status.state == .replaced && status.replacedBy == replacement.txid)
        #expect(!pool.history(txid: original.txid).contains { $0.state == .rejected })

        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        #expect(pool.wants(wtxid: original.wtxid))
    }

    @Test("a transaction that first reaches a node after its replacement ends replaced by it there too")
    func outbidOnArrival() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let original = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        let replacement = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 100_000)])
        #expect(pool.submit(replacement, source: "test").entry != nil)
        #expect(pool.submit(original, source: "test").rejection?.rule == "insufficient fee")
        let status = try #require(pool.status(txid: original.txid))
        #expect(status.state == .replaced && status.replacedBy == replacement.txid)
        #expect(pool.rejection(txid: original.txid)?.rejection.rule == "insufficient fee")
        // Any other refusal stays a rejection.
        let unrelated = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value + 1)])
        #expect(pool.submit(unrelated, source: "test").entry == nil)
        #expect(pool.status(txid: unrelated.txid)?.state == .rejected)
    }

    @Test("a confirmed transaction sent again is refused but still reports its confirmation")
    func includedStaysIncluded() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let parent = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(parent, source: "test").entry != nil)
        let block = try chain.mine([parent])
        try await chain.waitUntilSynced(pool)
        // Its output spent too, so the chain no longer shows it as unspent outputs.
        let child = chain.spend([TestChain.output(parent, 0)], to: [chain.pay(Self.value - 20_000)])
        try chain.mine([child])
        try await chain.waitUntilSynced(pool)

        clock.advance(by: 5)
        #expect(pool.submit(parent, source: "test").entry == nil)
        var malleated = parent
        malleated.witnesses[0][0][11] ^= 1
        #expect(pool.submit(malleated, source: "test").entry == nil)
        let status = try #require(pool.status(txid: parent.txid))
        #expect(status.state == .confirmed && status.blockHash == block.hash && status.confirmations == 2)
    }

    @Test("a malleated copy refused for its witness does not poison the honest transaction or its children")
    func rejectsKeyedByWtxid() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let honest = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        var forged = honest
        forged.witnesses[0][0][11] ^= 1
        #expect(forged.txid == honest.txid && forged.wtxid != honest.wtxid)
        let child = chain.spend([TestChain.output(honest, 0)], to: [chain.pay(Self.value - 20_000)])
        let first = pool.accept(RelayOrphanTests.relayed([forged, child]))
        #expect(first.verdicts == [.rejected(rule: "script-signature", penalize: true), .orphan(missingParents: [honest.txid])])
        #expect(!pool.wants(wtxid: forged.wtxid) && pool.wants(wtxid: honest.wtxid))
        let second = pool.accept(RelayOrphanTests.relayed([honest]))
        #expect(second.verdicts.count == 1 && second.resolvedOrphans.map(\.wtxid) == [child.wtxid])
        #expect(pool.count == 2 && pool.status(txid: honest.txid)?.state == .mempool)
    }

    @Test("past the reorganisation's byte bound the disconnected block's last transaction is dropped, recorded removed (reorg)")
    func reorganisationByteBound() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        let fork = chain.chain.snapshot.tipHash
        let kept = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        let dropped = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 10_000)])
        // Room for one of the two.
        pool.lock.withLock { pool.disconnected = DisconnectedTransactions(maxBytes: kept.encoded.count) }
        pool.start()
        defer { pool.stop() }
        #expect(pool.submit(kept, source: "test").entry != nil && pool.submit(dropped, source: "test").entry != nil)
        _ = try chain.mine([kept, dropped])
        try await chain.waitUntilSynced(pool)

        clock.advance(by: 60)
        let first = chain.block([], on: fork, extraNonce: 1)
        #expect(try chain.chain.accept(first) == .sideBranch)
        #expect(try chain.chain.accept(chain.block([], on: first.hash, extraNonce: 1)) == .connected)
        try await chain.waitUntilSynced(pool)
        #expect(pool.entries().map(\.txid) == [kept.txid])
        let status = try #require(pool.status(txid: dropped.txid))
        #expect(status.state == .removed && status.rule == Mempool.reorganisationOverflowReason)
        #expect(pool.history(txid: dropped.txid).suffix(2).map(\.state) == [.disconnected, .removed])
    }

    @Test("20,000 junk rejections leave a pooled transaction's history intact")
    func rejectionFloodKeepsPooledHistory() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        let pooled = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(pooled, source: "test").entry != nil)
        let before = pool.history(txid: pooled.txid)
        #expect(before.map(\.state) == [.validated, .mempool])
        clock.advance(by: 1)
        // No outputs: refused by the context-free rules, each with its own txid.
        let junk = (0..<20_000).map { index in
            var bytes = [UInt8](repeating: 0xAB, count: 32)
            withUnsafeBytes(of: UInt32(index).littleEndian) { bytes.replaceSubrange(0..<4, with: $0) }
            return Transaction(inputs: [TxIn(previousOutput: OutPoint(txid: Hash256(bytes: bytes)!, index: 0))], outputs: [],
                               witnesses: [[]])
        }
        let verdicts = pool.submit(batch: junk, source: "test")
        #expect(verdicts.allSatisfy { $0.entry == nil })
        #expect(pool.history(txid: pooled.txid) == before)
        #expect(pool.status(txid: pooled.txid)?.state == .mempool)
        // The junk's own record is bounded: the oldest are forgotten.
        #expect(pool.history(txid: junk[0].txid).isEmpty && !pool.history(txid: junk[19_999].txid).isEmpty)
        // Once it leaves, its history moves to the bounded record with its end.
        let block = try chain.mine([pooled])
        pool.apply(.connected(height: chain.chain.snapshot.tipHeight, hash: block.hash))
        #expect(pool.history(txid: pooled.txid).map(\.state) == [.validated, .mempool, .included])
    }

    @Test("a transaction without one witness stack per input is refused by a rule, not a trap")
    func witnessCountRefused() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        var transaction = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        transaction.witnesses = []
        #expect(pool.submit(transaction, source: "test").rule == Mempool.witnessCountRule)
        #expect(pool.test(transaction).rule == Mempool.witnessCountRule && pool.count == 0)
    }
}
