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
    /// The address the server listens on, once bound ("host:port").
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

    /// A session for a new connection; nil when every prefix (or connection slot) is taken.
    func open(channel: Channel, peer: String) -> StratumSession? {
        let opened = lock.withLock { () -> StratumSession? in
            guard let prefix = prefixes.allocate() else { return nil }
            defer { nextSessionID += 1 }
            let session = StratumSession(id: nextSessionID, pool: self, channel: channel, peer: peer, prefix: prefix)
            sessions[session.id] = session
            return session
        }
        accounting.connectionCount(lock.withLock { sessions.count })
        return opened
    }

    func close(_ session: StratumSession) {
        let removed = lock.withLock { () -> Bool in
            guard sessions.removeValue(forKey: session.id) != nil else { return false }
            prefixes.free(session.prefix)
            return true
        }
        guard removed else { return }
        accounting.disconnected(workers: session.workerNames)
        accounting.connectionCount(lock.withLock { sessions.count })
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

    /// Makes `template` the current one and sends it to every connection that takes jobs.
    func publish(_ template: PoolTemplate) {
        let targets = lock.withLock { () -> [StratumSession] in
            current = template
            return Array(sessions.values)
        }
        for session in targets {
            session.eventLoop.execute { session.deliver(template) }
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
