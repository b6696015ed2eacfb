import Foundation
import Mempool
import Primitives
import Testing

/// Package statistics (getmempoolentry's ancestor and descendant counts, sizes and fees).
@Suite(.serialized)
struct PackageInfoTests {
    static let value = SizeLimitTests.value

    @Test("a diamond: each transaction's ancestor and descendant sets, itself included")
    func diamond() throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        // root -> left, right -> join (spends both); `other` is unrelated.
        let half = Self.value / 2
        let root = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(half), chain.pay(half - 10_000)])
        let left = chain.spend([TestChain.output(root, 0)], to: [chain.pay(half - 20_000)])
        let right = chain.spend([TestChain.output(root, 1)], to: [chain.pay(half - 10_000 - 30_000)])
        let join = chain.spend([TestChain.output(left, 0), TestChain.output(right, 0)], to: [chain.pay(2 * half - 10_000 - 50_000 - 40_000)])
        let other = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.value - 5_000)])
        var entries = [Hash256: MempoolEntry]()
        for transaction in [root, left, right, join, other] {
            let entry = try #require(pool.submit(transaction, source: "test").entry)
            entries[transaction.txid] = entry
        }
        #expect([root, left, right, join, other].map { entries[$0.txid]!.fee.baseUnits } == [10_000, 20_000, 30_000, 40_000, 5_000])

        func expected(ancestors: [Transaction], descendants: [Transaction]) -> MempoolPackageInfo {
            var info = MempoolPackageInfo()
            info.ancestorCount = ancestors.count
            info.ancestorSize = ancestors.reduce(0) { $0 + $1.encoded.count }
            info.ancestorFees = ancestors.reduce(0) { $0 + entries[$1.txid]!.fee.baseUnits }
            info.descendantCount = descendants.count
            info.descendantSize = descendants.reduce(0) { $0 + $1.encoded.count }
            info.descendantFees = descendants.reduce(0) { $0 + entries[$1.txid]!.fee.baseUnits }
            return info
        }
        #expect(pool.packageInfo(txid: root.txid) == expected(ancestors: [root], descendants: [root, left, right, join]))
        #expect(pool.packageInfo(txid: left.txid) == expected(ancestors: [root, left], descendants: [left, join]))
        #expect(pool.packageInfo(txid: right.txid) == expected(ancestors: [root, right], descendants: [right, join]))
        // The shared root counts once.
        #expect(pool.packageInfo(txid: join.txid) == expected(ancestors: [root, left, right, join], descendants: [join]))
        #expect(pool.packageInfo(txid: other.txid) == expected(ancestors: [other], descendants: [other]))
        #expect(pool.packageInfo(txid: join.txid)?.ancestorFees == 100_000)
        #expect(pool.packageInfo(txid: root.txid)?.descendantFees == 100_000)
        #expect(pool.packageInfo(txid: Hash256(bytes: [UInt8](repeating: 3, count: 32))!) == nil)
    }

    @Test("a confirmed parent leaves its child's package")
    func confirmedParentLeaves() async throws {
        let chain = try TestChain(blocks: MempoolTests.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        pool.start()
        defer { pool.stop() }
        let parent = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.value - 10_000)])
        let child = chain.spend([TestChain.output(parent, 0)], to: [chain.pay(Self.value - 30_000)])
        #expect(pool.submit(parent, source: "test").entry != nil && pool.submit(child, source: "test").entry != nil)
        #expect(pool.packageInfo(txid: child.txid)?.ancestorCount == 2)
        try chain.mine([parent])
        try await chain.waitUntilSynced(pool)
        let info = try #require(pool.packageInfo(txid: child.txid))
        #expect(info.ancestorCount == 1 && info.ancestorFees == 20_000 && info.ancestorSize == child.encoded.count)
        #expect(pool.packageInfo(txid: parent.txid) == nil)
    }
}
