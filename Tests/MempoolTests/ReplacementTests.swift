import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Mempool
import Primitives
import Testing

/// Full replace-by-fee: each of Bitcoin Core's rules, accepted at its bound and refused past it.
@Suite(.serialized)
struct ReplacementTests {
    /// A pool over a fresh chain, with `coins` confirmed outputs to spend.
    static func setUp(policy: MempoolPolicy = MempoolPolicy(), coins: Int = 8) throws -> (TestChain, Mempool, [(OutPoint, TxOut)]) {
        let chain = try TestChain(blocks: 105)
        let outputs = try chain.fanOut(height: 1, count: coins)
        return (chain, Mempool(chain: chain.chain, parameters: chain.parameters, policy: policy), outputs)
    }

    @Test("a replacement paying more evicts its conflict and the conflict's descendants, each recorded as replaced by it")
    func replaces() throws {
        let (chain, pool, coins) = try Self.setUp()
        let original = chain.payment(coins[0], fee: 10_000, outputs: 2)
        let child = chain.payment(TestChain.output(original, 1), fee: 10_000)
        let bystander = chain.payment(coins[1], fee: 10_000)
        for transaction in [original, child, bystander] { #expect(pool.submit(transaction, source: "test").entry != nil) }

        let replacement = try #require(pool.submit(chain.payment(coins[0], fee: 30_000), source: "test").entry)
        #expect(Set(pool.entries().map(\.txid)) == [replacement.txid, bystander.txid])
        for evicted in [original, child] {
            let last = try #require(pool.history(txid: evicted.txid).last)
            #expect(last.state == .replaced && last.detail == replacement.txid.hex)
            #expect(pool.feeRate(wtxid: evicted.wtxid) == nil)
        }
        #expect(pool.spender(of: coins[0].0) == replacement.txid && pool.totalFee.baseUnits == 40_000)
    }

    @Test("rule: the replacement's fee rate must beat each direct conflict's (insufficient fee)")
    func feeRateRule() throws {
        let (chain, pool, coins) = try Self.setUp()
        let original = chain.payment(coins[0], fee: 10_000)
        #expect(pool.submit(original, source: "test").entry != nil)
        // Twice the size for 1.5 times the fee: more in total, less per byte.
        let bigger = chain.spend([coins[0], coins[1]], to: [chain.pay(coins[0].1.value.baseUnits * 2 - 15_000)])
        #expect(bigger.encoded.count > original.encoded.count * 3 / 2)
        let refused = pool.submit(bigger, source: "test")
        #expect(refused.rule == "insufficient fee")
        #expect(refused.rejection?.detail.contains("new feerate") == true && refused.rejection?.detail.contains(original.txid.hex) == true)
        // The same shape paying enough per byte is taken.
        let richer = chain.spend([coins[0], coins[1]], to: [chain.pay(coins[0].1.value.baseUnits * 2 - 25_000)])
        #expect(pool.submit(richer, source: "test").entry != nil)
    }

    @Test("rule: the replacement pays at least the fees of everything it evicts (insufficient fee)")
    func totalFeeRule() throws {
        let (chain, pool, coins) = try Self.setUp()
        let original = chain.payment(coins[0], fee: 10_000)
        let child = chain.payment(TestChain.output(original, 0), fee: 100_000)
        for transaction in [original, child] { #expect(pool.submit(transaction, source: "test").entry != nil) }
        let refused = pool.submit(chain.payment(coins[0], fee: 109_999), source: "test")
        #expect(refused.rule == "insufficient fee" && refused.rejection?.detail.contains("less fees than conflicting txs") == true)
        let replacement = chain.payment(coins[0], fee: 110_000 + 1_000)
        #expect(pool.submit(replacement, source: "test").entry != nil && pool.count == 1)
    }

    @Test("rule: the additional fee pays for the replacement's own size at the incremental relay fee (insufficient fee)")
    func incrementalFeeRule() throws {
        let (chain, pool, coins) = try Self.setUp()
        let original = chain.payment(coins[0], fee: 10_000)
        #expect(pool.submit(original, source: "test").entry != nil)
        // Same shape, so same size; the incremental relay fee is 1,000 per 1,000 bytes.
        let size = UInt64(original.encoded.count)
        let short = pool.submit(chain.payment(coins[0], fee: 10_000 + size - 1), source: "test")
        #expect(short.rule == "insufficient fee" && short.rejection?.detail.contains("not enough additional fees to relay") == true)
        #expect(pool.submit(chain.payment(coins[0], fee: 10_000 + size), source: "test").entry != nil)
    }

    @Test("rule: at most maxReplacementEvictions transactions evicted (too many potential replacements)")
    func evictionCountRule() throws {
        var policy = MempoolPolicy()
        policy.maxReplacementEvictions = 3
        let (chain, pool, coins) = try Self.setUp(policy: policy)
        // Two conflicts: one with a child (3 evictions, the limit); one with two children (3, plus 1 over it).
        let first = chain.payment(coins[0], fee: 10_000)
        let second = chain.payment(coins[1], fee: 10_000, outputs: 2)
        let firstChild = chain.payment(TestChain.output(first, 0), fee: 10_000)
        let secondChildren = (0..<2).map { chain.payment(TestChain.output(second, $0), fee: 10_000) }
        for transaction in [first, second, firstChild] + secondChildren { #expect(pool.submit(transaction, source: "test").entry != nil) }

        let both = chain.spend([coins[0], coins[1]], to: [chain.pay(coins[0].1.value.baseUnits * 2 - 1_000_000)])
        let refused = pool.submit(both, source: "test")
        #expect(refused.rule == "too many potential replacements" && refused.rejection?.detail.contains("> 3") == true)
        #expect(pool.count == 5)
        let atLimit = chain.payment(coins[1], fee: 1_000_000)
        #expect(pool.submit(atLimit, source: "test").entry != nil && pool.count == 3)
    }

    @Test("rule: no unconfirmed input the conflicts did not spend (replacement-adds-unconfirmed)")
    func newUnconfirmedInputRule() throws {
        let (chain, pool, coins) = try Self.setUp()
        let parent = chain.payment(coins[0], fee: 10_000, outputs: 3)
        let original = chain.spend([coins[1], TestChain.output(parent, 0)], to: [chain.pay(coins[1].1.value.baseUnits)])
        let unrelated = chain.payment(coins[2], fee: 10_000)
        for transaction in [parent, original, unrelated] { #expect(pool.submit(transaction, source: "test").entry != nil) }

        // Conflicts on coins[1], adds an output of `unrelated` (unconfirmed, not spent by the conflict).
        let addsUnrelated = chain.spend([coins[1], TestChain.output(unrelated, 0)], to: [chain.pay(coins[1].1.value.baseUnits)])
        let refused = pool.submit(addsUnrelated, source: "test")
        #expect(refused.rule == "replacement-adds-unconfirmed" && refused.rejection?.detail.hasSuffix("idx 1") == true)
        // Another output of `parent`, which the conflict spends already: allowed.
        let sameParent = chain.spend([coins[1], TestChain.output(parent, 0), TestChain.output(parent, 1)],
                                     to: [chain.pay(coins[1].1.value.baseUnits)])
        #expect(pool.submit(sameParent, source: "test").entry != nil)
        #expect(pool.history(txid: original.txid).last?.state == .replaced)
    }

    @Test("rule: a replacement may not spend what it evicts (bad-txns-spends-conflicting-tx)")
    func spendsConflictRule() throws {
        let (chain, pool, coins) = try Self.setUp()
        let original = chain.payment(coins[0], fee: 10_000, outputs: 2)
        #expect(pool.submit(original, source: "test").entry != nil)
        let selfDefeating = chain.spend([coins[0], TestChain.output(original, 0)], to: [chain.pay(coins[0].1.value.baseUnits)])
        let refused = pool.submit(selfDefeating, source: "test")
        #expect(refused.rule == "bad-txns-spends-conflicting-tx" && refused.rejection?.detail.contains(original.txid.hex) == true)
        #expect(pool.entries().map(\.txid) == [original.txid])
    }

    @Test("a relayed replacement enters and is announced with its fee rate")
    func relayedReplacement() throws {
        let (chain, pool, coins) = try Self.setUp()
        let original = chain.payment(coins[0], fee: 10_000)
        #expect(pool.submit(original, source: "test").entry != nil)
        let better = chain.payment(coins[0], fee: 40_000)
        let verdicts = pool.accept([RelayedTransaction(transaction: better, peerID: 1, peer: "peer")]).verdicts
        #expect(verdicts == [.accepted(wtxid: better.wtxid, feeRate: MempoolPolicy.feeRate(fee: 40_000, bytes: better.encoded.count))])
        #expect(pool.entries().map(\.txid) == [better.txid])
    }
}
