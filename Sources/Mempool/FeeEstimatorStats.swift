// The fee estimator's statistics at one time horizon (Bitcoin Core's TxConfirmStats as the
// anchor): per fee-rate bucket, exponentially decayed counts of transactions confirmed
// within each number of periods, of those that left the pool unconfirmed, and of all
// confirmed ones with the sum of their fee rates (for the median).

/// Exponentially spaced fee-rate buckets (per 1,000 bytes): upper bounds from 1,000 to
/// 10,000,000, each 1.05 times the one before, then one unbounded bucket.
enum FeeBuckets {
    static let minimumFeeRate = 1_000.0
    static let maximumFeeRate = 10_000_000.0
    static let spacing = 1.05

    static let upperBounds: [Double] = {
        var bounds = [Double]()
        var bound = minimumFeeRate
        while bound <= maximumFeeRate {
            bounds.append(bound)
            bound *= spacing
        }
        bounds.append(.infinity)
        return bounds
    }()

    static var count: Int { upperBounds.count }

    /// The first bucket whose upper bound is at least `feeRate` (lower rates go in bucket 0).
    static func index(of feeRate: UInt64) -> Int {
        let rate = Double(feeRate)
        var low = 0, high = upperBounds.count - 1
        while low < high {
            let middle = (low + high) / 2
            if upperBounds[middle] >= rate { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// Decayed statistics at one horizon: `periods` periods of `scale` blocks each, so targets
/// 1...periods * scale blocks are answered, in steps of `scale`.
struct ConfirmationStats: Equatable {
    let scale: Int
    let periods: Int
    /// Applied to every count once per block: a data point's weight halves after
    /// ln(0.5)/ln(decay) blocks.
    let decay: Double
    /// Data points a bucket range needs (in decayed weight, `sufficient / (1 - decay)`) before
    /// its success rate is trusted.
    let sufficient: Double

    /// [period][bucket]: confirmed within (period + 1) * scale blocks.
    var confirmed: [[Double]]
    /// [period][bucket]: left the pool unconfirmed after (period + 1) * scale blocks or more.
    var failed: [[Double]]
    /// [bucket]: every confirmation counted, and the sum of their fee rates.
    var total: [Double]
    var feeRateSum: [Double]

    var maxConfirms: Int { scale * periods }

    init(scale: Int, periods: Int, decay: Double, sufficient: Double) {
        self.scale = scale
        self.periods = periods
        self.decay = decay
        self.sufficient = sufficient
        let buckets = FeeBuckets.count
        confirmed = Array(repeating: Array(repeating: 0, count: buckets), count: periods)
        failed = confirmed
        total = Array(repeating: 0, count: buckets)
        feeRateSum = total
    }

    /// Bitcoin Core's three horizons: 12 blocks, 48 blocks (in pairs), 1,008 blocks (in 24s).
    static func horizons() -> [ConfirmationStats] {
        [ConfirmationStats(scale: 1, periods: 12, decay: 0.962, sufficient: 0.5),
         ConfirmationStats(scale: 2, periods: 24, decay: 0.9952, sufficient: 0.1),
         ConfirmationStats(scale: 24, periods: 42, decay: 0.99931, sufficient: 0.1)]
    }

    /// A transaction in `bucket` confirmed `blocks` blocks after it entered.
    mutating func recordConfirmation(blocks: Int, bucket: Int, feeRate: Double) {
        guard blocks >= 1 else { return }
        let periodsToConfirm = (blocks + scale - 1) / scale
        if periodsToConfirm <= periods {
            for period in (periodsToConfirm - 1)..<periods { confirmed[period][bucket] += 1 }
        }
        total[bucket] += 1
        feeRateSum[bucket] += feeRate
    }

    /// A transaction in `bucket` left the pool unconfirmed `blocks` blocks after it entered:
    /// it failed every target it had fully waited for.
    mutating func recordFailure(blocks: Int, bucket: Int) {
        let periodsWaited = min(blocks / scale, periods)
        for period in 0..<periodsWaited { failed[period][bucket] += 1 }
    }

    mutating func decayAll() {
        for period in 0..<periods {
            for bucket in 0..<FeeBuckets.count {
                confirmed[period][bucket] *= decay
                failed[period][bucket] *= decay
            }
        }
        for bucket in 0..<FeeBuckets.count {
            total[bucket] *= decay
            feeRateSum[bucket] *= decay
        }
    }

    /// Bitcoin Core's EstimateMedianVal: scanning from the highest fee rate down, buckets are
    /// grouped into ranges holding enough data points; the lowest range in which at least
    /// `successRate` of the transactions confirmed within `target` blocks (those still
    /// waiting longer than that, and those that left, count as failures) answers, with the
    /// median fee rate of its confirmed transactions. nil without such a range.
    /// `waiting[bucket]` is the pool's transactions that have waited `target` blocks or more.
    func medianFeeRate(target: Int, successRate: Double, waiting: [Double]) -> Double? {
        guard target >= 1, target <= maxConfirms else { return nil }
        let period = (target + scale - 1) / scale - 1
        let needed = sufficient / (1 - decay)
        var withinTarget = 0.0, rangeCount = 0.0, totalCount = 0.0, failures = 0.0, extra = 0.0
        var nearBucket = FeeBuckets.count - 1, newRange = true
        var best: (near: Int, far: Int)?
        for bucket in stride(from: FeeBuckets.count - 1, through: 0, by: -1) {
            if newRange {
                nearBucket = bucket
                newRange = false
            }
            withinTarget += confirmed[period][bucket]
            rangeCount += total[bucket]
            totalCount += total[bucket]
            failures += failed[period][bucket]
            extra += waiting[bucket]
            // Only confirmed data points decide when a range is big enough, so every target
            // looks at the same ranges.
            guard rangeCount >= needed else { continue }
            rangeCount = 0
            let denominator = totalCount + failures + extra
            // A failing range keeps accumulating into the buckets below it.
            guard denominator > 0, withinTarget / denominator >= successRate else { continue }
            best = (nearBucket, bucket)
            withinTarget = 0
            totalCount = 0
            failures = 0
            extra = 0
            newRange = true
        }
        guard let best else { return nil }
        let range = min(best.near, best.far)...max(best.near, best.far)
        var half = range.reduce(0.0) { $0 + total[$1] } / 2
        guard half > 0 else { return nil }
        for bucket in range {
            if total[bucket] < half {
                half -= total[bucket]
            } else {
                return feeRateSum[bucket] / total[bucket]
            }
        }
        return nil
    }
}
