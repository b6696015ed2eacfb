// The pool's incremental indexes (Bitcoin Core's mapTx orderings): per entry, the totals of
// it and its in-pool descendants; the eviction order by descendant score; the expiry order by
// entry time. Both orders are heaps with lazy invalidation: a changed entry gets a new item,
// and an item that no longer matches the entry is skipped when it reaches the top.

import Primitives

extension Mempool {
    /// A transaction with its in-pool descendants: total fees, bytes and count (itself included).
    struct Package: Equatable, Sendable {
        var fee: UInt64
        var bytes: Int
        var count = 1
    }

    /// An entry's place in the eviction order (a min-heap): less means evicted sooner, so a
    /// lower descendant score is less, and among equal scores the later arrival (Core evicts
    /// the newer entry first). Stale once `package` or `arrival` no longer match the entry.
    struct EvictionCandidate: Comparable, Sendable {
        var txid: Hash256
        var package: Package
        var scoreFee: UInt64
        var scoreBytes: Int
        var arrival: UInt64

        static func < (lhs: EvictionCandidate, rhs: EvictionCandidate) -> Bool {
            let left = UInt128(lhs.scoreFee) * UInt128(max(1, rhs.scoreBytes))
            let right = UInt128(rhs.scoreFee) * UInt128(max(1, lhs.scoreBytes))
            if left != right { return left < right }
            return lhs.arrival > rhs.arrival
        }

        static func == (lhs: EvictionCandidate, rhs: EvictionCandidate) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
    }

    /// An entry's place in the expiry order: earliest entry time first, then arrival. Stale
    /// once the entry left (or came back with another arrival).
    struct EntryExpiry: Comparable, Sendable {
        var time: UInt64
        var arrival: UInt64
        var txid: Hash256

        static func < (lhs: EntryExpiry, rhs: EntryExpiry) -> Bool {
            lhs.time != rhs.time ? lhs.time < rhs.time : lhs.arrival < rhs.arrival
        }
    }

    /// Stale heap items allowed beyond the live ones before a heap is rebuilt from scratch.
    static let staleIndexSlack = 1_024

    /// Called by `insert` once `entry` is in the maps: it joins its in-pool ancestors'
    /// descendant totals (at most the ancestor limit of them). Call holding `lock`.
    func indexInserted(_ entry: MempoolEntry) {
        let txid = entry.txid
        // An entry normally enters before its children; sum any already present.
        descendantTotals[txid] = children[txid]?.isEmpty == false
            ? summedDescendants(of: txid) : Package(fee: entry.fee.baseUnits, bytes: entry.size)
        pushEvictionCandidate(txid)
        for ancestor in ancestorOrder(of: txid, excluding: []) where ancestor != txid {
            guard var totals = descendantTotals[ancestor] else { continue }
            totals.fee &+= entry.fee.baseUnits
            totals.bytes += entry.size
            totals.count += 1
            descendantTotals[ancestor] = totals
            pushEvictionCandidate(ancestor)
        }
        expiryQueue.push(EntryExpiry(time: entry.time, arrival: arrival[txid] ?? 0, txid: txid))
        if expiryQueue.count > 2 * pool.count + Self.staleIndexSlack { rebuildExpiryQueue() }
    }

    /// Called by `removeEntry` while `entry` is still in the maps: its ancestors' totals lose
    /// it. When it still has in-pool children (a confirmed parent), the ancestors no longer
    /// reach them through it: their totals are summed again (rare: a block confirms parents
    /// before children, so a confirmed entry has no pooled ancestors). Call holding `lock`.
    func indexRemoving(_ entry: MempoolEntry) {
        let txid = entry.txid
        let ancestors = ancestorOrder(of: txid, excluding: []).filter { $0 != txid }
        let keepsChildren = children[txid]?.isEmpty == false
        descendantTotals[txid] = nil
        guard !ancestors.isEmpty else { return }
        if keepsChildren {
            // Summed once the entry is gone (the caller removes it right after).
            pendingRescore.formUnion(ancestors)
            return
        }
        for ancestor in ancestors {
            guard var totals = descendantTotals[ancestor] else { continue }
            totals.fee &-= entry.fee.baseUnits
            totals.bytes -= entry.size
            totals.count -= 1
            descendantTotals[ancestor] = totals
            pushEvictionCandidate(ancestor)
        }
    }

    /// Sums again the totals of ancestors whose descendants `indexRemoving` could not
    /// subtract. Call holding `lock`, after the removal.
    func rescorePending() {
        guard !pendingRescore.isEmpty else { return }
        for txid in pendingRescore where pool[txid] != nil {
            descendantTotals[txid] = summedDescendants(of: txid)
            pushEvictionCandidate(txid)
        }
        pendingRescore.removeAll()
    }

    /// `txid` with its in-pool descendants, summed by a walk.
    func summedDescendants(of txid: Hash256) -> Package {
        var package = Package(fee: 0, bytes: 0, count: 0)
        for member in descendantSet(of: txid) {
            guard let entry = pool[member] else { continue }
            package.fee &+= entry.fee.baseUnits
            package.bytes += entry.size
            package.count += 1
        }
        return package
    }

    /// Queues `txid` at its current score (earlier items for it turn stale).
    func pushEvictionCandidate(_ txid: Hash256) {
        guard let entry = pool[txid], let package = descendantTotals[txid] else { return }
        evictionQueue.push(Self.evictionCandidate(entry, package: package, arrival: arrival[txid] ?? 0))
        if evictionQueue.count > 2 * pool.count + Self.staleIndexSlack { rebuildEvictionQueue() }
    }

    /// Core's descendant score: the higher of the entry's own fee rate and its package's
    /// (compared by cross products, exactly).
    static func evictionCandidate(_ entry: MempoolEntry, package: Package, arrival: UInt64) -> EvictionCandidate {
        let own = (fee: entry.fee.baseUnits, bytes: entry.size)
        let ownIsHigher = UInt128(own.fee) * UInt128(package.bytes) > UInt128(package.fee) * UInt128(own.bytes)
        let score = ownIsHigher ? own : (fee: package.fee, bytes: package.bytes)
        return EvictionCandidate(txid: entry.txid, package: package, scoreFee: score.fee, scoreBytes: score.bytes, arrival: arrival)
    }

    /// Whether `candidate` still describes its entry.
    func isCurrent(_ candidate: EvictionCandidate) -> Bool {
        pool[candidate.txid] != nil && descendantTotals[candidate.txid] == candidate.package && arrival[candidate.txid] == candidate.arrival
    }

    func rebuildEvictionQueue() {
        evictionQueue = MinHeap(pool.values.compactMap { entry in
            descendantTotals[entry.txid].map { Self.evictionCandidate(entry, package: $0, arrival: arrival[entry.txid] ?? 0) }
        })
    }

    func rebuildExpiryQueue() {
        expiryQueue = MinHeap(pool.values.map { EntryExpiry(time: $0.time, arrival: arrival[$0.txid] ?? 0, txid: $0.txid) })
    }

    /// Empties every index (a reorganisation empties the pool at once). Call holding `lock`.
    func resetIndexes() {
        descendantTotals = [:]
        evictionQueue = MinHeap()
        expiryQueue = MinHeap()
        pendingRescore = []
    }
}
