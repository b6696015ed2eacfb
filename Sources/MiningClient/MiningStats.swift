// What a miner counts (cgminer's fields): hashes per interval and on average, accepted,
// rejected and stale answers, hardware errors (a device's hit that fails the host's check),
// the current difficulty and the pool's latency. Shared by the search thread, the network
// thread and the status printer, so every access takes the lock (a few times per round and
// per share: never per hash).

import Foundation

/// The counts a status line shows, as of one moment.
public struct MiningCounters: Sendable, Equatable {
    public var accepted = 0
    public var rejected = 0
    /// Refused as stale (error 21: an old tip, or a job the pool forgot).
    public var stale = 0
    public var hardwareErrors = 0
    /// Accepted shares (or submitted blocks) that were blocks.
    public var blocks = 0
    /// Hits not sent because too many submissions were waiting for an answer.
    public var skipped = 0
    /// Rejections by their kind (ShareRejection raw values, or a node's submitblock reason).
    public var rejectedByReason: [String: Int] = [:]

    public init() {}
}

/// One status line's numbers.
public struct StatusSnapshot: Sendable {
    public var intervalSeconds: Double
    public var intervalRate: Double
    public var averageRate: Double
    public var hashes: UInt64
    public var counters: MiningCounters
    public var difficulty: Double
    /// Milliseconds from a submission to its answer: the last one and the average (nil: none yet).
    public var latencyLast: Double?
    public var latencyAverage: Double?
    public var devices: [(name: String, hashesPerSecond: Double)]

    public init(intervalSeconds: Double, intervalRate: Double, averageRate: Double, hashes: UInt64, counters: MiningCounters,
                difficulty: Double, latencyLast: Double?, latencyAverage: Double?, devices: [(name: String, hashesPerSecond: Double)]) {
        self.intervalSeconds = intervalSeconds
        self.intervalRate = intervalRate
        self.averageRate = averageRate
        self.hashes = hashes
        self.counters = counters
        self.difficulty = difficulty
        self.latencyLast = latencyLast
        self.latencyAverage = latencyAverage
        self.devices = devices
    }
}

public final class MiningStats: @unchecked Sendable {
    private let lock = NSLock()
    private let started: UInt64
    private var hashes: UInt64 = 0
    private var intervalStart: UInt64
    private var intervalHashes: UInt64 = 0
    private var counters = MiningCounters()
    private var difficulty = 0.0
    private var latencySum = 0.0
    private var latencyCount = 0
    private var latencyLast: Double?
    private var devices: [(name: String, hashesPerSecond: Double)] = []

    public init(now: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        started = now
        intervalStart = now
    }

    /// A finished round: `count` nonces tried, and the devices' rates in it.
    public func addHashes(_ count: UInt64, devices: [(name: String, hashesPerSecond: Double)]? = nil) {
        lock.withLock {
            hashes &+= count
            intervalHashes &+= count
            if let devices { self.devices = devices }
        }
    }

    public func setDifficulty(_ value: Double) { lock.withLock { difficulty = value } }

    public func hardwareErrors(_ count: Int) { lock.withLock { counters.hardwareErrors += count } }
    public func skipped() { lock.withLock { counters.skipped += 1 } }

    /// An accepted share or block; `latency` in milliseconds.
    public func accepted(isBlock: Bool, latency: Double?) {
        lock.withLock {
            counters.accepted += 1
            if isBlock { counters.blocks += 1 }
            record(latency)
        }
    }

    /// A refusal; stale ones are counted apart from the others, as cgminer does.
    public func rejected(reason: String, stale: Bool, latency: Double?) {
        lock.withLock {
            if stale { counters.stale += 1 } else { counters.rejected += 1 }
            counters.rejectedByReason[reason, default: 0] += 1
            record(latency)
        }
    }

    private func record(_ latency: Double?) {
        guard let latency else { return }
        latencyLast = latency
        latencySum += latency
        latencyCount += 1
    }

    public var current: MiningCounters { lock.withLock { counters } }

    /// The numbers since the previous snapshot (the interval) and since the start; starts a new interval.
    public func snapshot(now: UInt64 = DispatchTime.now().uptimeNanoseconds, endInterval: Bool = true) -> StatusSnapshot {
        lock.withLock {
            let interval = Double(now &- intervalStart) / 1e9
            let total = Double(now &- started) / 1e9
            let snapshot = StatusSnapshot(
                intervalSeconds: interval, intervalRate: interval > 0 ? Double(intervalHashes) / interval : 0,
                averageRate: total > 0 ? Double(hashes) / total : 0, hashes: hashes, counters: counters,
                difficulty: difficulty, latencyLast: latencyLast,
                latencyAverage: latencyCount > 0 ? latencySum / Double(latencyCount) : nil, devices: devices)
            if endInterval {
                intervalStart = now
                intervalHashes = 0
            }
            return snapshot
        }
    }
}
