// Downloaded blocks into the chain state through the staged verification pipeline, so
// initial download uses the same stages and cross-block signature batches as verify-chain.

import ChainState
import Foundation
import Logging
import Primitives
import Verification

/// Runs the verification pipeline on its own thread in runs: each run holds the chain
/// state's writer role and reads a fresh `BlockStream` that a feeder fills from the blocks
/// submitted so far; the feeder ends the run once no block has come for `idleSeconds` or the
/// run is `maxRunSeconds` old, so header acceptance and block serving get the writer between
/// runs. Each run ends with a flush (what the node then announces is durable) and reports how
/// many submitted blocks it took and what the chain state still misses.
final class BlockImporter: @unchecked Sendable {
    struct RunOutcome: Sendable {
        /// Submitted blocks the run took (connected, skipped as known, or rejected), and
        /// submitted blocks dropped after a rejection (they may build on the bad block).
        var consumed: Int
        var dropped: Int
        var failure: (origin: Int?, message: String)?
        var target: (firstHeight: UInt64, hashes: [Hash256])
        var sequence: UInt64
    }

    private let chain: ChainService
    private let options: VerificationPipeline.Options
    private let logger: Logger
    var onRunEnded: (@Sendable (RunOutcome) -> Void)?
    static let idleSeconds = 0.05
    static let maxRunSeconds = 2.0

    private let condition = NSCondition()
    private var pending: [(bytes: [UInt8], origin: Int, last: Bool)] = []
    private var pendingHead = 0
    private var pendingBytes = 0
    /// Bytes pushed into the current run's stream and not yet read by it.
    private weak var currentStream: BlockStream?
    private var stopped = false
    private var finished = true

    init(chain: ChainService, options: VerificationPipeline.Options, logger: Logger) {
        self.chain = chain
        self.options = options
        self.logger = logger
    }

    /// Submitted bytes not yet read by a run (the caller bounds what it submits by this).
    var bufferedBytes: Int {
        condition.lock()
        defer { condition.unlock() }
        return pendingBytes + (currentStream?.bufferedBytes ?? 0)
    }

    /// Queues a block for the current or next run (never waits). `last`: the best header's
    /// block with nothing else on the way, so the run ends after it at once instead of
    /// waiting out the idle time (a relayed block is connected and announced sooner).
    func submit(_ bytes: [UInt8], origin: Int, last: Bool = false) {
        condition.lock()
        pending.append((bytes, origin, last))
        pendingBytes += bytes.count
        condition.broadcast()
        condition.unlock()
    }

    func start() {
        condition.lock()
        finished = false
        condition.unlock()
        let thread = Thread { [self] in runLoop() }
        thread.name = "rusty-import"
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Ends the current run at its next block and waits for the thread.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private var isStopped: Bool { condition.withLock { stopped } }

    /// Takes every queued block, waiting up to `seconds` for one; empty when none came.
    private func takePending(waitingAtMost seconds: Double) -> [(bytes: [UInt8], origin: Int, last: Bool)] {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: seconds)
        while pendingHead == pending.count && !stopped {
            if !condition.wait(until: deadline) { break }
        }
        let taken = Array(pending[pendingHead...])
        pending.removeAll(keepingCapacity: true)
        pendingHead = 0
        pendingBytes = 0
        return taken
    }

    private func dropPending() -> Int {
        condition.withLock {
            let count = pending.count - pendingHead
            pending.removeAll()
            pendingHead = 0
            pendingBytes = 0
            return count
        }
    }

    private func runLoop() {
        defer {
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        while !isStopped {
            let first = takePending(waitingAtMost: 0.5)
            guard !first.isEmpty else { continue }
            run(startingWith: first)
        }
    }

    /// One run: the feeder pushes `first` and whatever follows into a stream the pipeline reads.
    private func run(startingWith first: [(bytes: [UInt8], origin: Int, last: Bool)]) {
        let stream = BlockStream(label: "network", capacityBytes: Int.max)
        condition.withLock { currentStream = stream }
        let pushed = ManagedCounter()
        let feederDone = DispatchSemaphore(value: 0)
        let feeder = Thread { [self] in
            defer { feederDone.signal() }
            let started = Date()
            var batch = first
            while true {
                for block in batch {
                    guard stream.push(block.bytes, origin: String(block.origin)) else { return } // the run stopped
                    pushed.increment()
                }
                if isStopped || Date().timeIntervalSince(started) >= Self.maxRunSeconds { break }
                batch = takePending(waitingAtMost: batch.last?.last == true ? 0 : Self.idleSeconds)
                if batch.isEmpty { break }
            }
            stream.finish()
        }
        feeder.name = "rusty-import-feed"
        feeder.start()

        var options = self.options
        options.shouldStop = { [self] in isStopped }
        var failure: (origin: Int?, message: String)?
        chain.withWriter { state in
            do {
                let report = try VerificationPipeline(state: state, options: options).run([.stream(stream)])
                if let message = report.failure { failure = (report.rejected?.origin.flatMap { Int($0) }, message) }
            } catch {
                failure = (nil, "\(error)")
            }
            stream.close()
            do { try state.flush() } catch { logger.critical("could not flush the chain state: \(error)") }
        }
        let target = chain.blocksToDownload(limit: PeerManager.targetLimit)
        // The feeder ends at once when the stream is closed.
        feederDone.wait()
        condition.withLock { currentStream = nil }
        // After a rejection, what was queued behind the bad block may build on it.
        let dropped = failure != nil ? dropPending() : 0
        onRunEnded?(RunOutcome(consumed: pushed.value, dropped: dropped, failure: failure,
                               target: (target.firstHeight, target.hashes), sequence: target.version))
    }
}

/// A count shared with the feeder thread.
private final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
