// An in-process node for RPC tests: a regtest chain state in a temporary directory, its
// ChainService and PeerManager, the RPC context, and calls through the JSON-RPC dispatcher.

import AddressBook
import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import JSONRPC
import Logging
import Mempool
import Primitives
import NIOPosix
import Testing
import TxIndex
import Verification
@testable import Node

final class RPCTestNode: @unchecked Sendable {
    static let regtest = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

    let directory: String
    let chain: ChainService
    let group: MultiThreadedEventLoopGroup
    let peers: PeerManager
    let context: NodeRPCContext
    let dispatcher: RPCDispatcher
    private(set) var started = false

    let mempool: Mempool
    /// Built (not started) when `txindex`.
    let txIndex: TransactionIndex?

    /// A node whose chain holds `blocks` (accepted in order), listening on 127.0.0.1 (port 0) when `listen`.
    init(blocks: [Block] = [], listen: Bool = false, txindex: Bool = false) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-rpc-\(UUID().uuidString)").path
        let state = try ChainState(directory: directory, parameters: Self.regtest, cacheMiB: 16)
        for block in blocks { try state.accept(block) }
        chain = ChainService(state)
        mempool = Mempool(chain: chain, parameters: Self.regtest)
        txIndex = txindex ? try TransactionIndex(chain: chain, database: state.database) : nil
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var settings = P2PSettings(port: 0)
        settings.listen = listen
        settings.bind = [.init(host: "127.0.0.1", port: 0)]
        settings.allowLocalAddresses = true
        settings.maxOutbound = 0
        settings.reconnectInterval = 0.5
        let logger = Logger(label: "rpc-test")
        let options = VerificationPipeline.Options(verifier: CPUSignatureVerifier(backend: .auto, threads: 1), batchSize: 1024,
                                                   contextFreeThreads: 1)
        peers = PeerManager(group: group, chain: chain, parameters: Self.regtest, settings: settings, logger: logger,
                            addresses: AddressManager(key: Array(repeating: 7, count: 32), allowNonRoutable: true), bans: BanList(),
                            pool: mempool, pipelineOptions: options)
        context = NodeRPCContext(network: "regtest", directory: directory, parameters: Self.regtest, chain: chain, peers: peers,
                                 mempool: mempool, txIndex: txIndex, wallet: nil, metrics: NodeMetrics(), clock: NodeClock(), logger: logger, requestStop: {})
        let registry = RPCRegistry()
        context.registerBlockchain(in: registry)
        context.registerRawTransactions(in: registry)
        context.registerNetwork(in: registry)
        context.registerControl(in: registry)
        context.registerMempool(in: registry)
        context.registerMining(in: registry)
        context.registerChainLocks(in: registry)
        context.registerGovernance(in: registry)
        context.registerQuorums(in: registry)
        dispatcher = RPCDispatcher(registry: registry)
    }

    func start() async throws {
        try await peers.start()
        started = true
    }

    func shutdown() async {
        if started { await peers.stop() }
        txIndex?.stop()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One JSON-RPC 1.0 call: its result, or its error.
    func call(_ method: String, _ params: [JSON] = []) async throws -> Result<JSON, RPCError> {
        let request: JSON = ["jsonrpc": "1.0", "id": "t", "method": .string(method), "params": .array(params)]
        let reply = await dispatcher.handle(body: request.serialized())
        let body = try #require(reply.body)
        let response = try JSONParser.parse(body)
        if let error = response["error"], !error.isNull {
            return .failure(RPCError(Int(error["code"]?.int64Value ?? 0), error["message"]?.stringValue ?? ""))
        }
        return .success(response["result"] ?? .null)
    }

    /// The result of a call that must succeed.
    func result(_ method: String, _ params: [JSON] = [], sourceLocation: SourceLocation = #_sourceLocation) async throws -> JSON {
        switch try await call(method, params) {
        case .success(let value): return value
        case .failure(let error):
            Issue.record("\(method) failed: \(error.code) \(error.message)", sourceLocation: sourceLocation)
            throw error
        }
    }

    /// The error code of a call that must fail (nil when it succeeded).
    func errorCode(_ method: String, _ params: [JSON] = []) async throws -> Int? {
        if case .failure(let error) = try await call(method, params) { return error.code }
        return nil
    }

    func error(_ method: String, _ params: [JSON] = []) async throws -> RPCError? {
        if case .failure(let error) = try await call(method, params) { return error }
        return nil
    }
}

enum RPCChains {
    /// `count` generated blocks from seed `seed` (2 transactions a block once coinbases mature).
    static func blocks(_ count: Int, seed: UInt64, transactions: Int = 2) -> ([Block], ChainGenerator) {
        var generator = ChainGenerator(parameters: RPCTestNode.regtest, seed: seed, transactionsPerBlock: transactions)
        return ((0..<count).map { _ in generator.nextBlock() }, generator)
    }
}

/// Waits (bounded) until `condition` holds; false when it never did.
func eventually(seconds: Double = 60, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}
