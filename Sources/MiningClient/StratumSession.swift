// One pool session's state, shared by the network thread (messages in), the search thread
// (work out, shares in) and the supervisor: the connection's nonce prefix, the difficulty in
// force, the current job, the submissions waiting for an answer, and every share ever sent
// (so none is sent twice, even after a reconnect). All under one lock, taken per message,
// per round and per share, never per hash.

import Foundation
import JSONRPC
import NIOCore
import Primitives
import Stratum

/// What the search thread mines: one job with its connection's prefix and targets.
public struct StratumWork: Sendable {
    /// Changes whenever the nonces to search do (a new header or prefix); the same header sent
    /// again (a new difficulty or job id, a reconnect with the same prefix) keeps it, so the
    /// search continues where it was.
    public var sequence: Int
    /// The connection the job came on (shares found on an older one are never sent).
    public var generation: Int
    public var job: StratumJob
    public var prefix: NoncePrefix
    public var shareTarget: UInt256
    public var blockTarget: UInt256
    public var difficulty: Double

    /// What the device searches for: the easier of the share and block targets, so a block
    /// is never thrown away when the share difficulty is above the network's.
    public var searchTarget: UInt256 { max(shareTarget, blockTarget) }
}

final class StratumSession: @unchecked Sendable {
    let configuration: StratumMinerConfiguration
    let stats: MiningStats
    let events: MiningEventSink

    private enum Pending {
        case subscribe, authorize(String), configure
        case submit(jobID: String, nonce: UInt64, sequence: Int, isBlock: Bool, height: UInt64, hash: Hash256, sentAt: UInt64)
    }

    private let lock = NSLock()
    private var generation = 0
    private var channel: (any Channel)?
    private var nextID = 1
    private var pending: [Int: Pending] = [:]
    private var prefix: NoncePrefix?
    private var difficulty: Double?
    private var work: StratumWork?
    /// The work a block was sent for: its previous block is about to be replaced, so every
    /// further share of it would be stale. Cleared if the pool refuses the block.
    private var solvedSequence: Int?
    private var sequence = 0
    /// The sequence of each recent (header, prefix), so a header sent again later (jobs B, A, B)
    /// resumes its own search instead of finding the same nonces again.
    private var recentWork: [(key: WorkKey, sequence: Int)] = []
    static let recentWorkKept = 8
    /// When the current connection was attached (a connection that lived long resets the backoff).
    private var attachedAt: UInt64?
    private var closeReason: String?
    private var submitted = SubmittedShares()
    private(set) var backoff: ReconnectBackoff
    /// Why the pool will not have us (a refused authorize): the run ends with this error.
    private var refusal: String?
    private var stopped = false

    init(configuration: StratumMinerConfiguration, stats: MiningStats, events: MiningEventSink) {
        self.configuration = configuration
        self.stats = stats
        self.events = events
        backoff = configuration.backoff
    }

    var endpoint: String { configuration.endpoint.description }

    // MARK: Connections

    /// A new connection is about to be made: its generation number (earlier ones' messages are ignored).
    func beginConnection() -> Int {
        lock.withLock {
            generation += 1
            channel = nil
            pending = [:]
            prefix = nil
            difficulty = nil
            work = nil
            closeReason = nil
            return generation
        }
    }

    /// The connection is up: subscribe and authorize at once (the pool answers in order).
    /// A connection that completes after `stop()` is closed at once (nobody else would).
    func attach(_ channel: any Channel, generation: Int) {
        let lines: [[UInt8]]? = lock.withLock {
            guard generation == self.generation, !stopped else { return nil }
            self.channel = channel
            attachedAt = DispatchTime.now().uptimeNanoseconds
            return [
                request(.subscribe, method: StratumMethod.subscribe, params: [.string(configuration.userAgent)]),
                request(.authorize(configuration.user), method: StratumMethod.authorize,
                        params: [.string(configuration.user), .string(configuration.password)]),
            ]
        }
        guard let lines else {
            channel.close(promise: nil)
            return
        }
        for line in lines { send(line, on: channel) }
        watchUnanswered(channel, generation: generation)
    }

    /// Closes the connection when a submission stays unanswered past `submitTimeoutSeconds`
    /// (a pool that keeps the socket open but stopped answering would stall the miner).
    private func watchUnanswered(_ channel: any Channel, generation: Int) {
        let every = TimeAmount.milliseconds(Int64(max(0.05, min(1, configuration.submitTimeoutSeconds / 4)) * 1000))
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: every, delay: every) { [weak self] _ in
            guard let self, let late = self.overdueSubmit(generation: generation) else { return }
            self.noteCloseReason("no answer to a submission for \(String(format: "%.0f", late)) s", generation: generation)
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in task.cancel() }
    }

    /// Seconds the oldest submission of `generation` has waited, when past the timeout.
    func overdueSubmit(generation: Int, now: UInt64 = DispatchTime.now().uptimeNanoseconds) -> Double? {
        lock.withLock {
            guard generation == self.generation else { return nil }
            let oldest = pending.values.compactMap { entry -> UInt64? in
                if case .submit(_, _, _, _, _, _, let sentAt) = entry { sentAt } else { nil }
            }.min()
            guard let oldest else { return nil }
            let waited = Double(now &- oldest) / 1e9
            return waited >= configuration.submitTimeoutSeconds ? waited : nil
        }
    }

    /// The connection ended: why. In-flight submissions are dropped, never resent.
    func detach(generation: Int) -> String {
        lock.withLock {
            guard generation == self.generation else { return "superseded" }
            // Only a connection that worked for a while resets the schedule: a pool that
            // accepts, sends a job and drops us is retried ever more slowly.
            if let attachedAt, Double(DispatchTime.now().uptimeNanoseconds &- attachedAt) / 1e9 >= configuration.backoffResetSeconds {
                backoff.succeeded()
            }
            attachedAt = nil
            channel = nil
            work = nil
            pending = [:]
            return closeReason ?? "connection closed"
        }
    }

    func noteCloseReason(_ reason: String, generation: Int) {
        lock.withLock { if generation == self.generation && closeReason == nil { closeReason = reason } }
    }

    /// The wait before the next connection, and which attempt since the backoff was last reset.
    func nextDelay() -> (seconds: Double, attempt: Int) {
        lock.withLock {
            let delay = backoff.nextDelay()
            return (delay, backoff.failures)
        }
    }

    func stop() {
        let open = lock.withLock { stopped = true; return channel }
        open?.close(promise: nil)
    }

    var isStopped: Bool { lock.withLock { stopped } }
    var refusalReason: String? { lock.withLock { refusal } }
    var currentWork: StratumWork? { lock.withLock { work } }
    /// Whether a block was sent for the work of `sequence` (nothing more to find there).
    func isSolved(_ sequence: Int) -> Bool { lock.withLock { solvedSequence == sequence } }

    // MARK: Messages from the pool (event loop)

    func malformed(_ reason: String, generation: Int) {
        guard lock.withLock({ generation == self.generation }) else { return }
        events.emit(.notice("ignored a line from the pool: \(reason)"))
    }

    func handle(_ message: StratumMessage, generation: Int) {
        var out = [MiningEvent]()
        var replies = [[UInt8]]()
        var close: String?
        let open: (any Channel)? = lock.withLock {
            guard generation == self.generation else { return nil }
            switch message {
            case .response(let id, let result, let error):
                guard let number = id.int64Value, let entry = pending.removeValue(forKey: Int(clamping: number)) else { break }
                close = answered(entry, result: result, error: error, events: &out)
            case .notification(let method, let params):
                notified(method, params: params, events: &out)
            case .request(let id, let method, _):
                // Pools may ask the miner's version; anything else is answered as unknown.
                let reply: StratumMessage = method == "client.get_version"
                    ? .response(id: id, result: .string(configuration.userAgent), error: nil)
                    : .response(id: id, result: .null, error: StratumError(.other, "unknown method \(method)"))
                replies.append(reply.line)
            }
            return channel
        }
        for event in out { events.emit(event) }
        if let open {
            for line in replies { send(line, on: open) }
            if let close {
                noteCloseReason(close, generation: generation)
                open.close(promise: nil)
            }
        }
    }

    /// Handles an answer (lock held); returns a reason to close the connection, if any.
    private func answered(_ entry: Pending, result: JSON, error: StratumError?, events out: inout [MiningEvent]) -> String? {
        switch entry {
        case .subscribe:
            if let error { return "the pool refused mining.subscribe: \(error)" }
            let found: NoncePrefix
            do { found = try StratumSubscribeAnswer.prefix(result) } catch { return "\(error)" }
            prefix = found
            out.append(.connect(endpoint: endpoint, noncePrefix: found.hex))
        case .authorize(let worker):
            if error == nil && result.boolValue == true { break }
            let why = "the pool refused worker '\(worker)': " + (error?.description ?? "mining.authorize answered \(result.text())")
            // Only "unauthorized worker" (24) or a plain false is final; another error (a pool
            // that is full or busy) is retried on a new connection, with backoff.
            if let error, error.code != StratumErrorCode.unauthorizedWorker.rawValue { return why }
            refusal = why
            stopped = true
            return refusal
        case .configure:
            break
        case .submit(let jobID, let nonce, let sequence, let isBlock, let height, let hash, let sentAt):
            let latency = Double(DispatchTime.now().uptimeNanoseconds &- sentAt) / 1e6
            if error == nil && result.boolValue == true {
                // A block is counted when the pool said true and the hash met the block target
                // (checked here before sending); the pool may still have put it on a side branch.
                stats.accepted(isBlock: isBlock, latency: latency)
                backoff.succeeded()
                out.append(.share(job: jobID, nonce: nonce, accepted: true, reason: nil, latency: latency))
                if isBlock { out.append(.block(height: height, hash: hash.hex, accepted: true, reason: nil)) }
            } else {
                let code = error?.code ?? StratumErrorCode.other.rawValue
                let kind = Self.rejectionKind(code: code, message: error?.message ?? "")
                let reason = "\(kind): " + (error?.message ?? "mining.submit answered \(result.text())")
                stats.rejected(reason: kind, stale: kind == ShareRejection.stale.rawValue, latency: latency)
                out.append(.share(job: jobID, nonce: nonce, accepted: false, reason: reason, latency: latency))
                if isBlock {
                    out.append(.block(height: height, hash: hash.hex, accepted: false, reason: reason))
                    if solvedSequence == sequence { solvedSequence = nil }
                }
            }
        }
        return nil
    }

    /// The counting name of a Stratum error code. Code 21 covers both a job built on an old tip
    /// (stale, counted as S) and a job the pool does not know ("job not found": counted as R).
    static func rejectionKind(code: Int, message: String = "") -> String {
        switch StratumErrorCode(rawValue: code) {
        case .jobNotFound:
            let text = message.lowercased()
            return text.contains("not found") || text.contains("unknown") ? ShareRejection.unknownJob.rawValue : ShareRejection.stale.rawValue
        case .duplicateShare: return ShareRejection.duplicate.rawValue
        case .lowDifficultyShare: return ShareRejection.lowDifficulty.rawValue
        case .unauthorizedWorker: return ShareRejection.unauthorized.rawValue
        case .notSubscribed: return ShareRejection.notSubscribed.rawValue
        case .other: return ShareRejection.invalid.rawValue
        case nil: return "error-\(code)"
        }
    }

    private func notified(_ method: String, params: [JSON], events out: inout [MiningEvent]) {
        switch method {
        case StratumMethod.setDifficulty:
            guard let value = params.first?.doubleValue, value.isFinite, value > 0 else {
                out.append(.notice("ignored mining.set_difficulty without a positive number"))
                return
            }
            difficulty = value
            stats.setDifficulty(value)
            out.append(.difficulty(value))
        case StratumMethod.notify:
            let job: StratumJob
            do { job = try StratumJob(notifyParams: params) } catch {
                out.append(.notice("ignored a job: \(error)"))
                return
            }
            guard let prefix else {
                out.append(.notice("ignored job \(job.id): it came before the subscribe answer"))
                return
            }
            guard let blockTarget = try? CompactTarget(bits: job.header.bits).target() else {
                out.append(.notice("ignored job \(job.id): its bits are no valid target"))
                return
            }
            let shareDifficulty = difficulty ?? 1
            let shareTarget = ShareDifficulty.target(difficulty: shareDifficulty, powLimit: configuration.powLimit)
            // A header seen recently on the same prefix (a new difficulty, a new id for it, a
            // reconnect, jobs B, A, B): the search goes on where it was instead of searching
            // the same nonces again.
            work = StratumWork(sequence: sequenceFor(WorkKey(header: job.header, prefix: prefix)), generation: generation, job: job,
                               prefix: prefix, shareTarget: shareTarget, blockTarget: blockTarget, difficulty: shareDifficulty)
        default:
            break // client.reconnect, set_extranonce, show_message: not used by this protocol
        }
    }

    /// The sequence of a recent (header, prefix), or a new one (lock held).
    private func sequenceFor(_ key: WorkKey) -> Int {
        if let known = recentWork.first(where: { $0.key == key }) { return known.sequence }
        sequence += 1
        recentWork.append((key, sequence))
        if recentWork.count > Self.recentWorkKept { recentWork.removeFirst() }
        return sequence
    }

    // MARK: Shares from the search thread

    /// What became of a hit.
    enum SubmitOutcome: Equatable { case sent, duplicate, stale, skipped }

    /// Sends a share of `work` unless it was sent before, its connection is gone, a block was
    /// sent for it already, or too many submissions are waiting for an answer (then it is
    /// skipped and counted).
    @discardableResult
    func submit(_ work: StratumWork, time: UInt64, nonce: UInt64, hash: Hash256, isBlock: Bool) -> SubmitOutcome {
        let key = ShareKey(header: WorkKey.headerBytes(work.job.header), time: time, nonce: nonce)
        let (outcome, line, open): (SubmitOutcome, [UInt8], (any Channel)?) = lock.withLock {
            guard work.generation == generation, let channel, solvedSequence != work.sequence else { return (.stale, [], nil) }
            guard !submitted.contains(key) else { return (.duplicate, [], nil) }
            let waiting = pending.values.reduce(0) { if case .submit = $1 { $0 + 1 } else { $0 } }
            guard waiting < configuration.maxInFlight else { return (.skipped, [], nil) }
            submitted.insert(key)
            if isBlock { solvedSequence = work.sequence }
            let submission = ShareSubmission(worker: configuration.user, jobID: work.job.id, time: time, nonce: nonce)
            let line = request(.submit(jobID: work.job.id, nonce: nonce, sequence: work.sequence, isBlock: isBlock, height: work.job.header.height, hash: hash,
                                       sentAt: DispatchTime.now().uptimeNanoseconds),
                               method: StratumMethod.submit, params: submission.params)
            return (.sent, line, channel)
        }
        if outcome == .skipped { stats.skipped() }
        if let open { send(line, on: open) }
        return outcome
    }

    // MARK: Writing

    /// A request line with a fresh id, recorded as pending (lock held).
    private func request(_ entry: Pending, method: String, params: [JSON]) -> [UInt8] {
        let id = nextID
        nextID += 1
        pending[id] = entry
        return StratumMessage.request(id: .int(id), method: method, params: params).line
    }

    private func send(_ line: [UInt8], on channel: any Channel) {
        channel.writeAndFlush(channel.allocator.buffer(bytes: line), promise: nil)
    }
}

/// A header without its time and nonce (those are the miner's), with the prefix it is mined on.
struct WorkKey: Hashable {
    var header: [UInt8]
    var prefix: NoncePrefix

    init(header: BlockHeader, prefix: NoncePrefix) {
        self.header = Self.headerBytes(header)
        self.prefix = prefix
    }

    static func headerBytes(_ header: BlockHeader) -> [UInt8] {
        var bare = header
        bare.time = 0
        bare.nonce = 0
        return bare.encoded
    }
}

/// A share as it hashes: the header (without time and nonce), the time and the nonce. Keyed by
/// header, not job id, so a header re-sent under another id is never submitted twice.
struct ShareKey: Hashable, Sendable {
    var header: [UInt8]
    var time: UInt64
    var nonce: UInt64
}

/// Every share sent, for the most recent headers (older ones are stale: nothing is mined on them).
struct SubmittedShares {
    static let headersKept = 64
    private var headers: [[UInt8]: Set<TimeNonce>] = [:]
    private var order: [[UInt8]] = []

    struct TimeNonce: Hashable { var time: UInt64; var nonce: UInt64 }

    func contains(_ key: ShareKey) -> Bool { headers[key.header]?.contains(TimeNonce(time: key.time, nonce: key.nonce)) == true }

    mutating func insert(_ key: ShareKey) {
        if headers[key.header] == nil {
            order.append(key.header)
            if order.count > Self.headersKept { headers[order.removeFirst()] = nil }
        }
        headers[key.header, default: []].insert(TimeNonce(time: key.time, nonce: key.nonce))
    }
}
