// Downloaded blocks into the chain state through the staged verification pipeline, so
// initial download uses the same stages and cross-block signature batches as verify-chain.

import ChainState
import Foundation
import Logging
import Primitives
import Verification

/// Runs the verification pipeline on its own thread over one long-lived `BlockStream`. A
/// run holds the chain state's writer role; it ends when the stream has been idle briefly
/// or after `maxRunSeconds`, so header acceptance and block serving get the writer between
/// runs. Each run ends with a flush (what the node announces is durable) and reports what
/// it consumed and what is still missing.
final class BlockImporter: @unchecked Sendable {
    struct RunOutcome: Sendable {
        /// Records consumed from the stream by the run, and records dropped after a failure.
        var consumed: Int
        var dropped: Int
        var failure: (origin: Int?, message: String)?
        var target: (firstHeight: UInt64, hashes: [Hash256])
        var sequence: UInt64
    }

    private let chain: ChainService
    private let options: VerificationPipeline.Options
    private let logger: Logger
    let stream: BlockStream
    var onRunEnded: (@Sendable (RunOutcome) -> Void)?
    private var thread: Thread?
    private let stopped = NSCondition()
    private var isStopped = false
    private var finished = false
    static let idleSeconds = 0.05
    static let maxRunSeconds = 2.0

    init(chain: ChainService, options: VerificationPipeline.Options, logger: Logger) {
        self.chain = chain
        var options = options
        options.shouldStop = nil
        self.options = options
        self.logger = logger
        stream = BlockStream(label: "network", capacityBytes: Int.max)
        stream.runBoundary = (idle: Self.idleSeconds, maximum: Self.maxRunSeconds)
    }

    var bufferedBytes: Int { stream.bufferedBytes }

    /// Queues a block for the next run (never waits: the caller bounds what it submits).
    func submit(_ bytes: [UInt8], hash: Hash256, origin: Int) {
        stream.push(bytes, origin: String(origin))
    }

    func start() {
        let thread = Thread { [self] in runLoop() }
        thread.name = "rusty-import"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Ends the current run at its next block and waits for the thread.
    func stop() {
        stopped.lock()
        isStopped = true
        stopped.unlock()
        stream.close()
        stopped.lock()
        while thread != nil && !finished { stopped.wait(until: Date(timeIntervalSinceNow: 1)) }
        stopped.unlock()
    }

    private var shouldStop: Bool {
        stopped.lock()
        defer { stopped.unlock() }
        return isStopped
    }

    private func runLoop() {
        defer {
            stopped.lock()
            finished = true
            stopped.broadcast()
            stopped.unlock()
        }
        while !shouldStop {
            guard stream.waitForData(timeout: 0.5) else { continue }
            var options = self.options
            let stopFlag = { [self] in shouldStop }
            options.shouldStop = { stopFlag() }
            let consumedBefore = stream.consumedCount
            var failure: (origin: Int?, message: String)?
            var dropped = 0
            let outcome: (target: (firstHeight: UInt64, hashes: [Hash256]), sequence: UInt64) = chain.withWriter { state in
                do {
                    let report = try VerificationPipeline(state: state, options: options).run([.stream(stream)])
                    if let message = report.failure {
                        failure = (report.failureOrigin.flatMap { Int($0) }, message)
                    }
                } catch {
                    failure = (nil, "\(error)")
                }
                if failure != nil {
                    // What followed the bad block is fetched again once the target is recomputed.
                    dropped = stream.removeAll()
                }
                do { try state.flush() } catch { logger.critical("could not flush the chain state: \(error)") }
                return (state.blocksToDownload(limit: PeerManager.targetLimit), 0)
            }
            let consumed = stream.consumedCount - consumedBefore
            onRunEnded?(RunOutcome(consumed: consumed, dropped: dropped, failure: failure, target: outcome.target,
                                   sequence: chain.snapshot.sequence))
        }
    }
}
