// `rusty node`: the services of one node process under swift-service-lifecycle (DESIGN 9).

import AddressBook
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Logging
import JSONRPC
import Mempool
import NIOCore
import NIOPosix
import Primitives
import RPCServer
import ServiceLifecycle
import TxIndex
import Verification
import Wallet

/// What the node needs, resolved from its configuration by the command.
public struct NodeSetup: Sendable {
    public var network: String
    /// `<datadir>/<network>`: chain state, block files, peers.dat, banlist, debug.log, status.
    public var directory: String
    public var dbcacheMiB: Int
    public var p2p: P2PSettings
    public var pipeline: VerificationPipeline.Options
    public var verifier: any SignatureBatchVerifier
    /// The JSON-RPC server; nil with `server=0`.
    public var rpc: RPCServerSettings?
    /// Where the RPC cookie is written at start (and removed at shutdown); nil when the
    /// operator set rpcpassword (bitcoind writes no cookie then).
    public var rpcCookieFile: String?
    public var txindex = false
    public var walletEnabled = true
    /// The mempool's policy; nil: the network's defaults (its chain parameters' relayPolicy).
    public var mempoolPolicy: MempoolPolicy?
    /// Save the pool to mempool.dat at shutdown and load it at start (`persistmempool`).
    public var persistMempool = true
    /// The Stratum pool server; nil without `stratum`.
    public var stratum: StratumServerSettings?
    /// Problems worth telling the operator at start that do not stop the node (a key file others can read).
    public var startupWarnings: [String] = []

    public init(network: String, directory: String, dbcacheMiB: Int, p2p: P2PSettings, pipeline: VerificationPipeline.Options,
                verifier: any SignatureBatchVerifier) {
        self.network = network
        self.directory = directory
        self.dbcacheMiB = dbcacheMiB
        self.p2p = p2p
        self.pipeline = pipeline
        self.verifier = verifier
    }
}

public enum NodeDaemon {
    /// Runs the node until SIGINT or SIGTERM, then shuts down gracefully: peers closed, the
    /// chain state flushed, peers.dat and banlist saved. Throws when it cannot start (the
    /// datadir in use, a port taken): `ChainStateError.inUse` for a locked datadir.
    public static func run(_ setup: NodeSetup, logging: NodeLogging, status: NodeStatusReporter? = nil) throws {
        let logger = logging.logger("node")
        for warning in setup.startupWarnings { logger.warning("\(warning)") }
        let chainParameters = try ChainParameters.builtIn(setup.network)
        let parameters = try ConsensusParameters(chainParameters)
        try FileManager.default.createDirectory(atPath: setup.directory, withIntermediateDirectories: true)
        let metrics = NodeMetrics()
        let state = try ChainState(directory: setup.directory, parameters: parameters, cacheMiB: setup.dbcacheMiB)
        state.signatureVerifier = CountingVerifier(inner: setup.verifier, metrics: metrics)
        if state.replayedBlocks > 0 { logger.info("connected \(state.replayedBlocks) blocks the block files held past the last flush") }
        let database = state.database
        let chain = ChainService(state)
        let snapshot = chain.snapshot
        logger.info("chain state at height \(snapshot.tipHeight) \(snapshot.tipHash.hex) (\(setup.network), \(setup.directory))")
        logger.info("signatures verified by \(setup.pipeline.backendName) in batches of \(setup.pipeline.batchSize)")

        let peersFile = (setup.directory as NSString).appendingPathComponent("peers.dat")
        let banFile = (setup.directory as NSString).appendingPathComponent("banlist")
        let addresses = loadAddresses(peersFile, allowLocal: setup.p2p.allowLocalAddresses, logger: logger)
        let bans = loadBans(banFile, logger: logger)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        // RPC connections on a loop of their own: a busy peer loop never delays an operator's call.
        let rpcGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? rpcGroup.syncShutdownGracefully() }
        let clock = NodeClock()
        let mempool = Mempool(chain: chain, parameters: parameters, policy: setup.mempoolPolicy ?? MempoolPolicy(chainParameters.relayPolicy),
                              now: { clock.now })
        mempool.start()
        defer { mempool.stop() }
        let feeEstimatesFile = (setup.directory as NSString).appendingPathComponent("fee_estimates.dat")
        if FileManager.default.fileExists(atPath: feeEstimatesFile) {
            do { try mempool.feeEstimator.load(from: feeEstimatesFile) } catch {
                logger.warning("\(feeEstimatesFile): \(error); fee estimation starts without history")
            }
        }
        let txIndex = setup.txindex ? try TransactionIndex(chain: chain, database: database) : nil
        txIndex?.onFailure { logger.error("txindex stopped: \($0)") }
        txIndex?.start()
        defer { txIndex?.stop() }
        let wallet = setup.walletEnabled ? try Wallet.openIfPresent(directory: setup.directory, network: setup.network, chain: chain) : nil
        if wallet != nil { logger.info("wallet \(setup.directory)/wallet.dat loaded") }
        wallet?.start()
        defer { wallet?.stop() }
        // The pool as it was at the last shutdown, checked again against the chain as it is now.
        let mempoolFile = (setup.directory as NSString).appendingPathComponent("mempool.dat")
        if setup.persistMempool {
            do {
                let report = try mempool.load(from: mempoolFile)
                if report.accepted + report.failed + report.expired + report.alreadyPresent > 0 {
                    logger.info("\(mempoolFile): \(report.accepted) transactions loaded, \(report.failed) no longer valid, \(report.expired) expired")
                }
            } catch {
                logger.warning("\(mempoolFile): \(error); starting with an empty mempool")
            }
        }
        // The wallet's own sends still unconfirmed at the last shutdown go back to the pool,
        // and are announced to peers once the P2P layer runs.
        var resubmitted = [Hash256]()
        for transaction in wallet?.pendingTransactions ?? [] {
            switch mempool.submit(transaction, source: "wallet") {
            case .accepted(let entry): resubmitted.append(entry.wtxid)
            case .rejected(let rejection) where rejection.kind == .alreadyInPool:
                if let pooled = mempool.entry(txid: transaction.txid) { resubmitted.append(pooled.wtxid) }
            case .rejected(let rejection):
                logger.info("wallet transaction \(transaction.txid.hex) not resubmitted: \(rejection.rule)")
            }
        }
        let manager = PeerManager(group: group, chain: chain, parameters: parameters, settings: setup.p2p, logger: logging.logger("p2p"),
                                  addresses: addresses, bans: bans, pool: mempool, pipelineOptions: setup.pipeline.counted(in: metrics))
        for wtxid in resubmitted { manager.relayTransaction(wtxid: wtxid) }
        manager.startGovernanceExecutions(datadir: setup.directory)
        // A masternode's quorum commitments enter its own pool and relay like any transaction.
        let quorumLogger = logging.logger("quorum")
        manager.startQuorums(datadir: setup.directory) { [mempool, manager] transaction in
            DispatchQueue.global().async {
                switch mempool.submit(transaction, source: "quorum") {
                case .accepted(let entry): manager.relayTransaction(wtxid: entry.wtxid)
                case .rejected(let rejection):
                    quorumLogger.info("quorum commitment \(transaction.txid.hex) not pooled: \(rejection.rule) \(rejection)")
                }
            }
        }
        var services: [any Service] = [P2PService(manager: manager, logger: logger)]
        if let status { services.append(StatusService(manager: manager, reporter: status)) }
        let stopper = ShutdownTrigger()
        services.append(MetricsService(metrics: metrics, manager: manager, chain: chain, mempool: mempool))
        services.append(MempoolService(mempool: mempool, logger: logging.logger("mempool")))
        // Miners on a loop group of their own: a flood of shares never delays peers or RPC calls.
        let stratumGroup = setup.stratum.map { _ in MultiThreadedEventLoopGroup(numberOfThreads: 2) }
        defer { try? stratumGroup?.syncShutdownGracefully() }
        var stratumPool: StratumPool?
        if let stratumSettings = setup.stratum, let stratumGroup {
            let pool = StratumPool(settings: stratumSettings, parameters: parameters, chain: chain, mempool: mempool, metrics: metrics,
                                   logger: logging.logger("stratum"))
            services.append(StratumService(server: StratumServer(pool: pool, group: stratumGroup), logger: logger))
            stratumPool = pool
        }
        if let rpcSettings = setup.rpc {
            let context = NodeRPCContext(network: setup.network, directory: setup.directory, parameters: parameters, chain: chain,
                                         peers: manager, mempool: mempool, txIndex: txIndex, wallet: wallet, metrics: metrics,
                                         clock: clock, logger: logging.logger("rpc"), requestStop: { stopper.trigger() })
            context.stratum = stratumPool
            context.operatorKeys = setup.p2p.operatorKeys
            let registry = RPCRegistry()
            context.registerAll(in: registry)
            let dispatcher = RPCDispatcher(registry: registry) { method, seconds, success in
                metrics.recordRPC(method: method, seconds: seconds, success: success)
            }
            // Last in the list, so the graceful shutdown stops it first: no call runs against a closing node.
            services.append(RPCService(settings: rpcSettings, cookieFile: setup.rpcCookieFile, dispatcher: dispatcher, group: rpcGroup,
                                       logger: logging.logger("rpc"), metrics: metrics))
        }
        let serviceGroup = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                             gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        stopper.group = serviceGroup
        let failure = runBlocking { try await serviceGroup.run() }

        logger.info("shutting down: flushing the chain state")
        do { try chain.flush() } catch { logger.critical("could not flush the chain state: \(error)") }
        do { try addresses.save(to: peersFile) } catch { logger.error("could not save \(peersFile): \(error)") }
        do { try bans.save(to: banFile) } catch { logger.error("could not save \(banFile): \(error)") }
        if setup.persistMempool {
            do {
                let saved = try mempool.save(to: mempoolFile)
                logger.info("\(mempoolFile): \(saved) transactions saved")
            } catch { logger.error("could not save \(mempoolFile): \(error)") }
        }
        do { try mempool.feeEstimator.save(to: feeEstimatesFile) } catch { logger.error("could not save \(feeEstimatesFile): \(error)") }
        chain.finishTipEvents()
        status?.stopped(manager.finalStatus())
        logger.info("stopped at height \(chain.snapshot.tipHeight)")
        if let failure { throw failure }
    }

    static func loadAddresses(_ path: String, allowLocal: Bool, logger: Logger) -> AddressManager {
        if FileManager.default.fileExists(atPath: path) {
            do { return try AddressManager.load(from: path, allowNonRoutable: allowLocal) } catch {
                logger.error("\(error); starting with an empty address table")
            }
        }
        return AddressManager(key: (0..<32).map { _ in UInt8.random(in: 0...255) }, allowNonRoutable: allowLocal)
    }

    static func loadBans(_ path: String, logger: Logger) -> BanList {
        if FileManager.default.fileExists(atPath: path) {
            do { return try BanList.load(from: path, limit: 10_000) } catch { logger.error("\(error); starting with an empty ban list") }
        }
        return BanList()
    }

    /// Runs async work from synchronous code (the command's `run`), returning its error.
    static func runBlocking(_ body: @escaping @Sendable () async throws -> Void) -> Error? {
        final class Box: @unchecked Sendable { var error: Error? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { try await body() } catch { box.error = error }
            done.signal()
        }
        done.wait()
        return box.error
    }
}

/// The P2P layer as a service: starts listening and connecting, then on graceful shutdown
/// closes every connection and stops the importer.
struct P2PService: Service, CustomStringConvertible {
    let manager: PeerManager
    let logger: Logger
    var description: String { "p2p" }

    func run() async throws {
        try await manager.start()
        try? await gracefulShutdown()
        logger.info("shutting down: closing peers")
        await manager.stop()
    }
}

/// The `stop` RPC's way to the service group (created after the methods are registered).
final class ShutdownTrigger: @unchecked Sendable {
    private let lock = NSLock()
    private var _group: ServiceGroup?
    var group: ServiceGroup? {
        get { lock.withLock { _group } }
        set { lock.withLock { _group = newValue } }
    }

    /// Starts a graceful shutdown a moment from now, so the caller's answer is sent first.
    func trigger() {
        let group = self.group
        Task {
            try? await Task.sleep(for: .milliseconds(100))
            await group?.triggerGracefulShutdown()
        }
    }
}

/// The JSON-RPC server as a service: writes the cookie, listens, and on graceful shutdown
/// stops listening, closes connections and removes the cookie.
struct RPCService: Service, CustomStringConvertible {
    let settings: RPCServerSettings
    let cookieFile: String?
    let dispatcher: RPCDispatcher
    let group: EventLoopGroup
    let logger: Logger
    let metrics: NodeMetrics
    var description: String { "rpc" }

    func run() async throws {
        var settings = settings
        if let cookieFile {
            settings.credentials.entries.append(try RPCCookie.write(to: cookieFile))
        }
        defer { if let cookieFile { RPCCookie.remove(at: cookieFile) } }
        let server = RPCHTTPServer(settings: settings, dispatcher: dispatcher, group: group, logger: logger,
                                   metrics: { [metrics] in metrics.exposition() })
        try await server.start()
        try? await gracefulShutdown()
        logger.info("shutting down: stopping the RPC server")
        await server.stop()
    }
}
