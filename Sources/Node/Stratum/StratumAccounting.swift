// Per-worker accounts (the authorize user name): shares, work, rejections by kind, blocks,
// an estimated hashrate; bounded, forgetting the least recently seen disconnected workers.
// Also the pool's totals and its metrics.

import CoreMetrics
import Foundation
import Primitives
import Stratum

final class StratumAccounting: @unchecked Sendable {
    struct Worker {
        var connections = 0
        var accepted: UInt64 = 0
        /// Sum of the accepted shares' difficulties.
        var acceptedWork = 0.0
        var rejected = [ShareRejection: UInt64]()
        var blocks: UInt64 = 0
        /// Unix time of the last accepted share.
        var lastShare: UInt64?
        /// The difficulty of its newest connection (set at authorize and at each retarget).
        var difficulty = 0.0
        /// Accepted work per `bucketSeconds` bucket over the hashrate window: (bucket number, work).
        var recent = [(bucket: UInt64, work: Double)]()
        /// Monotonic seconds of the last connection, share or disconnection (for forgetting).
        var lastSeen = 0.0
    }

    struct Totals {
        var accepted: UInt64 = 0
        var acceptedWork = 0.0
        var blocks: UInt64 = 0
        var rejected = [ShareRejection: UInt64]()
    }

    /// Most workers remembered by default.
    static let defaultMaxWorkers = 10_000
    let maxWorkers: Int
    /// The hashrate estimate covers this many seconds.
    static let hashrateWindow: UInt64 = 300
    static let bucketSeconds: UInt64 = 10

    private let lock = NSLock()
    private var workers = [String: Worker]()
    private(set) var totalsValue = Totals()
    let hashesPerDifficulty: Double

    private let connectionsGauge: CoreMetrics.Gauge
    private let blocksCounter: CoreMetrics.Counter
    private let shareCounters: [String: CoreMetrics.Counter]
    private let validationTimer: CoreMetrics.Timer

    init(metrics: NodeMetrics, powLimit: UInt256, maxWorkers: Int = StratumAccounting.defaultMaxWorkers) {
        self.maxWorkers = maxWorkers
        hashesPerDifficulty = ShareDifficulty.approximate(ProofOfWork.work(target: powLimit))
        connectionsGauge = CoreMetrics.Gauge(label: "rusty_stratum_connections", factory: metrics.factory)
        blocksCounter = metrics.counter("rusty_stratum_blocks_total", [])
        var counters = ["accepted": metrics.counter("rusty_stratum_shares_total", [("result", "accepted")])]
        for kind in ShareRejection.allCases {
            counters[kind.rawValue] = metrics.counter("rusty_stratum_shares_total", [("result", kind.rawValue)])
        }
        shareCounters = counters
        validationTimer = CoreMetrics.Timer(label: "rusty_stratum_share_validation_seconds", factory: metrics.factory)
    }

    var totals: Totals { lock.withLock { totalsValue } }

    func connectionCount(_ count: Int) { connectionsGauge.record(count) }

    /// A worker authorized on a connection; false when the table is full of connected workers.
    func connected(worker name: String, difficulty: Double, now: Double) -> Bool {
        lock.withLock {
            if workers[name] == nil {
                guard workers.count < maxWorkers || forgetOne() else { return false }
                workers[name] = Worker()
            }
            workers[name]?.connections += 1
            workers[name]?.difficulty = difficulty
            workers[name]?.lastSeen = now
            return true
        }
    }

    func disconnected(workers names: [String]) {
        let now = StratumSession.monotonicSeconds()
        lock.withLock {
            for name in names {
                workers[name]?.connections -= 1
                workers[name]?.lastSeen = now
            }
        }
    }

    /// Drops the least recently seen worker without connections; false when there is none.
    private func forgetOne() -> Bool {
        guard let oldest = workers.filter({ $0.value.connections <= 0 }).min(by: { $0.value.lastSeen < $1.value.lastSeen }) else {
            return false
        }
        workers.removeValue(forKey: oldest.key)
        return true
    }

    func accepted(worker name: String, difficulty: Double, block: Bool, unixTime: UInt64, now: Double, validationNanoseconds: Int64) {
        let bucket = unixTime / Self.bucketSeconds
        lock.withLock {
            totalsValue.accepted += 1
            totalsValue.acceptedWork += difficulty
            if block { totalsValue.blocks += 1 }
            guard var worker = workers[name] else { return }
            worker.accepted += 1
            worker.acceptedWork += difficulty
            if block { worker.blocks += 1 }
            worker.lastShare = unixTime
            worker.lastSeen = now
            if let last = worker.recent.last, last.bucket == bucket {
                worker.recent[worker.recent.count - 1].work += difficulty
            } else {
                worker.recent.append((bucket, difficulty))
            }
            let oldest = bucket &- Self.hashrateWindow / Self.bucketSeconds
            worker.recent.removeAll { $0.bucket <= oldest }
            workers[name] = worker
        }
        shareCounters["accepted"]?.increment()
        if block { blocksCounter.increment() }
        validationTimer.recordNanoseconds(validationNanoseconds)
    }

    /// A refused share; `worker` is nil when the share named no worker of its connection.
    func rejected(_ kind: ShareRejection, worker name: String?) {
        lock.withLock {
            totalsValue.rejected[kind, default: 0] += 1
            if let name, workers[name] != nil { workers[name]?.rejected[kind, default: 0] += 1 }
        }
        shareCounters[kind.rawValue]?.increment()
    }

    /// A worker's difficulty changed (a retarget on one of its connections).
    func difficultyChanged(workers names: [String], to difficulty: Double) {
        lock.withLock { for name in names { workers[name]?.difficulty = difficulty } }
    }

    /// Hashes per second: the accepted work of the last five minutes, in hashes.
    func hashrate(_ worker: Worker, unixTime: UInt64) -> Double {
        let oldest = unixTime / Self.bucketSeconds &- Self.hashrateWindow / Self.bucketSeconds
        let work = worker.recent.filter { $0.bucket > oldest }.reduce(0) { $0 + $1.work }
        return work * hashesPerDifficulty / Double(Self.hashrateWindow)
    }

    /// Every worker, by name.
    func snapshot() -> [(name: String, worker: Worker)] {
        lock.withLock { workers.map { ($0.key, $0.value) } }.sorted { $0.name < $1.name }
    }
}
