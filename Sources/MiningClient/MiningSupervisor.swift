// What both mining sources share: where events go, when to stop, the status line per
// interval, and the per-device rates a searcher measured.

import Foundation
import ProofOfWorkSearch

/// Receives events from any thread, one at a time (lines never interleave).
public final class MiningEventSink: @unchecked Sendable {
    private let lock = NSLock()
    private let handler: (MiningEvent) -> Void

    public init(_ handler: @escaping (MiningEvent) -> Void) { self.handler = handler }

    public func emit(_ event: MiningEvent) { lock.withLock { handler(event) } }
}

/// When a run ends (besides a stop request): each limit that is set.
public struct MiningLimits: Sendable {
    public var duration: Double?
    /// Accepted shares (Stratum) or accepted blocks (RPC) to stop after.
    public var shares: Int?
    public var blocks: Int?
    /// Seconds between status lines.
    public var statusInterval: Double

    public init(duration: Double? = nil, shares: Int? = nil, blocks: Int? = nil, statusInterval: Double = 5) {
        self.duration = duration
        self.shares = shares
        self.blocks = blocks
        self.statusInterval = statusInterval
    }

    /// Which limit `counters` after `elapsed` seconds reached, if any.
    func reached(_ counters: MiningCounters, elapsed: Double) -> String? {
        if let blocks, counters.blocks >= blocks { return "--blocks \(blocks)" }
        if let shares, counters.accepted >= shares { return "--shares \(shares)" }
        if let duration, elapsed >= duration { return "--duration \(duration)" }
        return nil
    }
}

/// A run that could not go on; the message names why (e.g. a refused authorize).
public struct MiningRunError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

enum MiningSupervisor {
    /// Runs `work` on a thread of its own and watches the run (`watch`); when it ends, calls
    /// `stop`, waits for the thread, then `cleanUp`. Throws `failure`'s reason if there is one,
    /// else emits the summary. Returns the final numbers.
    static func run(thread name: String, stats: MiningStats, limits: MiningLimits, events: MiningEventSink,
                    shouldStop: () -> Bool, failure: () -> String?, stop: () -> Void, cleanUp: () -> Void = {},
                    work: @escaping @Sendable () -> Void) throws(MiningRunError) -> StatusSnapshot {
        let began = DispatchTime.now().uptimeNanoseconds
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            work()
            done.signal()
        }
        thread.name = name
        thread.start()
        let stoppedBy = watch(stats: stats, limits: limits, events: events, shouldStop: shouldStop, failure: failure)
        stop()
        done.wait()
        cleanUp()
        let snapshot = stats.snapshot(endInterval: false)
        if let reason = failure() { throw MiningRunError(reason) }
        events.emit(.summary(snapshot, seconds: Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9, stoppedBy: stoppedBy))
        return snapshot
    }

    /// Waits until a limit is reached, `shouldStop` says so or `failure` names a reason to end,
    /// emitting a status line every interval. Returns what stopped the run.
    static func watch(stats: MiningStats, limits: MiningLimits, events: MiningEventSink,
                      shouldStop: () -> Bool, failure: () -> String?) -> String {
        let started = DispatchTime.now().uptimeNanoseconds
        var nextStatus = started + UInt64(max(limits.statusInterval, 0.05) * 1e9)
        while true {
            let now = DispatchTime.now().uptimeNanoseconds
            let elapsed = Double(now - started) / 1e9
            if shouldStop() { return "a stop request" }
            if let reason = failure() { return reason }
            if let reason = limits.reached(stats.current, elapsed: elapsed) { return reason }
            if now >= nextStatus {
                events.emit(.status(stats.snapshot(now: now)))
                nextStatus = now + UInt64(max(limits.statusInterval, 0.05) * 1e9)
            }
            usleep(20_000)
        }
    }

    /// Each device's rate in the last round: a combined searcher's members, an OpenCL
    /// member's devices split by the nonces each searched.
    static func deviceRates(_ searcher: any PoWSearcher, count: UInt64, seconds: Double) -> [(name: String, hashesPerSecond: Double)] {
        let members: [(searcher: any PoWSearcher, rate: Double)]
        if let combined = searcher as? CombinedPoWSearch {
            members = zip(combined.members, combined.memberRates).map { ($0, $1.hashesPerSecond) }
        } else {
            members = [(searcher, seconds > 0 ? Double(count) / seconds : 0)]
        }
        return members.flatMap { member -> [(name: String, hashesPerSecond: Double)] in
            guard let opencl = member.searcher as? OpenCLPoWSearch else { return [(member.searcher.name, member.rate)] }
            let shares = opencl.lastSearchShares
            let total = shares.reduce(0) { $0 + Double($1.nonces) }
            guard shares.count > 1, total > 0 else { return [(member.searcher.name, member.rate)] }
            return shares.map { ($0.device, member.rate * Double($0.nonces) / total) }
        }
    }

    /// Kernel hits the host's check refused so far (a miscomputing device).
    static func kernelRejections(_ searcher: any PoWSearcher) -> Int {
        if let opencl = searcher as? OpenCLPoWSearch { return opencl.rejectedCandidates }
        if let combined = searcher as? CombinedPoWSearch { return combined.members.reduce(0) { $0 + kernelRejections($1) } }
        return 0
    }
}

/// Threads for the miners' async work (the pool connection loop, RPC calls, long polls): a
/// concurrent dispatch queue rather than Swift's cooperative pool, because the miners wait
/// for that work from plain threads, and a caller on the cooperative pool (a test, a server)
/// could otherwise hold the very threads the work needs.
final class MiningTaskExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = MiningTaskExecutor()
    private let queue = DispatchQueue(label: "rusty.mining.client", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
