// The pool's size limit and expiry: Bitcoin Core's rolling minimum fee (raised by evictions,
// decaying once blocks arrive), eviction of the lowest descendant-score packages past the
// byte bound, and removal of entries older than the expiry.

import Foundation
import Primitives

extension Mempool {
    // MARK: The rolling minimum fee

    /// The fee rate (per 1,000 bytes) a transaction must pay to enter now: the relay minimum,
    /// raised while evictions are recent (Core's CTxMemPool::GetMinFee, with -minrelaytxfee as
    /// the floor). Commits the decay, as Core does. Call holding `admission`, not `lock`.
    func currentMinimumFeeRate(time: UInt64) -> UInt64 {
        let decayed = decayedRollingMinimum(time: time)
        if decayed.changed {
            lock.withLock {
                rollingMinimumFeeRate = decayed.rate
                lastRollingFeeUpdate = time
            }
        }
        return minimumFeeRate(rolling: decayed.rate)
    }

    /// The pool's minimum fee rate now (getmempoolinfo's `mempoolminfee`, the `feefilter`
    /// sent to peers). Reads under `lock` alone, so it never waits behind an admission, and
    /// commits nothing (the next admission or block commits the same decay).
    public func mempoolMinimumFeeRate() -> UInt64 {
        let time = now()
        return lock.withLock { minimumFeeRate(rolling: decayedRollingMinimum(time: time).rate) }
    }

    /// Core's decay of the rolling minimum: none until a block arrived after the last raise,
    /// then halving every `minimumFeeHalfLifeSeconds` (a quarter of that while the pool is under
    /// a quarter of its bound, half under half), checked at most every 10 seconds; below half
    /// the incremental relay fee it drops to 0. Reads the fields: hold `admission` or `lock`.
    func decayedRollingMinimum(time: UInt64) -> (rate: Double, changed: Bool) {
        guard blockSinceLastRollingFeeBump, rollingMinimumFeeRate > 0,
              time >= lastRollingFeeUpdate, time - lastRollingFeeUpdate > Self.rollingFeeUpdateInterval else {
            return (rollingMinimumFeeRate, false)
        }
        var halfLife = Double(max(1, policy.minimumFeeHalfLifeSeconds))
        if poolBytes < policy.maxPoolBytes / 4 {
            halfLife /= 4
        } else if poolBytes < policy.maxPoolBytes / 2 {
            halfLife /= 2
        }
        let rate = rollingMinimumFeeRate / pow(2, Double(time - lastRollingFeeUpdate) / halfLife)
        return (rate < Double(policy.incrementalRelayFeeRate) / 2 ? 0 : rate, true)
    }

    /// Seconds between two commits of the decay (Core: 10).
    static let rollingFeeUpdateInterval: UInt64 = 10

    /// The rolling rate as an entry requirement: while it is raised, at least the incremental
    /// relay fee (Core's GetMinFee), and never below the relay minimum.
    private func minimumFeeRate(rolling: Double) -> UInt64 {
        guard rolling > 0 else { return policy.minRelayFeeRate }
        // Double(UInt64.max) is 2^64: anything at or past it saturates instead of trapping.
        let rounded = rolling >= Double(UInt64.max) ? UInt64.max : UInt64(rolling.rounded())
        return max(rounded, policy.incrementalRelayFeeRate, policy.minRelayFeeRate)
    }

    /// An evicted package's rate plus the incremental relay fee becomes the minimum, when higher
    /// (Core's trackPackageRemoved). Call holding `admission` and `lock`.
    private func raiseRollingMinimum(packageFee: UInt64, packageBytes: Int) {
        let (raised, overflow) = MempoolPolicy.feeRate(fee: packageFee, bytes: packageBytes)
            .addingReportingOverflow(policy.incrementalRelayFeeRate)
        let rate = Double(overflow ? UInt64.max : raised)
        if rate > rollingMinimumFeeRate {
            rollingMinimumFeeRate = rate
            blockSinceLastRollingFeeBump = false
        }
    }

    // MARK: The size limit

    /// While the pool is past `policy.maxPoolBytes`, evicts the package (a transaction and its
    /// descendants) with the lowest descendant score, Core's TrimToSize: the higher of the
    /// transaction's own fee rate and its package's. Each eviction raises the rolling minimum
    /// to the package's rate plus the incremental relay fee. Returns the evicted entries.
    /// Scores the pool once per call (O(pool log pool)); evictions rescore only the ancestors
    /// of what left. Call holding `admission`, not `lock`.
    @discardableResult
    func limitSize(time: UInt64) -> [MempoolEntry] {
        guard poolBytes > policy.maxPoolBytes else { return [] }
        return lock.withLock {
            var current = [Hash256: Package]()
            var heap = Heap<EvictionCandidate>()
            for txid in pool.keys {
                let package = descendantPackage(of: txid)
                current[txid] = package
                heap.push(candidate(txid, package))
            }
            var evicted = [MempoolEntry]()
            while poolBytes > policy.maxPoolBytes, let lowest = heap.pop() {
                // A stale score (the entry left, or lost descendants since it was scored).
                guard let package = current[lowest.txid], package == lowest.package, pool[lowest.txid] != nil else { continue }
                let removed = removeWithDescendants(lowest.txid, as: .removed, detail: Self.sizeLimitReason, time: time)
                raiseRollingMinimum(packageFee: package.fee, packageBytes: package.bytes)
                let removedTxids = Set(removed.map(\.txid))
                var touched = Set<Hash256>()
                for entry in removed {
                    current[entry.txid] = nil
                    feeEstimator.removed(txid: entry.txid)
                    for parent in entry.depends where !removedTxids.contains(parent) {
                        touched.formUnion(ancestorOrder(of: parent, excluding: touched))
                    }
                }
                // Their packages shrank: score them again (the old heap items turn stale).
                for txid in touched where pool[txid] != nil {
                    let package = descendantPackage(of: txid)
                    current[txid] = package
                    heap.push(candidate(txid, package))
                }
                evicted += removed
            }
            return evicted
        }
    }

    /// Core's removal reason for evictions at the size limit (the lifecycle's `removed` rule).
    public static let sizeLimitReason = "sizelimit"

    /// A transaction with its in-pool descendants: total fees and bytes.
    struct Package: Equatable {
        var fee: UInt64
        var bytes: Int
    }

    /// `txid` with its in-pool descendants. Call holding `admission` or `lock`.
    func descendantPackage(of txid: Hash256) -> Package {
        guard let entry = pool[txid] else { return Package(fee: 0, bytes: 0) }
        // Most entries have no children: no walk.
        guard children[txid]?.isEmpty == false else { return Package(fee: entry.fee.baseUnits, bytes: entry.size) }
        var package = Package(fee: 0, bytes: 0)
        for member in descendantSet(of: txid) {
            guard let entry = pool[member] else { continue }
            package.fee += entry.fee.baseUnits
            package.bytes += entry.size
        }
        return package
    }

    private func candidate(_ txid: Hash256, _ package: Package) -> EvictionCandidate {
        let entry = pool[txid]
        let own = (fee: entry?.fee.baseUnits ?? 0, bytes: entry?.size ?? 0)
        // The score is the higher of the two rates (compared by cross products, exactly).
        let ownIsHigher = UInt128(own.fee) * UInt128(package.bytes) > UInt128(package.fee) * UInt128(own.bytes)
        let score = ownIsHigher ? own : (fee: package.fee, bytes: package.bytes)
        return EvictionCandidate(txid: txid, package: package, scoreFee: score.fee, scoreBytes: score.bytes,
                                 arrival: arrival[txid] ?? 0)
    }

    /// A package in the eviction heap (a max-heap): greater means evicted sooner, so a lower
    /// descendant score is greater, and among equal scores the later arrival (Core evicts the
    /// newer entry first).
    struct EvictionCandidate: Comparable {
        var txid: Hash256
        var package: Package
        var scoreFee: UInt64
        var scoreBytes: Int
        var arrival: UInt64

        static func < (lhs: EvictionCandidate, rhs: EvictionCandidate) -> Bool {
            let left = UInt128(lhs.scoreFee) * UInt128(max(1, rhs.scoreBytes))
            let right = UInt128(rhs.scoreFee) * UInt128(max(1, lhs.scoreBytes))
            if left != right { return left > right }
            return lhs.arrival < rhs.arrival
        }

        static func == (lhs: EvictionCandidate, rhs: EvictionCandidate) -> Bool { !(lhs < rhs) && !(rhs < lhs) }
    }

    // MARK: Expiry

    /// Removes entries that entered more than `policy.expirySeconds` before `time`, with their
    /// descendants (Core's Expire), as `expired`. Call holding `admission`, not `lock`.
    @discardableResult
    func expire(time: UInt64) -> [MempoolEntry] {
        guard time > policy.expirySeconds else { return [] }
        let cutoff = time - policy.expirySeconds
        let old = pool.values.filter { $0.time < cutoff }
        guard !old.isEmpty else { return [] }
        return lock.withLock {
            var expired = [MempoolEntry]()
            // Parents first, so a child leaves with its parent rather than on its own.
            for entry in old.sorted(by: { (arrival[$0.txid] ?? 0) < (arrival[$1.txid] ?? 0) }) where pool[entry.txid] != nil {
                expired += removeWithDescendants(entry.txid, as: .expired, detail: Self.expiryReason, time: time)
            }
            for entry in expired { feeEstimator.removed(txid: entry.txid) }
            return expired
        }
    }

    /// Core's removal reason for expiry.
    public static let expiryReason = "expiry"

    /// Expires old entries now (the daemon's periodic timer; tip events also expire).
    /// Returns how many entries left.
    @discardableResult
    public func expireNow() -> Int {
        admission.withLock { expire(time: now()).count }
    }
}
