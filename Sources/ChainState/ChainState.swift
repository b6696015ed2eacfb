// The ChainState module owns a node's chain: the block index (headers, the best chain by
// most work), connecting and reorganising with undo data, the UTXO set (cache over RocksDB),
// the block and undo files, atomic flushes and the start-up replay, and `ChainService`, the
// one writer that node services (P2P, RPC, mining, the bulk verifier) go through while
// they read published `ChainSnapshot`s. It must not do networking, mempool policy or
// scheduling of its own: callers bring blocks and headers, it validates and stores them,
// and it never persists a block whose signatures have not verified.



import BLAKE3
import Consensus
import Ed25519
import Foundation
import Governance
import Masternodes
import Primitives
import Quorums
import Storage

public enum ChainStateError: Error, CustomStringConvertible {
    case corruptDatabase(String)
    /// The block or undo files could not be written.
    case storage(String)
    case networkMismatch(stored: String, requested: String)
    /// A block broke a consensus rule; `height` and `hash` name it.
    case rejected(Rejection, height: UInt64, hash: Hash256)
    /// Another process holds the datadir's lock (RocksDB's LOCK file).
    case inUse(directory: String)
    /// The directory holds no chain state (a read-only open creates none).
    case noChainState(directory: String)

    public var description: String {
        switch self {
        case .corruptDatabase(let detail): return "corrupt chain database: \(detail)"
        case .storage(let detail): return "chain storage: \(detail)"
        case let .networkMismatch(stored, requested): return "the datadir holds a \(stored) chain, not \(requested)"
        case let .rejected(rejection, height, hash):
            return "block \(height) (\(hash.hex)) rejected: \(rejection)"
        case .inUse(let directory): return "\(directory): in use by another process"
        case .noChainState(let directory): return "\(directory): holds no chain state"
        }
    }
}

/// The node's view of the chain: block tree, best chain by most work, UTXO set, undo data,
/// all in one RocksDB database whose every flush is a single atomic write batch that also
/// moves the best-block marker. After a crash the database is at the last flush: a state
/// where every block up to the marker was fully connected; the next (writable) open then
/// replays the blocks the block files hold past the last flush (section 11).
public final class ChainState {
    public let parameters: ConsensusParameters
    public let database: RocksDB
    public let utxo: UTXOCache
    /// The network's masternode numbers (collateral, maturity, proof of service).
    public let masternodeParameters: MasternodeParameters
    /// The deterministic masternode list after the tip block (section 16.4).
    public internal(set) var masternodes = MasternodeList()
    /// The list's column family (nil: a read-only open of a datadir from before it existed).
    let masternodeFamily: RocksDB.ColumnFamily?
    /// Masternodes changed since the last flush (their records are rewritten by the next).
    var dirtyMasternodes = Set<Hash256>()
    /// The list undo of the last connected blocks of the active chain (oldest first), so
    /// `masternodeList(at:)` rarely reads undo records.
    var recentMasternodeUndo: [(hash: Hash256, undo: MasternodeListUndo)] = []
    /// The network's quorum types (section 17.1).
    public let quorumParameters: QuorumParameters
    /// The mined quorums after the tip block (section 17.5).
    public internal(set) var quorums = QuorumSet()
    /// The quorum set's column family (nil: a read-only open of a datadir from before it existed).
    let quorumFamily: RocksDB.ColumnFamily?
    /// Quorums changed since the last flush (their records are rewritten by the next).
    var dirtyQuorums = Set<QuorumKey>()
    /// The quorum set after the block whose masternode effects were applied last, until the
    /// block connects (`noteMasternodesConnected` makes it the state).
    var stagedQuorums: (hash: Hash256, set: QuorumSet, undo: QuorumSetUndo)?
    /// The network's governance numbers (section 18; nil: the network has none).
    public let governanceParameters: GovernanceParameters?
    /// The governance ledger after the tip block (section 18.4).
    public internal(set) var governance = GovernanceLedger()
    /// The ledger's column family (nil: a read-only open of a datadir from before it existed).
    let governanceFamily: RocksDB.ColumnFamily?
    /// Ledger record keys changed since the last flush (GovernanceState.swift).
    var dirtyGovernance = Set<GovernanceRecordKey>()
    /// The ledger after the block whose effects were applied last, until the block connects.
    var stagedGovernance: (hash: Hash256, ledger: GovernanceLedger, undo: GovernanceLedgerUndo)?
    /// Seconds the governance rules (votes, proposals, the deadline's tally, the root) took in
    /// the last block whose effects were applied (the bench's "time the tally adds").
    public internal(set) var lastGovernanceSeconds = 0.0
    public internal(set) var tip: BlockNode
    /// The best chain by height (index = height).
    public internal(set) var active: [BlockNode]
    /// Verifies each connected block's signatures: the CPU engine unless a caller gives
    /// another (e.g. verify-chain's OpenCL verifier).
    public var signatureVerifier: any SignatureBatchVerifier = CPUSignatureVerifier(backend: .auto, threads: 1)
    /// Shorthands that set a CPU engine, for callers that choose only its field backend
    /// and threads.
    public var signatureBackend: Ed25519.Backend {
        get { (signatureVerifier as? CPUSignatureVerifier)?.backend ?? .auto }
        set { signatureVerifier = CPUSignatureVerifier(backend: newValue, threads: signatureThreads) }
    }
    public var signatureThreads: Int {
        get { (signatureVerifier as? CPUSignatureVerifier)?.threads ?? 1 }
        set { signatureVerifier = CPUSignatureVerifier(backend: signatureBackend, threads: newValue) }
    }
    /// Signatures verified since open, by the name of the engine that verified them (the
    /// verifier's, or the CPU's when the verifier failed), so reports name what ran.
    public internal(set) var signaturesVerifiedBy: [String: Int] = [:]
    /// Opened with `readOnly`: nothing is written, no replay (a reader beside a running writer).
    public let isReadOnly: Bool
    /// Blocks connected at open from the block files' records past the last flush.
    public internal(set) var replayedBlocks = 0
    /// Reorganisations since open (or the last `takeReorganizations`).
    public internal(set) var reorganizations: [Reorganization] = []
    /// Orphans whose parent arrived but which broke a rule (accept reports only its own block).
    public internal(set) var rejectedOrphans: [ChainStateError] = []
    /// The UTXO set's count, total and digest as of the last flush, when the cache held every coin.
    var lastFlushSummary: (count: UInt64, total: Amount, digest: Hash256)?
    /// Flush when the cache and pending writes exceed this many bytes.
    public var cacheLimitBytes: Int
    /// Seconds since 1970 used for the future-time rule (injectable for tests).
    public var now: () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }

    var nodes: [Hash256: BlockNode] = [:]
    /// The valid node with the most work, header-only ones included (headers-first's target).
    public internal(set) var bestHeader: BlockNode
    /// Called with each node entered in the index after open (`ChainService` sets it).
    var nodeAdded: ((BlockNode) -> Void)?
    var orphans: [Hash256: [Block]] = [:]
    let families: (utxo: RocksDB.ColumnFamily, blocks: RocksDB.ColumnFamily, index: RocksDB.ColumnFamily,
                           undo: RocksDB.ColumnFamily, meta: RocksDB.ColumnFamily)
    /// Raw blocks and undo records; `blocks` and `undo` hold their positions.
    let blockFiles: FlatFileStore
    let undoFiles: FlatFileStore
    var pending = RocksDB.WriteBatch()
    /// Positions of records appended since the last flush (the database learns them then).
    var unflushedBlocks: [Hash256: FlatFileStore.Position] = [:]
    var unflushedUndo: [Hash256: FlatFileStore.Position] = [:]
    /// Undo data of deferred blocks, appended when their signatures are confirmed.
    var pendingUndo: [Hash256: [UInt8]] = [:]
    /// The `flushed` marker to write while a replay runs (nil: the block files' end).
    var replayMark: (file: UInt32, offset: UInt64)?
    /// Bytes of pending index and position records.
    var pendingBytes = 0
    /// Blocks connected with their signatures deferred (oldest first): in the UTXO set and
    /// the tree, but written to no batch until `confirmDeferred` says they verified.
    var unverified: [UnverifiedBlock] = []
    /// The best chain lock and what it refused (ChainLockState.swift).
    var chainLocks = ChainLockRecord()

    static let bestKey = Array("best".utf8)
    static let networkKey = Array("network".utf8)
    /// Layout version of the datadir (3: framed block records in flat files, `flushed` marker).
    static let formatKey = Array("format".utf8)
    static let format = Array("3".utf8)
    /// Where the block files ended at the last flush (`FlatFileStore.encodeEnd`): replay starts there.
    static let flushedKey = Array("flushed".utf8)
    static let columnFamilies = ["utxo", "blocks", "index", "undo", "meta"]
    /// Families of optional services over the same database (the transaction index, `-txindex`):
    /// created when a writable open finds them missing; a read-only open of a datadir made
    /// before they existed opens without them.
    public static let serviceColumnFamilies = ["txindex"]
    /// Families added to the chain state after datadirs existed: a writable open creates
    /// them, a read-only open of an older datadir opens without them.
    static let laterColumnFamilies = [masternodeFamilyName, quorumFamilyName, governanceFamilyName]

    /// Opens the database, naming a lock held by another process instead of RocksDB's wording.
    static func openDatabase(_ directory: String, options: RocksDB.Options, readOnly: Bool) throws -> RocksDB {
        do {
            let all = columnFamilies + laterColumnFamilies + serviceColumnFamilies
            guard readOnly else { return try RocksDB(path: directory, columnFamilies: all, options: options, readOnly: false) }
            // Read-only, every family named must exist: fall back to fewer of the optional ones.
            let masternodesOnly = columnFamilies + [masternodeFamilyName]
            let beforeGovernance = columnFamilies + [masternodeFamilyName, quorumFamilyName]
            for names in [all, beforeGovernance + serviceColumnFamilies, beforeGovernance, masternodesOnly + serviceColumnFamilies, columnFamilies + serviceColumnFamilies,
                          columnFamilies + laterColumnFamilies, masternodesOnly] {
                do {
                    return try RocksDB(path: directory, columnFamilies: names, options: options, readOnly: true)
                } catch let error as RocksDBError where error.message.contains("Column family not found") {
                    continue
                }
            }
            return try RocksDB(path: directory, columnFamilies: columnFamilies, options: options, readOnly: true)
        } catch let error as RocksDBError where error.message.contains("/LOCK") {
            throw ChainStateError.inUse(directory: directory)
        } catch let error as RocksDBError where readOnly && error.message.contains("Column family not found") {
            // A creation that was killed before its first commit: nothing was ever stored.
            throw ChainStateError.noChainState(directory: directory)
        }
    }

    /// Opens (or creates, with its genesis block) the chain state in `directory`, then
    /// connects the blocks its block files hold past the last flush (a crash's leftovers).
    /// `readOnly` opens an existing state as of its last flush, beside a writer if need be.
    public init(directory: String, parameters: ConsensusParameters, cacheMiB: Int = 256, readOnly: Bool = false) throws {
        self.parameters = parameters
        masternodeParameters = try MasternodeParameters(parameters.chain)
        quorumParameters = try QuorumParameters(parameters.chain)
        governanceParameters = parameters.chain.governance.collateralBaseUnits == nil ? nil : try GovernanceParameters(parameters.chain)
        isReadOnly = readOnly
        cacheLimitBytes = max(1, cacheMiB) << 20
        var options = RocksDB.Options()
        options.blockCacheBytes = max(8 << 20, (cacheMiB << 20) / 4)
        if readOnly {
            guard FileManager.default.fileExists(atPath: directory + "/CURRENT") else { throw ChainStateError.noChainState(directory: directory) }
        } else {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        database = try Self.openDatabase(directory, options: options, readOnly: readOnly)
        families = (try database.columnFamily("utxo"), try database.columnFamily("blocks"), try database.columnFamily("index"),
                    try database.columnFamily("undo"), try database.columnFamily("meta"))
        masternodeFamily = try? database.columnFamily(Self.masternodeFamilyName)
        quorumFamily = try? database.columnFamily(Self.quorumFamilyName)
        governanceFamily = try? database.columnFamily(Self.governanceFamilyName)
        utxo = try UTXOCache(database: database, family: families.utxo)
        blockFiles = try FlatFileStore(directory: directory + "/blocks", prefix: "blk", magic: parameters.magic, readOnly: readOnly)
        undoFiles = try FlatFileStore(directory: directory + "/blocks", prefix: "rev", readOnly: readOnly)

        if let stored = try database.get(families.meta, Self.networkKey) {
            let name = String(decoding: stored, as: UTF8.self)
            guard name == parameters.network else { throw ChainStateError.networkMismatch(stored: name, requested: parameters.network) }
            guard try database.get(families.meta, Self.formatKey) == Self.format else {
                throw ChainStateError.corruptDatabase("\(directory) was written in an older layout (block records without framing); verify its blocks into a new datadir")
            }
        }
        let genesis = parameters.chain.genesisBlock()
        let genesisNode = BlockNode(hash: genesis.hash, header: genesis.header,
                                    chainWork: ProofOfWork.work(target: parameters.genesisTarget), parent: nil)
        guard let best = try database.get(families.meta, Self.bestKey) else {
            if readOnly { throw ChainStateError.noChainState(directory: directory) }
            try Self.checkNoBlocksBeyondGenesis(directory, blockFiles, magic: parameters.magic, genesis: genesis.hash)
            // A new datadir: the genesis block is the tip (its only output is unspendable).
            tip = genesisNode
            bestHeader = genesisNode
            active = [genesisNode]
            nodes[genesisNode.hash] = genesisNode
            pending.put(families.meta, Self.networkKey, Array(parameters.network.utf8))
            pending.put(families.meta, Self.formatKey, Self.format)
            pending.put(families.index, genesisNode.hash.bytes, genesisNode.record)
            try storeBlock(genesisNode.hash, genesis.encoded)
            try flush()
            return
        }
        nodes[genesisNode.hash] = genesisNode
        tip = genesisNode
        bestHeader = genesisNode
        active = [genesisNode]
        try loadIndex()
        try loadChainLock()
        guard let bestHash = Hash256(bytes: best), let bestNode = nodes[bestHash] else {
            throw ChainStateError.corruptDatabase("best block marker names an unknown block")
        }
        tip = bestNode
        try loadMasternodes()
        let mostWork = Self.mostWork(nodes.values)
        bestHeader = tip.chainWork < mostWork.chainWork ? mostWork : tip
        keepBestHeaderOnChainLock()
        active = Self.path(to: bestNode)
        if !readOnly {
            guard let flushed = try database.get(families.meta, Self.flushedKey).flatMap(FlatFileStore.decodeEnd) else {
                throw ChainStateError.corruptDatabase("the marker of the last flushed block-file position is missing")
            }
            try replay(from: flushed)
        }
    }

    /// Statistics of the last connected block, for callers' progress reports.
    public internal(set) var connectedTransactions = 0
    /// Blocks and transactions connected since this chain state was opened (for metrics).
    public internal(set) var totalConnectedBlocks = 0
    public internal(set) var totalConnectedTransactions = 0
    public internal(set) var connectedInputs = 0
    public internal(set) var connectedSignatures = 0
}
