// Fee estimation from the blocks (Bitcoin Core's CBlockPolicyEstimator as the anchor): the
// pool reports the transactions it takes in, the best chain's blocks say which confirmed and
// how fast, and `estimate` answers estimatesmartfee. The statistics are in
// FeeEstimatorStats.swift, fee_estimates.dat in FeeEstimator+File.swift.

import Foundation
import Primitives

/// A fee rate (base units per 1,000 bytes) expected to confirm within `blocks` blocks.
public struct FeeEstimate: Sendable, Equatable {
    public var feeRate: UInt64
    public var blocks: Int

    public init(feeRate: UInt64, blocks: Int) {
        self.feeRate = feeRate
        self.blocks = blocks
    }
}

/// Learns from the blocks which fee rates confirm how fast (Bitcoin Core's estimator as the
/// anchor). Thread-safe.
public final class FeeEstimator: @unchecked Sendable {
    /// The largest confirmation target answered.
    public static let maxTarget = 1_008

    /// Success rates (Bitcoin Core's): half the target at 60%, the target at 85%, twice the
    /// target at 95%.
    static let halfSuccessRate = 0.6
    static let successRate = 0.85
    static let doubleSuccessRate = 0.95
    /// A saved history older than this many blocks no longer vouches for long targets.
    static let oldestUsableHistory: UInt64 = 6 * 1_008

    /// A transaction being watched: its bucket, fee rate and the height it entered at.
    struct Tracked {
        var bucket: Int
        var feeRate: Double
        var height: UInt64
    }

    let lock = NSLock()
    /// Short, medium and long horizons (12, 48 and 1,008 blocks).
    var horizons = ConfirmationStats.horizons()
    var tracked: [Hash256: Tracked] = [:]
    /// Watched transactions by entry height, to forget those older than `maxTarget` blocks.
    var trackedByHeight: [UInt64: Set<Hash256>] = [:]
    /// [entry height % maxTarget][bucket]: watched transactions still waiting.
    var waiting: [[Int32]]
    /// The best block seen (0: none yet) and the first block that confirmed a watched
    /// transaction in this run (0: none).
    var bestSeenHeight: UInt64 = 0
    var firstRecordedHeight: UInt64 = 0
    /// The span of blocks a loaded fee_estimates.dat had learnt from (0, 0: none).
    var historicalFirst: UInt64 = 0
    var historicalBest: UInt64 = 0
    /// Whether any count is non-zero (decaying zeros is skipped while a node syncs).
    var hasStatistics = false

    public init() {
        waiting = Array(repeating: Array(repeating: 0, count: FeeBuckets.count), count: Self.maxTarget)
    }

    /// A transaction entered the pool at chain height `height` (the tip then), with no
    /// unconfirmed parents (only those tell how fast a fee rate confirms on its own).
    /// Transactions entering on another tip than the last block seen are not watched (Bitcoin
    /// Core's habit: side chains and catching up say nothing about fee rates).
    public func entered(txid: Hash256, feeRate: UInt64, height: UInt64) {
        lock.withLock {
            guard tracked[txid] == nil else { return }
            if bestSeenHeight == 0 { bestSeenHeight = height }
            guard height == bestSeenHeight else { return }
            let bucket = FeeBuckets.index(of: feeRate)
            tracked[txid] = Tracked(bucket: bucket, feeRate: Double(feeRate), height: height)
            trackedByHeight[height, default: []].insert(txid)
            waiting[Self.slot(height)][bucket] += 1
        }
    }

    /// It left the pool other than by a block (replaced, expired, evicted, conflicted).
    public func removed(txid: Hash256) {
        lock.withLock { forget(txid, confirmed: false) }
    }

    /// A block of the best chain confirmed these transactions. Blocks at or below the best
    /// seen (a reorganisation) are ignored: counting them again would only add noise.
    public func blockConnected(height: UInt64, txids: [Hash256]) {
        lock.withLock {
            guard height > bestSeenHeight else { return }
            bestSeenHeight = height
            // Transactions that waited maxTarget blocks failed every target: forget them (and
            // free their slot of `waiting` for this height's entries).
            if height >= UInt64(Self.maxTarget) {
                let cutoff = height - UInt64(Self.maxTarget)
                for entryHeight in trackedByHeight.keys where entryHeight <= cutoff {
                    for txid in trackedByHeight[entryHeight] ?? [] { forget(txid, confirmed: false) }
                }
            }
            // Nothing learnt yet (a node syncing): nothing to decay.
            if hasStatistics {
                for index in horizons.indices { horizons[index].decayAll() }
            }
            var counted = false
            for txid in txids {
                guard let entry = tracked[txid], height > entry.height else { continue }
                forget(txid, confirmed: true)
                let blocks = Int(min(height - entry.height, UInt64(Int32.max)))
                for index in horizons.indices {
                    horizons[index].recordConfirmation(blocks: blocks, bucket: entry.bucket, feeRate: entry.feeRate)
                }
                counted = true
            }
            if counted { hasStatistics = true }
            if firstRecordedHeight == 0 && counted { firstRecordedHeight = height }
        }
    }

    /// The lowest fee rate expected to confirm within `targetBlocks` (1...maxTarget), and the
    /// target it answers for; nil without enough data. As bitcoind's estimatesmartfee: a
    /// target of 1 is answered for 2; a target beyond half the blocks observed is answered
    /// for that many; the answer is the highest of the half target at 60%, the target at
    /// 85% and twice the target at 95% (plus, when `conservative`, twice the target at 95%
    /// on the longer horizons).
    public func estimate(targetBlocks: Int, conservative: Bool) -> FeeEstimate? {
        lock.withLock {
            var target = min(max(targetBlocks, 1), Self.maxTarget)
            if target == 1 { target = 2 }
            target = min(target, maxUsableTarget)
            guard target > 1 else { return nil }
            var best: Double?
            func raise(_ value: Double?) {
                guard let value else { return }
                best = max(best ?? value, value)
            }
            raise(combined(target: target / 2, successRate: Self.halfSuccessRate, checkShorterHorizon: true))
            raise(combined(target: target, successRate: Self.successRate, checkShorterHorizon: true))
            raise(combined(target: 2 * target, successRate: Self.doubleSuccessRate, checkShorterHorizon: !conservative))
            if conservative || best == nil { raise(conservativeRate(doubleTarget: 2 * target)) }
            guard let best, best.isFinite, best >= 0 else { return nil }
            return FeeEstimate(feeRate: UInt64(min(best.rounded(), Double(UInt64.max / 2))), blocks: target)
        }
    }

    // MARK: Internals (holding `lock`)

    static func slot(_ height: UInt64) -> Int { Int(height % UInt64(maxTarget)) }

    /// Stops watching `txid`; a transaction leaving unconfirmed failed the targets it waited for.
    func forget(_ txid: Hash256, confirmed: Bool) {
        guard let entry = tracked.removeValue(forKey: txid) else { return }
        let slot = Self.slot(entry.height)
        trackedByHeight[entry.height]?.remove(txid)
        if trackedByHeight[entry.height]?.isEmpty == true { trackedByHeight[entry.height] = nil }
        if waiting[slot][entry.bucket] > 0 { waiting[slot][entry.bucket] -= 1 }
        guard !confirmed, bestSeenHeight > entry.height else { return }
        let blocks = Int(min(bestSeenHeight - entry.height, UInt64(Int32.max)))
        for index in horizons.indices { horizons[index].recordFailure(blocks: blocks, bucket: entry.bucket) }
        hasStatistics = true
    }

    /// The longest target the data can answer: half the blocks observed (this run, or the
    /// loaded history when it is recent and longer).
    var maxUsableTarget: Int {
        let span = firstRecordedHeight == 0 ? 0 : bestSeenHeight - firstRecordedHeight
        var historical: UInt64 = 0
        if historicalFirst != 0 && historicalBest >= historicalFirst
            && (bestSeenHeight <= historicalBest || bestSeenHeight - historicalBest <= Self.oldestUsableHistory) {
            historical = historicalBest - historicalFirst
        }
        return Int(min(UInt64(Self.maxTarget), max(span, historical) / 2))
    }

    /// Per bucket, the watched transactions that have waited `target` blocks or more.
    func waitingAtLeast(_ target: Int) -> [Double] {
        var result = Array(repeating: 0.0, count: FeeBuckets.count)
        guard bestSeenHeight > 0 else { return result }
        let oldest = Int(min(UInt64(Self.maxTarget - 1), bestSeenHeight))
        guard target <= oldest else { return result }
        for age in target...oldest {
            let row = waiting[Self.slot(bestSeenHeight - UInt64(age))]
            for bucket in row.indices where row[bucket] != 0 { result[bucket] += Double(row[bucket]) }
        }
        return result
    }

    /// Bitcoin Core's estimateCombinedFee: the shortest horizon covering `target`; with
    /// `checkShorterHorizon`, a lower answer of a shorter horizon at its longest target wins.
    func combined(target: Int, successRate: Double, checkShorterHorizon: Bool) -> Double? {
        guard target >= 1, target <= Self.maxTarget else { return nil }
        let waitingAtTarget = waitingAtLeast(target)
        guard let horizon = horizons.firstIndex(where: { target <= $0.maxConfirms }) else { return nil }
        var estimate = horizons[horizon].medianFeeRate(target: target, successRate: successRate, waiting: waitingAtTarget)
        if checkShorterHorizon {
            for shorter in stride(from: horizon - 1, through: 0, by: -1) {
                let stats = horizons[shorter]
                let answer = stats.medianFeeRate(target: stats.maxConfirms, successRate: successRate,
                                                 waiting: waitingAtLeast(stats.maxConfirms))
                if let answer, answer < (estimate ?? .infinity) { estimate = answer }
            }
        }
        return estimate
    }

    /// Bitcoin Core's estimateConservativeFee: twice the target at 95% on the medium and
    /// long horizons, the higher.
    func conservativeRate(doubleTarget: Int) -> Double? {
        guard doubleTarget <= Self.maxTarget else { return nil }
        let waitingAtTarget = waitingAtLeast(doubleTarget)
        var best: Double?
        for stats in horizons.dropFirst() where doubleTarget <= stats.maxConfirms {
            if let answer = stats.medianFeeRate(target: doubleTarget, successRate: Self.doubleSuccessRate, waiting: waitingAtTarget) {
                best = max(best ?? answer, answer)
            }
        }
        return best
    }
}
