// The pool's shared state: connections and their nonce prefixes, the current template, job
// ids, and the worker accounts. Each connection's own state lives in its StratumSession,
// confined to the connection's event loop.

import ChainState
import Consensus
import Foundation
import Logging
import Mempool
import NIOCore
import Primitives
import Stratum

public final class StratumPool: @unchecked Sendable {
    let settings: StratumServerSettings
    let parameters: ConsensusParameters
    let chain: ChainService
    let mempool: Mempool
    let templates: BlockTemplateSource
    let accounting: StratumAccounting
    let logger: Logger
    /// Blocks found by shares are accepted here, off the event loops (the chain's writer may be busy).
    let blockQueue = DispatchQueue(label: "stratum-blocks")

    private let lock = NSLock()
    private var prefixes: NoncePrefixAllocator
    private var sessions: [UInt64: StratumSession] = [:]
    private var nextSessionID: UInt64 = 1
    private var nextJobNumber: UInt64 = 1
    private var templateSerial: UInt64 = 0
    private var current: PoolTemplate?
    /// Open connections per IP address (the per-IP cap).
    private var perIP = [String: Int]()
    /// Refused connections not yet logged, and when the last refusal line was written.
    private var refusedUnlogged = 0
    private var lastRefusalLog: Double?
    static let refusalLogIntervalSeconds = 10.0

    /// Good shares per template serial, pool-wide: a nonce prefix is reused after its
    /// connection closed, so a per-connection memory would let a reconnecting miner replay
    /// its shares. Templates older than `oldestSharesSerial` are forgotten (their shares are
    /// refused as stale): those of an older tip, and all but the newest `jobsPerConnection`.
    private let sharesLock = NSLock()
    private var seenShares = [UInt64: Set<ShareKey>]()
    private var oldestSharesSerial: UInt64 = 0    /// The address the server listens on, once bound ("host:port").
    private var listening: (host: String, port: Int)?

    init(settings: StratumServerSettings, parameters: ConsensusParameters, chain: ChainService, mempool: Mempool,
         metrics: NodeMetrics, logger: Logger) {
        self.settings = settings
        self.parameters = parameters
        self.chain = chain
        self.mempool = mempool
        self.logger = logger
        templates = BlockTemplateSource(chain: chain, mempool: mempool, parameters: parameters, logger: logger)
        accounting = StratumAccounting(metrics: metrics, powLimit: parameters.powLimit)
        prefixes = NoncePrefixAllocator(limit: settings.maxConnections)
    }

    // MARK: connections

    /// A session for a new connection; nil (after logging the refusal, rate-limited) when
    /// every prefix (or connection slot) is taken or `ip` has its share of connections.
    func open(channel: Channel, peer: String, ip: String) -> StratumSession? {
        let opened = lock.withLock { () -> Result<StratumSession, RefusalReason> in
            guard perIP[ip, default: 0] < settings.maxConnectionsPerIP else { return .failure(.perIP) }
            guard let prefix = prefixes.allocate() else { return .failure(.full) }
            defer { nextSessionID += 1 }
            let session = StratumSession(id: nextSessionID, pool: self, channel: channel, peer: peer, ip: ip, prefix: prefix)
            sessions[session.id] = session
            perIP[ip, default: 0] += 1
            return .success(session)
        }
        switch opened {
        case .success(let session):
            accounting.connectionCount(connectionCount)
            return session
        case .failure(let reason):
            refused(peer: peer, reason)
            return nil
        }
    }

    enum RefusalReason: Error { case full, perIP }

    /// Logs refused connections at most once per `refusalLogIntervalSeconds`, with a count (a
    /// connect flood must not flood the log).
    private func refused(peer: String, _ reason: RefusalReason) {
        let now = StratumSession.monotonicSeconds()
        let line = lock.withLock { () -> String? in
            refusedUnlogged += 1
            if let last = lastRefusalLog, now - last < Self.refusalLogIntervalSeconds { return nil }
            lastRefusalLog = now
            defer { refusedUnlogged = 0 }
            let why = switch reason {
            case .full: "\(sessions.count) connections open (stratummaxconnections \(settings.maxConnections))"
            case .perIP: "its address has \(settings.maxConnectionsPerIP) connections (stratummaxconnectionsperip)"
            }
            let others = refusedUnlogged > 1 ? "; \(refusedUnlogged) refused since the last such line" : ""
            return "stratum: connection from \(peer) refused: \(why)\(others)"
        }
        if let line { logger.warning("\(line)") }
    }

    /// Forgets a connection (its prefix, its IP's slot, its workers' connections); a second call does nothing.
    func close(_ session: StratumSession) {
        let removed = lock.withLock { () -> Bool in
            guard sessions.removeValue(forKey: session.id) != nil else { return false }
            prefixes.free(session.prefix)
            let left = perIP[session.ip, default: 1] - 1
            perIP[session.ip] = left > 0 ? left : nil
            return true
        }
        guard removed else { return }
        accounting.disconnected(accounts: session.accountNames)
        accounting.connectionCount(connectionCount)
    }

    var allSessions: [StratumSession] { lock.withLock { sessions.values.sorted { $0.id < $1.id } } }
    var connectionCount: Int { lock.withLock { sessions.count } }

    func bound(host: String, port: Int) { lock.withLock { listening = (host, port) } }
    /// The port actually listened on (the configured one, or the one picked for port 0).
    var port: Int { lock.withLock { listening?.port ?? settings.port } }

    // MARK: jobs

    var currentTemplate: PoolTemplate? { lock.withLock { current } }

    /// A job id no other job of this server has had (hex).
    func makeJobID() -> String {
        lock.withLock {
            defer { nextJobNumber += 1 }
            return String(nextJobNumber, radix: 16)
        }
    }

    func nextTemplateSerial() -> UInt64 {
        lock.withLock {
            templateSerial += 1
            return templateSerial
        }
    }

    /// Makes `template` the current one and sends it to every connection that takes jobs
    /// (each session decides clean_jobs from the previous block it last sent, and skips a
    /// template older than its newest job).
    func publish(_ template: PoolTemplate) {
        let targets = lock.withLock { () -> [StratumSession] in
            current = template
            return Array(sessions.values)
        }
        sharesLock.withLock {
            let window = template.serial - min(template.serial, UInt64(max(settings.jobsPerConnection, 1)) - 1)
            oldestSharesSerial = max(oldestSharesSerial, template.clean ? template.serial : window)
            seenShares = seenShares.filter { $0.key >= oldestSharesSerial }
        }
        for session in targets {
            session.eventLoop.execute { session.deliver(template) }
        }
    }

    /// (time, nonce) of a good share; with the template's serial it names a share pool-wide
    /// (nonces are unique to a prefix, and a prefix to one connection at a time).
    struct ShareKey: Hashable {
        let time: UInt64
        let nonce: UInt64
    }

    enum ShareMemory { case new, duplicate, forgotten }

    /// Whether a share was seen on `serial`'s template; with `remember`, records it when new.
    func shareMemory(_ key: ShareKey, serial: UInt64, remember: Bool) -> ShareMemory {
        sharesLock.withLock {
            guard serial >= oldestSharesSerial else { return .forgotten }
            if seenShares[serial]?.contains(key) == true { return .duplicate }
            if remember { seenShares[serial, default: []].insert(key) }
            return .new
        }
    }

    /// The housekeeping tick, run on each connection's loop.
    func tick() {
        let now = StratumSession.monotonicSeconds()
        for session in allSessions {
            session.eventLoop.execute { session.tick(now: now) }
        }
    }

    /// Accepts a block a share solved (on `blockQueue`); the chain's tip events announce it to
    /// peers. Success: whether it joined the best chain.
    func acceptBlock(_ block: Block, worker: String) -> Result<Bool, StratumError> {
        do {
            let result = try chain.accept(block)
            logger.notice("stratum: block \(block.hash.hex) at height \(block.header.height) found by \(worker): \(result)")
            return .success(result == .connected)
        } catch let error as ChainStateError {
            let reason: String
            if case .rejected(let rejection, _, _) = error { reason = rejection.rule.rawValue } else { reason = "\(error)" }
            logger.error("stratum: block \(block.hash.hex) from \(worker) refused: \(error)")
            return .failure(StratumError(.other, "block refused: \(reason)"))
        } catch {
            logger.error("stratum: block \(block.hash.hex) from \(worker) not stored: \(error)")
            return .failure(StratumError(.other, "block not stored: \(error)"))
        }
    }
}
