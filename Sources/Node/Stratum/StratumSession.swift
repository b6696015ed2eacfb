// One miner connection's protocol state: subscription, authorized workers, its nonce prefix,
// its variable difficulty, the jobs it was sent and how many shares it had on each template. Every
// method runs on the connection's event loop; the lock only lets getstratuminfo read a
// consistent summary from another thread.

import Foundation
import JSONRPC
import NIOCore
import Primitives
import Stratum
import Wallet

final class StratumSession: @unchecked Sendable {
    /// A job as this connection got it: the template, and the share target then in force.
    struct Job {
        let id: String
        let template: PoolTemplate
        let shareTarget: UInt256
        let difficulty: Double
    }

    /// What `getstratuminfo` shows of a session.
    struct Summary {
        let id: UInt64
        let peer: String
        let prefix: String
        let userAgent: String?
        let workers: [String]
        let difficulty: Double
        let accepted: UInt64
        let connected: UInt64
    }

    let id: UInt64
    let pool: StratumPool
    let channel: Channel
    let peer: String
    /// The peer's IP address (the per-IP connection count).
    let ip: String
    let prefix: NoncePrefix
    var eventLoop: EventLoop { channel.eventLoop }
    /// Unix time of the connection.
    let connectedAt = UInt64(Date().timeIntervalSince1970)
    private let openedAt = StratumSession.monotonicSeconds()

    /// Guards the state below (read by getstratuminfo; every change happens on the event loop).
    let lock = NSLock()
    var subscribed = false
    private var userAgent: String?
    /// Authorized worker names, in the order authorized.
    var workers = [String]()
    /// The account each worker is counted under (its name, or the accounting's overflow one).
    private(set) var accounts = [String]()
    var difficulty: VariableDifficulty
    /// The last jobs sent, oldest first.
    var jobs = [Job]()
    /// Good shares per template serial (templates of remembered jobs only), for the per-connection cap.
    var sharesPerTemplate = [UInt64: Int]()
    var accepted: UInt64 = 0
    private var consecutiveBadMessages = 0
    /// The newest template sent as a job, and the previous block of the last job sent: an
    /// older template is never sent after a newer one, and clean_jobs is set exactly when
    /// the previous block changes.
    private var newestSerialSent: UInt64 = 0
    private var lastPreviousHash: Hash256?
    /// Set once the connection is being closed (the tick does not close it again).
    private var closing = false
    var isClosing: Bool { lock.withLock { closing } }

    init(id: UInt64, pool: StratumPool, channel: Channel, peer: String, ip: String, prefix: NoncePrefix) {
        self.id = id
        self.pool = pool
        self.channel = channel
        self.peer = peer
        self.ip = ip
        self.prefix = prefix
        difficulty = VariableDifficulty(settings: pool.settings.difficulty, now: openedAt)
    }

    static func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    var workerNames: [String] { lock.withLock { workers } }
    var accountNames: [String] { lock.withLock { accounts } }

    /// The account a worker of this connection is counted under. Lock held.
    func account(of worker: String) -> String? {
        workers.firstIndex(of: worker).map { accounts[$0] }
    }

    var summary: Summary {
        lock.withLock {
            Summary(id: id, peer: peer, prefix: prefix.hex, userAgent: userAgent, workers: workers, difficulty: difficulty.difficulty,
                    accepted: accepted, connected: connectedAt)
        }
    }

    /// Whether jobs are sent: subscribed, and at least one worker authorized.
    private var takesJobs: Bool { subscribed && !workers.isEmpty }

    // MARK: sending

    /// While the handler reads a burst of lines, answers are flushed once at its end.
    var flushDeferred = false

    func send(_ messages: [StratumMessage]) {
        guard !messages.isEmpty, channel.isActive else { return }
        for message in messages {
            var buffer = channel.allocator.buffer(capacity: 512)
            buffer.writeBytes(message.line)
            channel.write(buffer, promise: nil)
        }
        if !flushDeferred { channel.flush() }
    }

    /// Closes the connection once what was written before is sent (an error's explanation),
    /// or after `closeGraceSeconds` when the peer does not read it; once only.
    func closeAfterWrites() {
        let first = lock.withLock { () -> Bool in
            defer { closing = true }
            return !closing
        }
        guard first else { return }
        let channel = channel
        channel.writeAndFlush(channel.allocator.buffer(capacity: 0)).whenComplete { _ in channel.close(promise: nil) }
        let grace = Int64(pool.settings.closeGraceSeconds * 1_000_000_000)
        channel.eventLoop.scheduleTask(in: .nanoseconds(grace)) { channel.close(promise: nil) }
    }

    /// A new current template from the pool; skipped when this connection already has it or a newer one.
    func deliver(_ template: PoolTemplate) {
        send(lock.withLock { takesJobs && template.serial > newestSerialSent ? [jobMessage(template)] : [] })
    }

    /// `mining.notify` for `template` as a new job of this connection (recorded with the
    /// current share target), clean when its previous block differs from the last job's. Lock held.
    private func jobMessage(_ template: PoolTemplate) -> StratumMessage {
        let clean = template.previousHash != lastPreviousHash
        lastPreviousHash = template.previousHash
        newestSerialSent = max(newestSerialSent, template.serial)
        let level = difficulty.difficulty
        let job = Job(id: pool.makeJobID(), template: template,
                      shareTarget: ShareDifficulty.target(difficulty: level, powLimit: pool.parameters.powLimit), difficulty: level)
        jobs.append(job)
        if jobs.count > pool.settings.jobsPerConnection { jobs.removeFirst(jobs.count - pool.settings.jobsPerConnection) }
        let kept = Set(jobs.map(\.template.serial))
        sharesPerTemplate = sharesPerTemplate.filter { kept.contains($0.key) }
        return .notification(method: StratumMethod.notify, params: StratumJob(id: job.id, header: template.header, cleanJobs: clean).notifyParams)
    }

    /// set_difficulty then a new job on the newest template, the pool's current one or the
    /// last one sent (a newer one may still be on its way here). Lock held.
    func difficultyAndJob() -> [StratumMessage] {
        var messages: [StratumMessage] = [.notification(method: StratumMethod.setDifficulty, params: [.double(difficulty.difficulty)])]
        let current = pool.currentTemplate
        let newest = current.map { $0.serial >= newestSerialSent } == true ? current : jobs.last?.template ?? current
        if let newest { messages.append(jobMessage(newest)) }
        return messages
    }

    // MARK: receiving

    /// An undecodable line: an error naming the problem; false when the connection should close.
    func badLine(_ reason: String) -> Bool {
        send([.response(id: .null, result: .null, error: StratumError(.other, reason))])
        return lock.withLock { countBad() }
    }

    /// Counts a bad message; false once too many came in a row. Lock held.
    func countBad() -> Bool {
        consecutiveBadMessages += 1
        return consecutiveBadMessages < pool.settings.maxConsecutiveBadMessages
    }

    /// Handles one message; false when the connection should close.
    func receive(_ message: StratumMessage) -> Bool {
        let id: JSON, method: String, params: [JSON]
        switch message {
        case .request(let requestID, let name, let values): (id, method, params) = (requestID, name, values)
        case .notification(let name, let values): (id, method, params) = (.null, name, values)
        case .response: return true  // answers to calls this server never makes
        }
        var replies = [StratumMessage]()
        let keep = lock.withLock { () -> Bool in
            let answer: Result<JSON, StratumError>
            var after = [StratumMessage]()
            switch method {
            case StratumMethod.subscribe: answer = subscribe(params, then: &after)
            case StratumMethod.authorize: answer = authorize(params, then: &after)
            case StratumMethod.configure: answer = configure(params)
            case StratumMethod.extranonceSubscribe: answer = .success(false)
            case StratumMethod.submit:
                switch submit(params, id: id) {
                case .answer(let result, let more):
                    answer = result
                    after = more
                case .pending: return true
                }
            default: answer = .failure(StratumError(.other, "unknown method \(String(method.prefix(64)))"))
            }
            switch answer {
            case .success(let result):
                consecutiveBadMessages = 0
                replies.append(.response(id: id, result: result, error: nil))
            case .failure(let error):
                replies.append(.response(id: id, result: .null, error: error))
                // Rejected shares are a miner's normal business; other errors are bad messages.
                if method != StratumMethod.submit || error.code == StratumErrorCode.other.rawValue, !countBad() {
                    return false
                }
            }
            replies += after
            return true
        }
        send(replies)
        return keep
    }

    /// Longest user agent kept.
    static let maxUserAgentBytes = 256

    private func subscribe(_ params: [JSON], then after: inout [StratumMessage]) -> Result<JSON, StratumError> {
        if let agent = params.first?.stringValue { userAgent = String(decoding: agent.utf8.prefix(Self.maxUserAgentBytes), as: UTF8.self) }
        let wasTakingJobs = takesJobs
        subscribed = true
        if takesJobs && !wasTakingJobs { after = difficultyAndJob() }
        let subscription = String(id, radix: 16)
        let subscriptions: [JSON] = [.array([.string(StratumMethod.setDifficulty), .string(subscription)]),
                                     .array([.string(StratumMethod.notify), .string(subscription)])]
        return .success(.array([.array(subscriptions), .string(prefix.hex), .int(prefix.suffixByteCount)]))
    }

    private func authorize(_ params: [JSON], then after: inout [StratumMessage]) -> Result<JSON, StratumError> {
        guard let name = params.first?.stringValue, !name.isEmpty, name.utf8.count <= 256 else {
            return .failure(StratumError(.unauthorizedWorker, "authorize needs a user name (ADDRESS or ADDRESS.WORKER) of at most 256 bytes"))
        }
        let address = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        do {
            _ = try Address(parsing: address, network: pool.settings.network)
        } catch {
            return .failure(StratumError(.unauthorizedWorker, "'\(address)' is not an address of \(pool.settings.network): \(error)"))
        }
        if workers.contains(name) { return .success(true) }
        guard workers.count < pool.settings.workersPerConnection else {
            return .failure(StratumError(.unauthorizedWorker, "at most \(pool.settings.workersPerConnection) workers per connection"))
        }
        let account = pool.accounting.connected(worker: name, difficulty: difficulty.difficulty, now: Self.monotonicSeconds())
        let wasTakingJobs = takesJobs
        workers.append(name)
        accounts.append(account)
        if takesJobs && !wasTakingJobs { after = difficultyAndJob() }
        return .success(true)
    }

    private func configure(_ params: [JSON]) -> Result<JSON, StratumError> {
        guard let extensions = params.first?.arrayValue, extensions.count <= 16 else {
            return .failure(StratumError(.other, "mining.configure needs [[extensions], {params}]"))
        }
        var answer = JSONObject()
        for item in extensions {
            guard let name = item.stringValue, name.utf8.count <= 64 else {
                return .failure(StratumError(.other, "mining.configure: extension names must be strings of at most 64 bytes"))
            }
            answer[name] = false
        }
        return .success(.object(answer))
    }

    // MARK: housekeeping

    /// Closes a connection that has not both subscribed and authorized a worker within
    /// `idleTimeout`; eases a quiet miner's difficulty.
    func tick(now: Double) {
        var close = false
        let messages = lock.withLock { () -> [StratumMessage] in
            guard !closing else { return [] }
            guard takesJobs else {
                close = now - openedAt >= pool.settings.idleTimeout
                return []
            }
            guard let changed = difficulty.idle(at: now) else { return [] }
            pool.accounting.difficultyChanged(workers: accounts, to: changed)
            return difficultyAndJob()
        }
        if close {
            pool.logger.info("stratum: closing \(peer): not subscribed and authorized after \(pool.settings.idleTimeout) s")
            closeAfterWrites()
            return
        }
        send(messages)
    }
}
