// `rusty node`: the services of one node process under swift-service-lifecycle (DESIGN 9).

import AddressBook
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Logging
import Mempool
import NIOCore
import NIOPosix
import Primitives
import ServiceLifecycle
import Verification

/// What the node needs, resolved from its configuration by the command.
public struct NodeSetup: Sendable {
    public var network: String
    /// `<datadir>/<network>`: chain state, block files, peers.dat, banlist, debug.log, status.
    public var directory: String
    public var dbcacheMiB: Int
    public var p2p: P2PSettings
    public var pipeline: VerificationPipeline.Options
    public var verifier: any SignatureBatchVerifier
    public var pool: any TransactionPool = NoTransactionPool()

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
        let parameters = try ConsensusParameters(ChainParameters.builtIn(setup.network))
        try FileManager.default.createDirectory(atPath: setup.directory, withIntermediateDirectories: true)
        let state = try ChainState(directory: setup.directory, parameters: parameters, cacheMiB: setup.dbcacheMiB)
        state.signatureVerifier = setup.verifier
        if state.replayedBlocks > 0 { logger.info("connected \(state.replayedBlocks) blocks the block files held past the last flush") }
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
        let manager = PeerManager(group: group, chain: chain, parameters: parameters, settings: setup.p2p, logger: logging.logger("p2p"),
                                  addresses: addresses, bans: bans, pool: setup.pool, pipelineOptions: setup.pipeline)
        var services: [any Service] = [P2PService(manager: manager, logger: logger)]
        if let status { services.append(StatusService(manager: manager, reporter: status)) }
        let serviceGroup = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                             gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let failure = runBlocking { try await serviceGroup.run() }

        logger.info("shutting down: flushing the chain state")
        do { try chain.flush() } catch { logger.critical("could not flush the chain state: \(error)") }
        do { try addresses.save(to: peersFile) } catch { logger.error("could not save \(peersFile): \(error)") }
        do { try bans.save(to: banFile) } catch { logger.error("could not save \(banFile): \(error)") }
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
