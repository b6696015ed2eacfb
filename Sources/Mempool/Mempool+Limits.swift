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
        let relayMinimum = relayFeeRate(governed)
        guard rolling > 0 else { return relayMinimum }
        // Double(UInt64.max) is 2^64: anything at or past it saturates instead of trapping.
        let rounded = rolling >= Double(UInt64.max) ? UInt64.max : UInt64(rolling.rounded())
        return max(rounded, policy.incrementalRelayFeeRate, relayMinimum)
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
    /// Pops the persistent eviction order (Mempool+Index.swift): O(evicted x log pool).
    /// Call holding `admission`, not `lock`.
    @discardableResult
    func limitSize(time: UInt64) -> [MempoolEntry] {
        guard poolBytes > policy.maxPoolBytes else { return [] }
        let evicted = lock.withLock {
            var evicted = [MempoolEntry]()
            while poolBytes > policy.maxPoolBytes, let lowest = evictionQueue.pop() {
                guard isCurrent(lowest) else { continue }
                evicted += removeWithDescendants(lowest.txid, as: .removed, detail: Self.sizeLimitReason, time: time)
                raiseRollingMinimum(packageFee: lowest.package.fee, packageBytes: lowest.package.bytes)
            }
            return evicted
        }
        for entry in evicted { feeEstimator.removed(txid: entry.txid) }
        return evicted
    }

    /// Core's removal reason for evictions at the size limit (the lifecycle's `removed` rule).
    public static let sizeLimitReason = "sizelimit"

    /// `txid` with its in-pool descendants (the incremental totals). Call holding `admission` or `lock`.
    func descendantPackage(of txid: Hash256) -> Package {
        descendantTotals[txid] ?? Package(fee: 0, bytes: 0, count: 0)
    }

    // MARK: Expiry

    /// Removes entries that entered more than `policy.expirySeconds` before `time`, with their
    /// descendants (Core's Expire), as `expired`. Pops the expiry order (Mempool+Index.swift):
    /// O(expired x log pool), so acceptance may call it every batch. Call holding `admission`, not `lock`.
    @discardableResult
    func expire(time: UInt64) -> [MempoolEntry] {
        guard time > policy.expirySeconds else { return [] }
        let cutoff = time - policy.expirySeconds
        let expired = lock.withLock {
            var expired = [MempoolEntry]()
            while let oldest = expiryQueue.peek(), oldest.time < cutoff {
                _ = expiryQueue.pop()
                guard pool[oldest.txid] != nil, arrival[oldest.txid] == oldest.arrival else { continue }
                expired += removeWithDescendants(oldest.txid, as: .expired, detail: Self.expiryReason, time: time)
            }
            return expired
        }
        for entry in expired { feeEstimator.removed(txid: entry.txid) }
        return expired
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
