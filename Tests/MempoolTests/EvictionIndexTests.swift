import Foundation
@testable import Mempool
import Primitives
import TestSupport
import Testing

/// The incremental indexes (descendant totals, eviction and expiry orders) against a
/// brute-force model: a random pool of synthetic entries (a DAG of in-pool parents), built,
/// trimmed and expired, must agree with totals summed from scratch and victims chosen by
/// scoring every entry.
@Suite(.serialized)
struct EvictionIndexTests {
    /// A synthetic pool: entries in arrival order, each spending outputs of its parents.
    struct Model {
        var entries: [Hash256: MempoolEntry] = [:] {
            didSet { childMap = nil }
        }
        var arrival: [Hash256: Int] = [:]
        /// Children by parent, derived from `entries` (rebuilt after a change).
        private var childMap: [Hash256: [Hash256]]?

        mutating func prepare() {
            guard childMap == nil else { return }
            var map = [Hash256: [Hash256]]()
            for entry in entries.values { for parent in entry.depends where entries[parent] != nil { map[parent, default: []].append(entry.txid) } }
            childMap = map
        }

        func children(of txid: Hash256) -> [Hash256] {
            childMap.map { $0[txid] ?? [] } ?? entries.values.filter { $0.depends.contains(txid) }.map(\.txid)
        }

        func descendants(of txid: Hash256) -> Set<Hash256> {
            var found: Set<Hash256> = [txid], queue = [txid]
            while let next = queue.popLast() {
                for child in children(of: next) where found.insert(child).inserted { queue.append(child) }
            }
            return found
        }

        func totals(of txid: Hash256) -> (fee: UInt64, bytes: Int, count: Int) {
            descendants(of: txid).reduce((0, 0, 0)) { sum, member in
                let entry = entries[member]!
                return (sum.0 + entry.fee.baseUnits, sum.1 + entry.size, sum.2 + 1)
            }
        }

        var bytes: Int { entries.values.reduce(0) { $0 + $1.size } }

        /// Core's victim: the lowest max(own rate, descendant package rate); ties: the later arrival.
        mutating func victim() -> Hash256? {
            prepare()
            var best: (txid: Hash256, fee: UInt64, bytes: Int)?
            for entry in entries.values {
                let package = totals(of: entry.txid)
                let ownHigher = UInt128(entry.fee.baseUnits) * UInt128(package.bytes) > UInt128(package.fee) * UInt128(entry.size)
                let score = ownHigher ? (entry.fee.baseUnits, entry.size) : (package.fee, package.bytes)
                guard let current = best else { best = (entry.txid, score.0, score.1); continue }
                let left = UInt128(score.0) * UInt128(current.bytes), right = UInt128(current.fee) * UInt128(score.1)
                if left < right || (left == right && arrival[entry.txid]! > arrival[current.txid]!) {
                    best = (entry.txid, score.0, score.1)
                }
            }
            return best?.txid
        }

        /// Removes `txid` with its descendants, returned by arrival.
        mutating func removeWithDescendants(_ txid: Hash256) -> [Hash256] {
            let members = descendants(of: txid).sorted { arrival[$0]! < arrival[$1]! }
            for member in members { entries[member] = nil }
            return members
        }
    }

    static func randomHash(_ generator: inout SeededGenerator) -> Hash256 {
        Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    /// `count` entries, each with up to three in-pool parents among the recent ones; random
    /// fees, sizes and (not monotonic) entry times.
    static func randomEntries(count: Int, seed: UInt64) -> [MempoolEntry] {
        var generator = SeededGenerator(seed: seed)
        var entries = [MempoolEntry]()
        for _ in 0..<count {
            let txid = randomHash(&generator)
            var parents = [Hash256]()
            if !entries.isEmpty {
                for _ in 0..<Int.random(in: 0...3, using: &generator) {
                    let parent = entries[Int.random(in: max(0, entries.count - 40)..<entries.count, using: &generator)].txid
                    if !parents.contains(parent) { parents.append(parent) }
                }
            }
            // Each child spends its own output of each parent (index: the child's position).
            var inputs = parents.map { TxIn(previousOutput: OutPoint(txid: $0, index: UInt32(entries.count))) }
            inputs.append(TxIn(previousOutput: OutPoint(txid: randomHash(&generator), index: 0)))
            let transaction = Transaction(inputs: inputs, outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [])])
            let size = Int.random(in: 150...4_000, using: &generator)
            let fee = Amount(baseUnits: UInt64.random(in: 100...200_000, using: &generator))!
            let time = SizeLimitTests.start + UInt64.random(in: 0...1_000, using: &generator)
            entries.append(MempoolEntry(transaction: transaction, txid: txid, wtxid: txid, size: size, fee: fee, time: time, height: 1,
                                        depends: parents))
        }
        return entries
    }

    static func pool(maxPoolBytes: Int, expirySeconds: UInt64 = 1_000_000, _ entries: [MempoolEntry]) throws
        -> (Mempool, Model, TestChain) {
        let chain = try TestChain(blocks: 1)
        var policy = MempoolPolicy()
        policy.maxPoolBytes = maxPoolBytes
        policy.expirySeconds = expirySeconds
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, policy: policy, now: { SizeLimitTests.start })
        var model = Model()
        pool.admission.withLock { pool.lock.withLock { for entry in entries { pool.insert(entry) } } }
        for (position, entry) in entries.enumerated() {
            model.entries[entry.txid] = entry
            model.arrival[entry.txid] = position
        }
        return (pool, model, chain)
    }

    /// Every pooled entry's descendant totals equal the brute-force sums.
    static func expectTotalsMatch(_ pool: Mempool, _ model: Model) {
        var model = model
        model.prepare()
        #expect(pool.count == model.entries.count)
        for txid in model.entries.keys {
            let info = pool.packageInfo(txid: txid)
            let expected = model.totals(of: txid)
            #expect(info?.descendantFees == expected.fee && info?.descendantSize == expected.bytes && info?.descendantCount == expected.count)
        }
    }

    @Test("incremental descendant totals equal a from-scratch sum through inserts, removals and a confirmed parent", arguments: [1, 2, 3] as [UInt64])
    func totalsMatchRescore(seed: UInt64) throws {
        let entries = Self.randomEntries(count: 300, seed: seed)
        var (pool, model, _) = try Self.pool(maxPoolBytes: Int.max, entries)
        Self.expectTotalsMatch(pool, model)
        var generator = SeededGenerator(seed: seed &* 77)
        for _ in 0..<30 {
            let victim = model.entries.keys.sorted { model.arrival[$0]! < model.arrival[$1]! }.randomElement(using: &generator)!
            let removed = pool.admission.withLock {
                pool.lock.withLock { pool.removeWithDescendants(victim, as: .removed, detail: "test", time: SizeLimitTests.start) }
            }
            #expect(removed.map(\.txid) == model.removeWithDescendants(victim))
        }
        Self.expectTotalsMatch(pool, model)
        // A block confirms a root with children: they stay, now without that parent.
        let root = try #require(model.entries.values.filter { $0.depends.isEmpty && !model.children(of: $0.txid).isEmpty }
            .min { model.arrival[$0.txid]! < model.arrival[$1.txid]! })
        pool.admission.withLock { pool.lock.withLock { pool.removeEntry(root.txid) } }
        model.entries[root.txid] = nil
        for (txid, entry) in model.entries where entry.depends.contains(root.txid) {
            model.entries[txid]?.depends.removeAll { $0 == root.txid }
        }
        Self.expectTotalsMatch(pool, model)
    }

    @Test("a full pool evicts exactly the brute-force victims, in order, and stays consistent", arguments: [11, 12, 13] as [UInt64])
    func evictionMatchesBruteForce(seed: UInt64) throws {
        let entries = Self.randomEntries(count: 400, seed: seed)
        let total = entries.reduce(0) { $0 + $1.size }
        let bound = total * 2 / 3
        var (pool, model, _) = try Self.pool(maxPoolBytes: bound, entries)
        var expected = [Hash256]()
        while model.bytes > bound, let victim = model.victim() { expected += model.removeWithDescendants(victim) }
        let evicted = pool.admission.withLock { pool.limitSize(time: SizeLimitTests.start) }.map(\.txid)
        #expect(evicted == expected)
        #expect(pool.bytes == model.bytes && pool.bytes <= bound)
        Self.expectTotalsMatch(pool, model)
        // The stale items left behind do not disturb the next trim: more entries arrive.
        let more = Self.randomEntries(count: 100, seed: seed &+ 1_000)
        pool.admission.withLock { pool.lock.withLock { for entry in more { pool.insert(entry) } } }
        for (position, entry) in more.enumerated() {
            model.entries[entry.txid] = entry
            model.arrival[entry.txid] = entries.count + position
        }
        expected = []
        while model.bytes > bound, let victim = model.victim() { expected += model.removeWithDescendants(victim) }
        #expect(!expected.isEmpty)
        #expect(pool.admission.withLock { pool.limitSize(time: SizeLimitTests.start) }.map(\.txid) == expected)
        Self.expectTotalsMatch(pool, model)
    }

    @Test("expiry through the time index removes exactly the old entries and their descendants", arguments: [21, 22] as [UInt64])
    func expiryMatchesBruteForce(seed: UInt64) throws {
        let entries = Self.randomEntries(count: 300, seed: seed)
        let expiry: UInt64 = 600
        var (pool, model, _) = try Self.pool(maxPoolBytes: Int.max, expirySeconds: expiry, entries)
        let time = SizeLimitTests.start + 1_000
        var expected = Set<Hash256>()
        model.prepare()
        for entry in entries where entry.time < time - expiry { expected.formUnion(model.descendants(of: entry.txid)) }
        let expired = pool.admission.withLock { pool.expire(time: time) }.map(\.txid)
        #expect(Set(expired) == expected && expired.count == expected.count)
        for txid in expected { model.entries[txid] = nil }
        Self.expectTotalsMatch(pool, model)
        #expect(model.entries.values.allSatisfy { $0.time >= time - expiry })
        // Nothing left is old enough: a second pass removes nothing.
        #expect(pool.admission.withLock { pool.expire(time: time) }.isEmpty)
    }

    @Test("a reorganisation's disconnected transactions are bounded by bytes: the highest blocks' last ones go first")
    func disconnectedByteBound() {
        func transaction(_ tag: UInt8) -> Transaction {
            Transaction(inputs: [TxIn(previousOutput: OutPoint(txid: Hash256(bytes: [UInt8](repeating: tag, count: 32))!, index: 0))],
                        outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [])], witnesses: [[]])
        }
        let size = transaction(0).encoded.count
        var set = DisconnectedTransactions(maxBytes: size * 4)
        // Disconnected tip first: block 3 (tags 30, 31), block 2 (20, 21), block 1 (10, 11).
        #expect(set.add(blockTransactions: [transaction(30), transaction(31)]).isEmpty)
        #expect(set.add(blockTransactions: [transaction(20), transaction(21)]).isEmpty)
        let dropped = set.add(blockTransactions: [transaction(10), transaction(11)])
        #expect(dropped.map(\.txid) == [transaction(31).txid, transaction(30).txid])
        #expect(set.bytes == size * 4)
        set.remove(confirmed: [transaction(21).txid])
        #expect(set.bytes == size * 3)
        #expect(set.takeAll().map(\.txid) == [10, 11, 20].map { transaction($0).txid })
        #expect(set.isEmpty && set.bytes == 0)
    }
}
