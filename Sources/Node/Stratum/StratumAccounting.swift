// Per-worker accounts (the authorize user name): shares, work, rejections by kind, blocks,
// an estimated hashrate; bounded, forgetting the least recently disconnected workers (a
// queue in disconnection order, so forgetting one is amortised O(1)). When every account
// belongs to a connected worker, a new name is counted under one shared overflow account:
// an authorize is never refused for want of room. Also the pool's totals and its metrics.

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
        /// Monotonic seconds of the last connection, share or disconnection.
        var lastSeen = 0.0
        /// Which disconnection last queued it for forgetting (older queue entries are void).
        var disconnection: UInt64 = 0
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

    /// The account of the workers that found the table full of connected ones (no address
    /// starts with '(' so it never names a real worker).
    static let overflowName = "(overflow)"

    private let lock = NSLock()
    private var workers = [String: Worker]()
    /// Disconnected workers, oldest disconnection first, from `idleHead` on; an entry is void
    /// when its worker reconnected, disconnected again or was forgotten.
    private var idle = [(name: String, disconnection: UInt64)]()
    private var idleHead = 0
    private var disconnections: UInt64 = 0
    private(set) var totalsValue = Totals()
    let hashesPerDifficulty: Double

    private let connectionsGauge: CoreMetrics.Gauge
    private let blocksCounter: CoreMetrics.Counter
    private let shareCounters: [String: CoreMetrics.Counter]
    private let validationTimer: CoreMetrics.Timer

    init(metrics: NodeMetrics, powLimit: UInt256, maxWorkers: Int = StratumAccounting.defaultMaxWorkers) {
        self.maxWorkers = maxWorkers
        hashesPerDifficulty = ProofOfWork.work(target: powLimit).approximateDouble
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

    /// A worker authorized on a connection; returns the account it is counted under (its own
    /// name, or `overflowName` when every remembered worker is connected).
    func connected(worker name: String, difficulty: Double, now: Double) -> String {
        lock.withLock {
            var account = name
            if workers[name] == nil {
                if workers.count >= maxWorkers && !forgetOne() { account = Self.overflowName }
                if workers[account] == nil { workers[account] = Worker() }
            }
            workers[account]?.connections += 1
            workers[account]?.difficulty = difficulty
            workers[account]?.lastSeen = now
            return account
        }
    }

    /// Accounts (as `connected` returned them) of a closed connection.
    func disconnected(accounts names: [String]) {
        let now = StratumSession.monotonicSeconds()
        lock.withLock {
            for name in names {
                guard var worker = workers[name] else { continue }
                worker.connections -= 1
                worker.lastSeen = now
                if worker.connections <= 0 && name != Self.overflowName {
                    disconnections += 1
                    worker.disconnection = disconnections
                    idle.append((name, disconnections))
                }
                workers[name] = worker
            }
            compactIdle()
        }
    }

    /// Drops the least recently disconnected worker; false when every worker is connected. Lock held.
    private func forgetOne() -> Bool {
        while idleHead < idle.count {
            let entry = idle[idleHead]
            idleHead += 1
            if let worker = workers[entry.name], worker.connections <= 0, worker.disconnection == entry.disconnection {
                workers.removeValue(forKey: entry.name)
                return true
            }
        }
        return false
    }

    /// Keeps the queue within twice the table (plus slack): void entries and the consumed
    /// head are dropped in one pass, paid for by the appends since the last one. Lock held.
    private func compactIdle() {
        guard idle.count > 2 * maxWorkers + 64 else { return }
        idle = idle[idleHead...].filter { entry in
            guard let worker = workers[entry.name] else { return false }
            return worker.connections <= 0 && worker.disconnection == entry.disconnection
        }
        idleHead = 0
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
