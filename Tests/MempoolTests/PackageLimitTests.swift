import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Mempool
import Primitives
import Testing

/// Bitcoin Core's package limits (too-long-mempool-chain): ancestors and descendants, by
/// count and by size, each at its limit and one past it; in a batch; with a replacement.
@Suite(.serialized)
struct PackageLimitTests {
    static func pool(_ chain: TestChain, _ configure: (inout MempoolPolicy) -> Void) -> Mempool {
        var policy = MempoolPolicy()
        configure(&policy)
        return Mempool(chain: chain.chain, parameters: chain.parameters, policy: policy)
    }

    /// A chain of `length` transactions, each spending the previous one's first output.
    static func chainOfSpends(_ chain: TestChain, from coin: (OutPoint, TxOut), length: Int) -> [Transaction] {
        var transactions = [Transaction]()
        var previous = coin
        for _ in 0..<length {
            let next = chain.payment(previous, fee: 10_000)
            transactions.append(next)
            previous = TestChain.output(next, 0)
        }
        return transactions
    }

    @Test("ancestor count: a transaction with maxAncestors - 1 unconfirmed ancestors enters; one more is refused")
    func ancestorCount() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Self.pool(chain) { $0.maxAncestors = 4 }
        let spends = Self.chainOfSpends(chain, from: chain.coinbase(height: 1), length: 5)
        for transaction in spends.prefix(4) { #expect(pool.submit(transaction, source: "test").entry != nil) }
        let refused = pool.submit(spends[4], source: "test")
        #expect(refused.rule == "too-long-mempool-chain" && refused.rejection?.detail == "too many unconfirmed ancestors [limit: 4]")
        #expect(pool.count == 4)
    }

    @Test("ancestor size: a package of exactly maxAncestorBytes enters; one byte less of limit refuses it")
    func ancestorSize() throws {
        let chain = try TestChain(blocks: 105)
        let spends = Self.chainOfSpends(chain, from: chain.coinbase(height: 1), length: 3)
        let total = spends.reduce(0) { $0 + $1.encoded.count }
        let tight = Self.pool(chain) { $0.maxAncestorBytes = total - 1 }
        for transaction in spends.prefix(2) { #expect(tight.submit(transaction, source: "test").entry != nil) }
        let refused = tight.submit(spends[2], source: "test")
        #expect(refused.rule == "too-long-mempool-chain" && refused.rejection?.detail == "exceeds ancestor size limit [limit: \(total - 1)]")
        let exact = Self.pool(chain) { $0.maxAncestorBytes = total }
        #expect(exact.submit(batch: spends, source: "test").allSatisfy { $0.entry != nil })
    }

    @Test("descendant count: a parent with maxDescendants - 1 descendants takes no more, naming the parent")
    func descendantCount() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Self.pool(chain) { $0.maxDescendants = 3 }
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000, outputs: 3)
        let children = (0..<3).map { chain.payment(TestChain.output(parent, $0), fee: 10_000) }
        let results = pool.submit(batch: [parent] + children, source: "test")
        #expect(results.prefix(3).allSatisfy { $0.entry != nil })
        #expect(results[3].rule == "too-long-mempool-chain")
        #expect(results[3].rejection?.detail == "too many descendants for tx \(parent.txid.hex) [limit: 3]")
        #expect(pool.count == 3)
    }

    @Test("descendant size: exactly maxDescendantBytes enters; past it is refused, naming the ancestor")
    func descendantSize() throws {
        let chain = try TestChain(blocks: 105)
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000, outputs: 2)
        let children = (0..<2).map { chain.payment(TestChain.output(parent, $0), fee: 10_000) }
        let total = ([parent] + children).reduce(0) { $0 + $1.encoded.count }
        let tight = Self.pool(chain) { $0.maxDescendantBytes = total - 1 }
        let results = tight.submit(batch: [parent] + children, source: "test")
        #expect(results[0].entry != nil && results[1].entry != nil)
        #expect(results[2].rejection?.detail == "exceeds descendant size limit for tx \(parent.txid.hex) [limit: \(total - 1)]")
        let exact = Self.pool(chain) { $0.maxDescendantBytes = total }
        #expect(exact.submit(batch: [parent] + children, source: "test").allSatisfy { $0.entry != nil })
    }

    @Test("a grandchild counts against every ancestor's descendants")
    func grandchildCountsForEveryAncestor() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Self.pool(chain) { $0.maxDescendants = 3 }
        let spends = Self.chainOfSpends(chain, from: chain.coinbase(height: 1), length: 4)
        for transaction in spends.prefix(3) { #expect(pool.submit(transaction, source: "test").entry != nil) }
        let refused = pool.submit(spends[3], source: "test")
        #expect(refused.rejection?.detail == "too many descendants for tx \(spends[0].txid.hex) [limit: 3]")
    }

    @Test("what a replacement evicts does not count against the limits")
    func replacementFreesItsPlace() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Self.pool(chain) { $0.maxDescendants = 3 }
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000, outputs: 3)
        let first = chain.payment(TestChain.output(parent, 0), fee: 10_000)
        let second = chain.payment(TestChain.output(parent, 1), fee: 10_000)
        #expect(pool.submit(batch: [parent, first, second], source: "test").allSatisfy { $0.entry != nil })
        // Replaces `second` and also spends the parent's third output: the parent keeps 3 in its package.
        let replacement = chain.spend([TestChain.output(parent, 1), TestChain.output(parent, 2)],
                                      to: [chain.pay(parent.outputs[1].value.baseUnits * 2 - 100_000)])
        #expect(pool.submit(replacement, source: "test").entry != nil)
        #expect(Set(pool.entries().map(\.txid)) == [parent.txid, first.txid, replacement.txid])
    }
}
