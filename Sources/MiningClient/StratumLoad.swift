// The Stratum load generator behind `rusty bench stratum`: many simulated miners on one NIO
// event loop group, each subscribing, authorizing and then submitting real shares for the
// current job back to back (a fixed number in flight), so the server validates every one.
// It measures what the goal names: shares per second answered true and the latency of
// each submit -> answer.

import Foundation
import JSONRPC
import NIOCore
import NIOPosix
import Primitives
import Stratum

public struct StratumLoadSettings: Sendable {
    public var host: String
    public var port: Int
    public var user: String
    public var password = "x"
    public var connections = 50
    /// Seconds measured, after every connection has its first job.
    public var seconds = 10.0
    /// Submits each connection keeps unanswered at once (at most, with a rate).
    public var inFlight = 4
    /// Shares per second over all connections (open loop: latency at a given load); 0 sends
    /// back to back (closed loop: the server's throughput).
    public var rate = 0.0
    public var threads = 1
    /// The network's PoW limit (share difficulty 1).
    public var powLimit: UInt256
    /// Longest wait for every connection to be subscribed, authorized and given a job.
    public var readyTimeout = 30.0

    public init(host: String, port: Int, user: String, powLimit: UInt256) {
        self.host = host
        self.port = port
        self.user = user
        self.powLimit = powLimit
    }
}

/// What one run measured.
public struct StratumLoadReport: Sendable, Codable, Equatable {
    public var connections: Int
    public var inFlight: Int
    /// The open-loop rate asked for (0: closed loop).
    public var rate: Double
    public var seconds: Double
    /// Shares answered true inside the measured window.
    public var accepted: Int
    /// Refusals inside the window, by Stratum error code.
    public var rejected: [String: Int]
    public var sharesPerSecond: Double
    public var latencyP50Milliseconds: Double
    public var latencyP99Milliseconds: Double
    public var latencyMaxMilliseconds: Double
    /// Header hashes computed to find the shares (shares that were blocks are skipped, not sent).
    public var hashes: UInt64
    public var blocksSkipped: Int
    /// Connections the server closed during the run.
    public var disconnects: Int
    /// Open loop: shares that fell due while every submit of their connection was unanswered (not sent).
    public var missedShares: Int
}

public struct StratumLoadError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}

public enum StratumLoad {
    public static func run(_ settings: StratumLoadSettings) throws -> StratumLoadReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, settings.threads))
        defer { try? group.syncShutdownGracefully() }
        let recorder = StratumLoadRecorder()
        var channels = [any Channel]()
        defer { for channel in channels { channel.close(promise: nil) } }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StratumLineFramer(maxLineBytes: StratumMessage.maxClientLineBytes)))
                    try channel.pipeline.syncOperations.addHandler(StratumLoadConnection(settings: settings, recorder: recorder))
                }
            }
        for index in 0..<settings.connections {
            do {
                channels.append(try bootstrap.connect(host: settings.host, port: settings.port).wait())
            } catch {
                throw StratumLoadError("connection \(index + 1) to \(settings.host):\(settings.port): \(error)")
            }
        }
        // Every miner must be working before the clock starts.
        let readyBy = Date().addingTimeInterval(settings.readyTimeout)
        while recorder.ready < settings.connections {
            if let failure = recorder.failure { throw StratumLoadError(failure) }
            guard Date() < readyBy else {
                throw StratumLoadError("only \(recorder.ready) of \(settings.connections) connections got a job within \(settings.readyTimeout) s")
            }
            usleep(10_000)
        }
        recorder.startWindow()
        Thread.sleep(forTimeInterval: settings.seconds)
        let report = recorder.endWindow(settings: settings)
        if let failure = recorder.failure { throw StratumLoadError(failure) }
        return report
    }
}

/// The shared tally: written from the event loops, read by the caller.
final class StratumLoadRecorder: @unchecked Sendable {
    struct Window {
        var start: UInt64 = 0
        var end: UInt64 = 0
        var accepted = 0
        var rejected: [String: Int] = [:]
        var latencies: [UInt64] = []

        func report(settings: StratumLoadSettings, hashes: UInt64, skipped: Int, disconnects: Int, missed: Int) -> StratumLoadReport {
            let seconds = Double(end - start) / 1e9
            let sorted = latencies.sorted()
            func percentile(_ fraction: Double) -> Double {
                guard !sorted.isEmpty else { return 0 }
                let index = min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)
                return Double(sorted[max(0, index)]) / 1e6
            }
            return StratumLoadReport(connections: settings.connections, inFlight: settings.inFlight, rate: settings.rate, seconds: seconds,
                                     accepted: accepted, rejected: rejected, sharesPerSecond: Double(accepted) / max(seconds, 1e-9),
                                     latencyP50Milliseconds: percentile(0.5), latencyP99Milliseconds: percentile(0.99),
                                     latencyMaxMilliseconds: Double(sorted.last ?? 0) / 1e6, hashes: hashes,
                                     blocksSkipped: skipped, disconnects: disconnects, missedShares: missed)
        }
    }

    private let lock = NSLock()
    private var readyCount = 0
    private var window: Window?
    private var closed = false
    private var failureText: String?
    private var hashes: UInt64 = 0
    private var skipped = 0
    private var disconnects = 0
    private var missed = 0

    var ready: Int { lock.withLock { readyCount } }
    var failure: String? { lock.withLock { failureText } }

    func markReady() { lock.withLock { readyCount += 1 } }

    func fail(_ text: String) { lock.withLock { if failureText == nil { failureText = text } } }

    func searched(hashes count: UInt64, skippedBlocks: Int) {
        lock.withLock {
            if window != nil && !closed {
                hashes += count
                skipped += skippedBlocks
            }
        }
    }

    func disconnected() { lock.withLock { if !closed { disconnects += 1 } } }

    func missedShare() { lock.withLock { if window != nil && !closed { missed += 1 } } }

    func startWindow() { lock.withLock { window = Window(start: DispatchTime.now().uptimeNanoseconds) } }

    /// An answer to a submit sent at `sent` (uptime nanoseconds); only submits sent inside the
    /// window count.
    func answered(sent: UInt64, accepted: Bool, code: Int?) {
        let now = DispatchTime.now().uptimeNanoseconds
        lock.withLock {
            // In place: a copy of the window would copy its latencies on every answer.
            guard !closed, let start = window?.start, sent >= start else { return }
            window?.latencies.append(now - sent)
            if accepted { window?.accepted += 1 } else { window?.rejected[code.map(String.init) ?? "none", default: 0] += 1 }
        }
    }

    /// Closes the window; nothing is counted after it.
    func endWindow(settings: StratumLoadSettings) -> StratumLoadReport {
        lock.withLock {
            closed = true
            var result = window ?? Window()
            result.end = DispatchTime.now().uptimeNanoseconds
            return result.report(settings: settings, hashes: hashes, skipped: skipped, disconnects: disconnects, missed: missed)
        }
    }
}

/// One simulated miner. Runs on its channel's event loop only.
final class StratumLoadConnection: ChannelInboundHandler {
    typealias InboundIn = StratumFramedLine
    typealias OutboundOut = ByteBuffer

    private let settings: StratumLoadSettings
    private let recorder: StratumLoadRecorder
    private var prefix: NoncePrefix?
    private var difficulty: Double?
    private var job: StratumLoadJob?
    private var nextID: Int64 = 3
    private var sentAt: [Int64: UInt64] = [:]
    private var reportedReady = false
    private var ticker: RepeatedTask?
    /// Open loop: shares that have fallen due so far.
    private var sharesDue = 0

    init(settings: StratumLoadSettings, recorder: StratumLoadRecorder) {
        self.settings = settings
        self.recorder = recorder
    }

    func channelActive(context: ChannelHandlerContext) {
        send(.request(id: .int(1), method: StratumMethod.subscribe, params: ["rusty-bench"]), context: context)
        send(.request(id: .int(2), method: StratumMethod.authorize, params: [.string(settings.user), .string(settings.password)]), context: context)
        context.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        ticker?.cancel()
        recorder.disconnected()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        recorder.fail("connection error: \(error)")
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .line(let line):
            handle(Array(line.readableBytesView), context: context)
            fill(context: context)
        case .tooLong(let limit):
            recorder.fail("the server sent a line longer than \(limit) bytes")
            context.close(promise: nil)
        }
    }

    private func handle(_ line: [UInt8], context: ChannelHandlerContext) {
        let message: StratumMessage
        do {
            message = try StratumMessage(line: line)
        } catch {
            recorder.fail("undecodable line from the server: \(error)")
            return
        }
        switch message {
        case .notification(StratumMethod.setDifficulty, let params), .request(_, StratumMethod.setDifficulty, let params):
            difficulty = params.first?.doubleValue
        case .notification(StratumMethod.notify, let params), .request(_, StratumMethod.notify, let params):
            takeJob(params)
        case .response(let id, let result, let error):
            switch id.int64Value {
            case 1:
                if let error { return recorder.fail("mining.subscribe answered \(error)") }
                do { prefix = try StratumSubscribeAnswer.prefix(result) } catch { recorder.fail("\(error)") }
            case 2:
                if error != nil || result != true { recorder.fail("mining.authorize \(settings.user) answered \(message.json.text())") }
            default:
                guard let number = id.int64Value, let sent = sentAt.removeValue(forKey: number) else { return }
                recorder.answered(sent: sent, accepted: error == nil && result == true, code: error?.code)
            }
        default:
            break
        }
    }

    private func takeJob(_ params: [JSON]) {
        do {
            let parsed = try StratumJob(notifyParams: params)
            let shareTarget = ShareDifficulty.target(difficulty: difficulty ?? 1, powLimit: settings.powLimit)
            let blockTarget = try parsed.header.compactTarget.target()
            guard blockTarget < shareTarget else {
                // Every share would be a block: the benchmark would measure block acceptance.
                return recorder.fail("the share target is not easier than the block target at difficulty \(difficulty ?? 1): "
                                     + "pin the pool's share difficulty below the chain's (e.g. 0.5 on regtest)")
            }
            job = StratumLoadJob(job: parsed, shareTarget: shareTarget, blockTarget: blockTarget, start: job?.nextSuffix ?? 0)
        } catch {
            recorder.fail("bad mining.notify: \(error)")
        }
    }

    /// Closed loop (no rate): keeps `inFlight` submits unanswered. Open loop (a rate): the
    /// first job starts a timer that submits the shares due by then while fewer than `inFlight`
    /// are unanswered (one due with all in flight is counted as missed: the server fell behind).
    private func fill(context: ChannelHandlerContext) {
        guard prefix != nil, job != nil else { return }
        if !reportedReady {
            reportedReady = true
            recorder.markReady()
            if settings.rate > 0 { startTicking(context: context) }
        }
        guard settings.rate <= 0 else { return }
        var wrote = false
        while sentAt.count < settings.inFlight {
            submitShare(context: context)
            wrote = true
        }
        if wrote { context.flush() }
    }

    private func startTicking(context: ChannelHandlerContext) {
        let perConnection = settings.rate / Double(max(1, settings.connections))
        let interval = TimeAmount.nanoseconds(Int64(max(1e4, 1e9 / perConnection)))
        // Connections start at random phases so their ticks spread over the interval.
        let phase = TimeAmount.nanoseconds(Int64.random(in: 0...interval.nanoseconds))
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        let started = DispatchTime.now().uptimeNanoseconds + UInt64(phase.nanoseconds)
        ticker = loop.scheduleRepeatedTask(initialDelay: phase, delay: interval) { _ in
            let (handler, context) = bound.value
            // Shares are due by the clock, not by ticks: a late tick catches up (a fixed rate).
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            let target = Int(elapsed * perConnection) + 1
            var wrote = false
            while handler.sharesDue < target {
                handler.sharesDue += 1
                guard handler.sentAt.count < handler.settings.inFlight else {
                    handler.recorder.missedShare()
                    continue
                }
                handler.submitShare(context: context)
                wrote = true
            }
            if wrote { context.flush() }
        }
    }

    /// Searches the next share of the current job and sends it (not flushed).
    private func submitShare(context: ChannelHandlerContext) {
        guard let prefix, var current = job else { return }
        let (suffix, hashes, blocks) = current.nextShare(prefix: prefix)
        job = current
        recorder.searched(hashes: hashes, skippedBlocks: blocks)
        let id = nextID
        nextID += 1
        let submission = ShareSubmission(worker: settings.user, jobID: current.job.id, time: current.job.header.time,
                                         nonce: prefix.nonce(suffix: suffix))
        sentAt[id] = DispatchTime.now().uptimeNanoseconds
        send(.request(id: .int(id), method: StratumMethod.submit, params: submission.params), context: context)
    }

    private func send(_ message: StratumMessage, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: message.line)), promise: nil)
    }
}

/// A job and the search through its suffixes: the next nonce whose hash meets the share target
/// but not the block target (a block would change the tip under every miner).
struct StratumLoadJob {
    let job: StratumJob
    let shareTarget: UInt256
    let blockTarget: UInt256
    private let midstate: Midstate
    private var secondBlock: [UInt8]
    private(set) var nextSuffix: UInt64

    init(job: StratumJob, shareTarget: UInt256, blockTarget: UInt256, start: UInt64) {
        self.job = job
        self.shareTarget = shareTarget
        self.blockTarget = blockTarget
        let encoded = job.header.encoded
        midstate = job.header.midstate
        secondBlock = Array(encoded[64..<128])
        nextSuffix = start
    }

    /// The suffix of the next share, the hashes it took and the blocks skipped on the way.
    mutating func nextShare(prefix: NoncePrefix) -> (suffix: UInt64, hashes: UInt64, blocks: Int) {
        var hashes: UInt64 = 0, blocks = 0
        let nonceOffset = BlockHeader.nonceOffset - 64
        while true {
            let suffix = nextSuffix
            nextSuffix = (nextSuffix &+ 1) & prefix.maxSuffix
            let nonce = prefix.nonce(suffix: suffix)
            for index in 0..<8 { secondBlock[nonceOffset + index] = UInt8(truncatingIfNeeded: nonce >> UInt64(8 * index)) }
            let hash = secondBlock.withUnsafeBytes { midstate.hash(secondBlock: $0) }
            hashes += 1
            let value = UInt256(hash)
            if !(blockTarget < value) {
                blocks += 1
            } else if !(shareTarget < value) {
                return (suffix, hashes, blocks)
            }
        }
    }
}
