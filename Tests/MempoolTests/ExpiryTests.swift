import Foundation
import Mempool
import Primitives
import Testing

/// Expiry (-mempoolexpiry): entries older than the bound leave with their descendants.
@Suite(.serialized)
struct ExpiryTests {
    static let value = SizeLimitTests.value
    static let start = SizeLimitTests.start

    @Test("an entry past the expiry leaves with its descendants, as expired; younger ones stay")
    func expiresWithDescendants() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = ManualClock(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        let expiry = pool.policy.expirySeconds
        let old = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(old, source: "test").entry != nil)
        // The child arrives later but leaves with its parent.
        clock.advance(by: expiry / 2)
        let child = chain.spend([TestChain.output(old, 0)], to: [chain.pay(Self.value - 20_000)])
        let young = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(child, source: "test").entry != nil && pool.submit(young, source: "test").entry != nil)

        // Exactly at the bound: not yet (Core removes entries older than now - expiry).
        clock.advance(by: expiry / 2)
        #expect(pool.expireNow() == 0 && pool.count == 3)
        clock.advance(by: 1)
        #expect(pool.expireNow() == 2)
        #expect(pool.entries().map(\.txid) == [young.txid])
        for txid in [old.txid, child.txid] {
            let status = try #require(pool.status(txid: txid))
            #expect(status.state == .expired && status.time == clock.now)
            #expect(pool.history(txid: txid).last == TransactionEvent(state: .expired, time: clock.now, detail: Mempool.expiryReason))
        }
        #expect(pool.spender(of: chain.coinbase(height: 1).0) == nil)
        #expect(pool.bytes == young.encoded.count)
        // Its coin is free again: a new spend enters.
        #expect(pool.submit(chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 30_000)]), source: "test").entry != nil)
    }

    @Test("a block expires what has grown too old (the node's mock time, as setmocktime)")
    func blockExpires() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let clock = NodeClock()
        clock.setMockTime(Self.start)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { clock.now })
        pool.start()
        defer { pool.stop() }
        let old = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        #expect(pool.submit(old, source: "test").entry != nil)
        clock.setMockTime(Self.start + pool.policy.expirySeconds + 1)
        #expect(pool.status(txid: old.txid)?.state == .mempool)
        try chain.mine([])
        try await chain.waitUntilSynced(pool)
        #expect(pool.count == 0 && pool.status(txid: old.txid)?.state == .expired)
    }
}
