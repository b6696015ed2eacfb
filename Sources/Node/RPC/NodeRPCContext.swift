// What the RPC methods reach in a running node, and the one place that registers them all.

import ChainParams
import ChainState
import Consensus
import Foundation
import JSONRPC
import Logging
import Masternodes
import Mempool
import Primitives
import TxIndex
import Wallet

/// The node's parts as the RPC methods see them. Methods live in one file per category
/// (BlockchainRPC.swift, NetworkRPC.swift, ...), each an extension adding `registerX(in:)`.
public final class NodeRPCContext: @unchecked Sendable {
    public let network: String
    /// `<datadir>/<network>`.
    public let directory: String
    public let parameters: ConsensusParameters
    let chain: ChainService
    let peers: PeerManager
    let mempool: Mempool
    /// nil without `-txindex`.
    let txIndex: TransactionIndex?
    /// nil when the node runs without a wallet (`-disablewallet`).
    let wallet: Wallet?
    let metrics: NodeMetrics
    /// The node's clock (`setmocktime` on regtest moves it; the mempool reads it).
    let clock: NodeClock
    let logger: Logger
    let startedAt = Date()
    /// The Stratum pool server; nil unless `--stratum` (set once, before the RPC server starts).
    var stratum: StratumPool?
    /// `--masternode`: the operator's keys (protx update_service / revoke sign with them);
    /// nil otherwise (set once, before the RPC server starts).
    var operatorKeys: OperatorKeys?
    /// Begins a graceful shutdown (the `stop` method); returns at once.
    let requestStop: @Sendable () -> Void

    init(network: String, directory: String, parameters: ConsensusParameters, chain: ChainService, peers: PeerManager, mempool: Mempool,
         txIndex: TransactionIndex?, wallet: Wallet?, metrics: NodeMetrics, clock: NodeClock, logger: Logger, requestStop: @escaping @Sendable () -> Void) {
        self.network = network
        self.directory = directory
        self.parameters = parameters
        self.chain = chain
        self.peers = peers
        self.mempool = mempool
        self.txIndex = txIndex
        self.wallet = wallet
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
        self.requestStop = requestStop
    }

    /// Every method of the node, by category.
    func registerAll(in registry: RPCRegistry) {
        registerControl(in: registry)
        registerBlockchain(in: registry)
        registerNetwork(in: registry)
        registerRawTransactions(in: registry)
        registerIndex(in: registry)
        registerMempool(in: registry)
        registerMining(in: registry)
        registerStratum(in: registry)
        registerWallet(in: registry)
        registerMasternodes(in: registry)
        registerMasternodeStatus(in: registry)
        registerChainLocks(in: registry)
        registerGovernance(in: registry)
        registerQuorums(in: registry)
    }
}
