import BLAKE3
import Consensus
import Ed25519
import Foundation
import Primitives
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

/// One block known to the node: header, place in the tree, cumulative work.
public final class BlockNode {
    public let hash: Hash256
    public let header: BlockHeader
    public let chainWork: UInt256
    public let parent: BlockNode?
    public internal(set) var isInvalid: Bool

    init(hash: Hash256, header: BlockHeader, chainWork: UInt256, parent: BlockNode?, isInvalid: Bool = false) {
        self.hash = hash
        self.header = header
        self.chainWork = chainWork
        self.parent = parent
        self.isInvalid = isInvalid
    }

    public var height: UInt64 { header.height }

    /// index record: header (128) | chain work (32, big-endian) | status (1: invalid)
    var record: [UInt8] { header.encoded + chainWork.bigEndianBytes + [isInvalid ? 1 : 0] }
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
    public private(set) var tip: BlockNode
    /// The best chain by height (index = height).
    public private(set) var active: [BlockNode]
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
    public private(set) var signaturesVerifiedBy: [String: Int] = [:]
    /// Opened with `readOnly`: nothing is written, no replay (a reader beside a running writer).
    public let isReadOnly: Bool
    /// Blocks connected at open from the block files' records past the last flush.
    public private(set) var replayedBlocks = 0
    /// Reorganisations since open (or the last `takeReorganizations`).
    public private(set) var reorganizations: [Reorganization] = []
    /// Orphans whose parent arrived but which broke a rule (accept reports only its own block).
    public private(set) var rejectedOrphans: [ChainStateError] = []
    /// The UTXO set's count, total and digest as of the last flush, when the cache held every coin.
    private var lastFlushSummary: (count: UInt64, total: Amount, digest: Hash256)?
    /// Flush when the cache and pending writes exceed this many bytes.
    public var cacheLimitBytes: Int
    /// Seconds since 1970 used for the future-time rule (injectable for tests).
    public var now: () -> UInt64 = { UInt64(Date().timeIntervalSince1970) }

    private var nodes: [Hash256: BlockNode] = [:]
    private var orphans: [Hash256: [Block]] = [:]
    private let families: (utxo: RocksDB.ColumnFamily, blocks: RocksDB.ColumnFamily, index: RocksDB.ColumnFamily,
                           undo: RocksDB.ColumnFamily, meta: RocksDB.ColumnFamily)
    /// Raw blocks and undo records; `blocks` and `undo` hold their positions.
    private let blockFiles: FlatFileStore
    private let undoFiles: FlatFileStore
    private var pending = RocksDB.WriteBatch()
    /// Positions of records appended since the last flush (the database learns them then).
    private var unflushedBlocks: [Hash256: FlatFileStore.Position] = [:]
    private var unflushedUndo: [Hash256: FlatFileStore.Position] = [:]
    /// Undo data of deferred blocks, appended when their signatures are confirmed.
    private var pendingUndo: [Hash256: [UInt8]] = [:]
    /// The `flushed` marker to write while a replay runs (nil: the block files' end).
    private var replayMark: (file: UInt32, offset: UInt64)?
    /// Bytes of pending index and position records.
    private var pendingBytes = 0
    /// Blocks connected with their signatures deferred (oldest first): in the UTXO set and
    /// the tree, but written to no batch until `confirmDeferred` says they verified.
    private var unverified: [UnverifiedBlock] = []

    static let bestKey = Array("best".utf8)
    static let networkKey = Array("network".utf8)
    /// Layout version of the datadir (3: framed block records in flat files, `flushed` marker).
    static let formatKey = Array("format".utf8)
    static let format = Array("3".utf8)
    /// Where the block files ended at the last flush (`FlatFileStore.encodeEnd`): replay starts there.
    static let flushedKey = Array("flushed".utf8)
    static let columnFamilies = ["utxo", "blocks", "index", "undo", "meta"]

    /// Opens the database, naming a lock held by another process instead of RocksDB's wording.
    static func openDatabase(_ directory: String, options: RocksDB.Options, readOnly: Bool) throws -> RocksDB {
        do {
            return try RocksDB(path: directory, columnFamilies: columnFamilies, options: options, readOnly: readOnly)
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
        active = [genesisNode]
        try loadIndex()
        guard let bestHash = Hash256(bytes: best), let bestNode = nodes[bestHash] else {
            throw ChainStateError.corruptDatabase("best block marker names an unknown block")
        }
        tip = bestNode
        active = Self.path(to: bestNode)
        if !readOnly {
            guard let flushed = try database.get(families.meta, Self.flushedKey).flatMap(FlatFileStore.decodeEnd) else {
                throw ChainStateError.corruptDatabase("the marker of the last flushed block-file position is missing")
            }
            try replay(from: flushed)
        }
    }

    /// Connects the blocks appended to the block files after the flush that ended at `flushed`
    /// (what a crash or kill left unflushed), in whatever order they were written, as Bitcoin
    /// Core does at start-up. A torn record at the end (an interrupted append) is cut off.
    private func replay(from flushed: (file: UInt32, offset: UInt64)) throws {
        // A flush during the replay (cache full) must not move the marker past records not
        // replayed yet: a crash then replays from the same place (known blocks are skipped).
        replayMark = flushed
        defer { replayMark = nil }
        var scanned = 0
        var waiting: [Hash256: [(Block, FlatFileStore.Position)]] = [:]
        func connect(_ block: Block, _ position: FlatFileStore.Position) throws {
            var work = [(block, position)]
            while let (next, at) = work.popLast() {
                let hash = next.hash
                guard nodes[hash] == nil else { continue }
                guard nodes[next.header.previousHash] != nil else { waiting[next.header.previousHash, default: []].append((next, at)); continue }
                do {
                    if try accept(next, storedAt: at) == .connected { replayedBlocks += 1 }
                } catch ChainStateError.rejected {
                    // A block stored but invalid (its rejection was reported when it came).
                }
                work += waiting.removeValue(forKey: hash) ?? []
            }
        }
        let files = try blockFiles.fileNumbers().filter { $0 >= flushed.file }
        for file in files {
            let start = file == flushed.file ? flushed.offset : 0
            do {
                try BlockFile.forEachRecord(path: blockFiles.path(file), magic: parameters.magic, start: Int(start)) { record in
                    let position = FlatFileStore.Position(file: file, offset: UInt64(record.offset + 8), length: UInt32(record.bytes.count))
                    // Bytes that do not decode were never a valid block: nothing refers to them.
                    guard let block = try? Block(decoding: record.bytes) else { return }
                    scanned += 1
                    try connect(block, position)
                }
            } catch let error as BlockFile.ReadError {
                guard file == files.last else { throw ChainStateError.corruptDatabase("\(error)") }
                try blockFiles.truncateCurrent(to: UInt64(error.offset))
            }
        }
        replayMark = nil
        if scanned > 0 { try flush() }
    }

    /// A datadir without a database may still hold block files: from a kill while it was
    /// created (at most a genesis record, maybe torn: cut off), or from a lost index, which
    /// only `--reindex` may rebuild (a fresh state here would leave those blocks unused).
    private static func checkNoBlocksBeyondGenesis(_ directory: String, _ blockFiles: FlatFileStore, magic: [UInt8], genesis: Hash256) throws {
        let files = try blockFiles.fileNumbers()
        for file in files {
            do {
                try BlockFile.forEachRecord(path: blockFiles.path(file), magic: magic) { record in
                    guard (try? Block(decoding: record.bytes))?.hash == genesis else {
                        throw ChainStateError.corruptDatabase("\(directory) holds block files but no chain database; rebuild it with verify-chain --reindex")
                    }
                }
            } catch let error as BlockFile.ReadError {
                guard file == files.last else { throw ChainStateError.corruptDatabase("\(error)") }
                try blockFiles.truncateCurrent(to: UInt64(error.offset))
            }
        }
    }

    private func loadIndex() throws {
        var records: [(Hash256, BlockHeader, UInt256, Bool)] = []
        let iterator = database.iterator(families.index)
        iterator.seekToFirst()
        while iterator.isValid {
            let value = iterator.value
            guard let hash = Hash256(bytes: iterator.key), value.count == 128 + 32 + 1,
                  let header = try? BlockHeader(decoding: Array(value[0..<128])) else {
                throw ChainStateError.corruptDatabase("index record \(HexCoding.encode(iterator.key))")
            }
            records.append((hash, header, UInt256(bigEndian: value[128..<160]), value[160] == 1))
            iterator.next()
        }
        try iterator.checkStatus()
        // Parents before children.
        records.sort { $0.1.height < $1.1.height }
        for (hash, header, work, invalid) in records where nodes[hash] == nil {
            guard let parent = nodes[header.previousHash] else {
                throw ChainStateError.corruptDatabase("block \(hash.hex) has no parent in the index")
            }
            // Accepted headers always sit one above their parent; holding every node to it
            // bounds heights by the record count, so later Int(height) conversions are safe.
            guard parent.height < UInt64.max, header.height == parent.height + 1 else {
                throw ChainStateError.corruptDatabase("block \(hash.hex) has height \(header.height) above a parent at \(parent.height)")
            }
            nodes[hash] = BlockNode(hash: hash, header: header, chainWork: work, parent: parent, isInvalid: invalid)
        }
    }

    static func path(to node: BlockNode) -> [BlockNode] {
        var chain = [BlockNode]()
        chain.reserveCapacity(Int(node.height) + 1)
        var cursor: BlockNode? = node
        while let current = cursor { chain.append(current); cursor = current.parent }
        return chain.reversed()
    }

    public func node(_ hash: Hash256) -> BlockNode? { nodes[hash] }

    /// Blocks the index records as invalid (kept so they are never validated again).
    public var invalidBlocks: Set<Hash256> { Set(nodes.values.lazy.filter(\.isInvalid).map(\.hash)) }

    /// Median time of `node` and up to 10 ancestors.
    public func medianTimePast(_ node: BlockNode) -> UInt64 { HeaderRules.medianTime(recentTimes(node)) }

    /// Times of `node` and its ancestors, up to the median-time span.
    func recentTimes(_ node: BlockNode) -> [UInt64] {
        var times = [UInt64]()
        var cursor: BlockNode? = node
        while let current = cursor, times.count < parameters.medianTimeSpan {
            times.append(current.header.time)
            cursor = current.parent
        }
        return times
    }

    /// Checks `block`'s header against `parent` and the chain before it, and makes its index
    /// node (not yet recorded).
    private func checkedNode(for block: Block, hash: Hash256, parent: BlockNode) throws -> BlockNode {
        do {
            try HeaderRules.check(block.header, parentHash: parent.hash, parentHeight: parent.height, parentTime: parent.header.time,
                                  recentTimes: recentTimes(parent), now: now(), parameters: parameters)
        } catch {
            throw ChainStateError.rejected(error, height: block.header.height, hash: hash)
        }
        let work = ProofOfWork.work(target: (try? block.header.compactTarget.target()) ?? parameters.powLimit)
        return BlockNode(hash: hash, header: block.header, chainWork: parent.chainWork.addingReportingOverflow(work).partialValue,
                         parent: parent)
    }

    /// A switch of the best chain to a branch that did not extend the tip.
    public struct Reorganization: Sendable, Equatable {
        public var forkHeight: UInt64
        public var oldTip: Hash256
        public var oldHeight: UInt64
        public var newTip: Hash256
        public var newHeight: UInt64
        public var disconnected: Int
        public var connected: Int
    }

    /// The reorganisations recorded so far, forgetting them.
    public func takeReorganizations() -> [Reorganization] {
        defer { reorganizations.removeAll() }
        return reorganizations
    }

    public enum AcceptResult: Equatable {
        case connected        // the block is on the best chain now
        case sideBranch       // stored, on a branch with less work
        case orphan           // parent unknown; kept until it arrives
        case duplicate
    }

    /// Validates and stores a block, reorganising to the branch with the most work.
    /// Throws `ChainStateError.rejected` naming the rule; the chain is then unchanged.
    @discardableResult
    public func accept(_ block: Block, encodedSize: Int? = nil) throws -> AcceptResult {
        try accept(block, encodedSize: encodedSize, storedAt: nil)
    }

    /// `storedAt`: the block's record is already in the block files there (replay).
    func accept(_ block: Block, encodedSize: Int? = nil, storedAt: FlatFileStore.Position?) throws -> AcceptResult {
        guard !isReadOnly else { throw ChainStateError.storage("the chain state is open read-only") }
        precondition(unverified.isEmpty, "settle the deferred signatures (confirmDeferred/rejectDeferred) before accept")
        let hash = block.hash
        if let known = nodes[hash] {
            if known.isInvalid { throw ChainStateError.rejected(Rejection(.blockKnownInvalid), height: known.height, hash: hash) }
            return .duplicate
        }
        let size = encodedSize ?? block.encoded.count
        do {
            _ = try ContextFreeRules.check(block, encodedSize: size, parameters: parameters)
        } catch {
            throw ChainStateError.rejected(error, height: block.header.height, hash: hash)
        }
        guard let parent = nodes[block.header.previousHash] else {
            orphans[block.header.previousHash, default: []].append(block)
            return .orphan
        }
        if parent.isInvalid {
            throw ChainStateError.rejected(Rejection(.blockInvalidParent), height: block.header.height, hash: hash)
        }
        let node = try checkedNode(for: block, hash: hash, parent: parent)
        nodes[hash] = node
        if let storedAt {
            pending.put(families.blocks, hash.bytes, storedAt.encoded)
            unflushedBlocks[hash] = storedAt
        } else {
            try storeBlock(hash, block.encoded)
        }
        pending.put(families.index, hash.bytes, node.record)
        pendingBytes += 256

        var result = AcceptResult.sideBranch
        if tip.chainWork < node.chainWork {
            try reorganize(to: node)
            result = .connected
        }
        try flushIfNeeded()
        // Orphans waiting for this block.
        if let children = orphans.removeValue(forKey: hash) {
            for child in children {
                do { try accept(child) } catch let error as ChainStateError { rejectedOrphans.append(error) }
            }
        }
        return result
    }

    private func reorganize(to target: BlockNode) throws {
        let newBranch = Self.path(to: target)
        var fork = tip
        let targetPath = Set(newBranch.map(\.hash))
        while !targetPath.contains(fork.hash) { fork = fork.parent! }
        var disconnected = [BlockNode]()
        while tip !== fork {
            disconnected.append(tip)
            try disconnectTip()
        }
        let toConnect = newBranch.drop { $0.height <= fork.height }
        let oldTip = disconnected.first // nil: a plain extension of the tip
        for node in toConnect {
            do {
                try connectTip(node)
            } catch let error as ChainStateError {
                if case .rejected = error {
                    markInvalid(node)
                    // Back to the old branch, which was fully valid.
                    while tip !== fork { try disconnectTip() }
                    for old in disconnected.reversed() { try connectTip(old) }
                }
                throw error
            }
        }
        if let oldTip {
            reorganizations.append(Reorganization(forkHeight: fork.height, oldTip: oldTip.hash, oldHeight: oldTip.height, newTip: target.hash,
                                                  newHeight: target.height, disconnected: disconnected.count, connected: toConnect.count))
        }
    }

    private func markInvalid(_ node: BlockNode) {
        node.isInvalid = true
        pending.put(families.index, node.hash.bytes, node.record)
        for other in nodes.values where !other.isInvalid {
            var cursor = other.parent
            while let current = cursor, current.height >= node.height {
                if current === node { other.isInvalid = true; pending.put(families.index, other.hash.bytes, other.record); break }
                cursor = current.parent
            }
        }
    }

    /// The best block itself.
    public func loadTip() throws -> Block { try loadBlock(tip.hash) }

    /// The stored encoding of a block of this datadir (for re-verification from its own blocks).
    public func storedBlockBytes(_ hash: Hash256) throws -> [UInt8] {
        // A deferred block is appended only once its signatures verified.
        if let entry = unverified.last(where: { $0.node.hash == hash }) { return entry.encoded }
        return try storedRecord(families.blocks, blockFiles, unflushedBlocks, hash, "block")
    }

    func loadBlock(_ hash: Hash256) throws -> Block {
        let bytes = try storedBlockBytes(hash)
        do { return try Block(decoding: bytes) } catch { throw ChainStateError.corruptDatabase("block \(hash.hex): \(error)") }
    }

    /// Appends a block to the block files; its position joins the next flush.
    private func storeBlock(_ hash: Hash256, _ bytes: [UInt8]) throws {
        let position = try blockFiles.append(bytes)
        pending.put(families.blocks, hash.bytes, position.encoded)
        unflushedBlocks[hash] = position
    }

    private func storeUndo(_ hash: Hash256, _ bytes: [UInt8]) throws {
        let position = try undoFiles.append(bytes)
        pending.put(families.undo, hash.bytes, position.encoded)
        unflushedUndo[hash] = position
    }

    /// A block or undo record, through its position (not yet flushed, or in `family`).
    private func storedRecord(_ family: RocksDB.ColumnFamily, _ files: FlatFileStore, _ unflushed: [Hash256: FlatFileStore.Position],
                              _ hash: Hash256, _ what: String) throws -> [UInt8] {
        if let position = unflushed[hash] { return try files.read(position, "\(what) \(hash.hex)") }
        guard let stored = try database.get(family, hash.bytes) else {
            throw ChainStateError.corruptDatabase("\(what) \(hash.hex) is missing")
        }
        guard let position = FlatFileStore.Position(decoding: stored) else {
            throw ChainStateError.corruptDatabase("\(what) \(hash.hex): position record of \(stored.count) bytes")
        }
        return try files.read(position, "\(what) \(hash.hex)")
    }

    /// Statistics of the last connected block, for callers' progress reports.
    public private(set) var connectedTransactions = 0
    public private(set) var connectedInputs = 0
    public private(set) var connectedSignatures = 0

    private func connectTip(_ node: BlockNode) throws {
        precondition(node.parent === tip)
        let block = try loadBlock(node.hash)
        let delta = try contextualDelta(node, block, txids: block.transactions.map(\.txid))
        let results = verifySignatures(delta.signatureBatch)
        if let bad = results.firstIndex(of: false) {
            let location = delta.checkLocations[bad]
            throw ChainStateError.rejected(Self.signatureRejection(location), height: node.height, hash: node.hash)
        }
        try storeUndo(node.hash, apply(delta, node: node, transactions: block.transactions.count))
        pendingBytes += 64
    }

    /// One verdict per item from `signatureVerifier`. A verifier that fails (a lost device)
    /// or answers with the wrong count is replaced for this batch by single verification on
    /// the CPU, as the pipeline does: the verdicts are the same either way.
    private func verifySignatures(_ batch: SignatureBatch) -> [Bool] {
        guard !batch.isEmpty else { return [] }
        if let results = try? signatureVerifier.verify(batch), results.count == batch.count {
            signaturesVerifiedBy[signatureVerifier.name, default: 0] += batch.count
            return results
        }
        signaturesVerifiedBy["cpu (after a verifier failure)", default: 0] += batch.count
        return batch.items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) }
    }

    /// The rejection a failed signature check is reported with (the same in every path).
    public static func signatureRejection(_ location: CheckLocation) -> Rejection {
        Rejection(.scriptSignature, "signature does not verify", transaction: location.transaction, input: location.input)
    }

    /// Contextual rules and script execution of `block` on top of the tip; mutates nothing
    /// (coins read are only cached).
    private func contextualDelta(_ node: BlockNode, _ block: Block, txids: [Hash256]) throws -> BlockDelta {
        try utxo.prefetch(block.transactions.dropFirst().lazy.flatMap { $0.inputs.lazy.map(\.previousOutput) })
        let context = BlockConnector.Context(
            height: node.height, medianTimePast: medianTimePast(tip), blockHash: node.hash,
            medianTimePastBefore: { [active] height in
                let index = Int(min(height, UInt64(active.count))) - 1
                return index >= 0 ? self.medianTimePast(active[index]) : 0
            })
        do {
            return try BlockConnector.connect(block, txids: txids, context: context, parameters: parameters, view: utxo)
        } catch let rejection as Rejection {
            throw ChainStateError.rejected(rejection, height: node.height, hash: node.hash)
        }
    }

    /// Applies a checked delta to the UTXO cache and makes `node` the tip; returns the undo record.
    private func apply(_ delta: BlockDelta, node: BlockNode, transactions: Int) -> [UInt8] {
        for (outpoint, _) in delta.spent { utxo.spend(outpoint) }
        for (outpoint, coin) in delta.created { utxo.add(outpoint, coin) }
        let undo = Self.encodeUndo(delta.spent)
        tip = node
        active.append(node)
        connectedTransactions = transactions
        connectedInputs = delta.inputCount
        connectedSignatures = delta.checks.count
        return undo
    }

    private func disconnectTip() throws {
        guard let parent = tip.parent else { throw ChainStateError.corruptDatabase("cannot disconnect the genesis block") }
        let block = try loadBlock(tip.hash)
        let undoBytes: [UInt8]
        if let pendingBytes = pendingUndo[tip.hash] {
            undoBytes = pendingBytes
        } else {
            undoBytes = try storedRecord(families.undo, undoFiles, unflushedUndo, tip.hash, "undo data of block")
        }
        let restored = try Self.decodeUndo(undoBytes)
        for transaction in block.transactions.reversed() {
            let txid = transaction.txid
            for (index, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                utxo.spend(OutPoint(txid: txid, index: UInt32(index)))
            }
        }
        for (outpoint, coin) in restored { utxo.add(outpoint, coin) }
        tip = parent
        active.removeLast()
    }

    static func encodeUndo(_ spent: [(OutPoint, Coin)]) -> [UInt8] {
        var writer = ByteWriter(capacity: 9 + spent.reduce(0) { $0 + 36 + 21 + $1.1.output.lockScript.count })
        writer.writeCompactSize(UInt64(spent.count))
        for (outpoint, coin) in spent {
            outpoint.encode(to: &writer)
            coin.encode(to: &writer)
        }
        return writer.bytes
    }

    static func decodeUndo(_ bytes: [UInt8]) throws -> [(OutPoint, Coin)] {
        var reader = ByteReader(bytes, path: "undo")
        do {
            let count = try reader.readCount("count", limit: 10_000_000, minimumItemSize: 36 + 18)
            var out = [(OutPoint, Coin)]()
            out.reserveCapacity(count)
            for _ in 0..<count {
                out.append((try OutPoint.decode(from: &reader), try Coin.decode(from: &reader)))
            }
            try reader.expectEnd("end")
            return out
        } catch {
            throw ChainStateError.corruptDatabase("undo data: \(error)")
        }
    }

    private func flushIfNeeded() throws {
        if utxo.memoryUsage + pendingBytes > cacheLimitBytes { try flush() }
    }

    /// Writes everything pending (blocks, index, undo data, UTXO changes) and the best-block
    /// marker in one atomic, synced write batch.
    public func flush() throws {
        guard !isReadOnly else { return } // nothing can have changed
        precondition(unverified.isEmpty, "a flush must never persist blocks whose signatures are unverified")
        lastFlushSummary = try utxo.writeDirty(into: pending, evict: utxo.memoryUsage > cacheLimitBytes / 2)
        pending.put(families.meta, Self.bestKey, tip.hash.bytes)
        // The records the batch points at must be durable before it is.
        try blockFiles.sync()
        try undoFiles.sync()
        pending.put(families.meta, Self.flushedKey, FlatFileStore.encodeEnd(replayMark ?? blockFiles.end))
        try database.write(pending, sync: true)
        pending = RocksDB.WriteBatch()
        unflushedBlocks.removeAll()
        unflushedUndo.removeAll()
        pendingBytes = 0
    }

    /// Prepares the next flush's UTXO writes (and digest) ahead of time, e.g. while the last
    /// signatures verify; `flush` uses the work if nothing changed in between.
    public func prepareFlush() throws { try utxo.prepareFlush() }

    /// Count, total and canonical digest of the UTXO set (after a flush):
    /// BLAKE3 over, in key order, each coin's 36-byte key followed by its encoding.
    public func utxoSummary() throws -> UTXOSummary {
        if isReadOnly { return try scannedUTXOSummary() }
        try flush()
        if let (count, total, digest) = lastFlushSummary {
            return UTXOSummary(bestHash: tip.hash, bestHeight: tip.height, count: count, total: total, digest: digest)
        }
        return try scannedUTXOSummary()
    }

    /// The summary from a scan of the flushed UTXO set (what `utxoSummary` computes in
    /// memory when the cache holds every coin).
    func scannedUTXOSummary() throws -> UTXOSummary {
        var hasher = BLAKE3Hasher()
        var count: UInt64 = 0
        var total = Amount.zero
        let iterator = database.iterator(families.utxo)
        iterator.seekToFirst()
        while iterator.isValid {
            let key = iterator.key, value = iterator.value
            guard let outpoint = OutPoint(storageKey: key) else { throw ChainStateError.corruptDatabase("UTXO key \(HexCoding.encode(key))") }
            let coin = try UTXOCache.decodeStored(value, outpoint)
            hasher.update(key)
            hasher.update(value)
            count += 1
            guard let sum = total.adding(coin.output.value) else { throw ChainStateError.corruptDatabase("UTXO total overflows") }
            total = sum
            iterator.next()
        }
        try iterator.checkStatus()
        return UTXOSummary(bestHash: tip.hash, bestHeight: tip.height, count: count, total: total,
                           digest: Hash256(bytes: hasher.finalize())!)
    }
}

// MARK: - Deferred signatures (bulk verification)

struct UnverifiedBlock {
    var node: BlockNode
    var encoded: [UInt8]
}

/// A block connected with its signature checks deferred: what is left to verify, in order.
public struct DeferredConnection: Sendable {
    public var height: UInt64
    public var hash: Hash256
    /// The signature checks left to verify, as flat arrays (built on the UTXO stage's
    /// thread, so the signature stage neither allocates nor frees per signature).
    public var signatures: SignatureBatch
    public var locations: [CheckLocation]
    public var transactions: Int
    public var inputs: Int
}

extension ChainState {
    /// Connected blocks whose signatures have not been confirmed yet.
    public var unverifiedCount: Int { unverified.count }

    /// Height of the last block whose signatures all verified (the tip when none are pending).
    public var verifiedHeight: UInt64 { unverified.first.map { $0.node.height - 1 } ?? tip.height }

    /// Whether the cache and pending writes are over the --dbcache limit.
    public var needsFlush: Bool { utxo.memoryUsage + pendingBytes > cacheLimitBytes }

    /// Flushes when over the cache limit, but only if no connected block awaits its signatures.
    public func flushIfNeededAndVerified() throws {
        if unverified.isEmpty && needsFlush { try flush() }
    }

    /// Whether `block` is new and extends the tip, so it can be connected with `connectDeferred`.
    /// Anything else (known blocks, side branches, reorganisations, orphans) goes through `accept`.
    public func canConnectDeferred(_ block: Block) -> Bool {
        block.header.previousHash == tip.hash && nodes[block.hash] == nil
    }

    /// Connects a block that extends the tip and passed the context-free rules (`txids` from
    /// `ContextFreeRules.check`): header rules in context, contextual rules and scripts, UTXO
    /// update; its signature checks are returned instead of verified. Nothing is written to
    /// the database (no flush can happen) until `confirmDeferred` covers it.
    /// Throws `ChainStateError.rejected` with nothing changed; the caller should settle the
    /// pending signatures, then `accept` the block to have it recorded as invalid.
    public func connectDeferred(_ block: Block, txids: [Hash256], encoded: [UInt8]? = nil) throws -> DeferredConnection {
        precondition(canConnectDeferred(block))
        let hash = block.hash
        let parent = tip
        let node = try checkedNode(for: block, hash: hash, parent: parent)
        let delta = try contextualDelta(node, block, txids: txids)
        nodes[hash] = node
        pendingUndo[hash] = apply(delta, node: node, transactions: block.transactions.count)
        unverified.append(UnverifiedBlock(node: node, encoded: encoded ?? block.encoded))
        return DeferredConnection(height: node.height, hash: hash, signatures: delta.signatureBatch, locations: delta.checkLocations,
                                  transactions: block.transactions.count, inputs: delta.inputCount)
    }

    /// The oldest `count` unverified blocks had every signature verify: their block, index
    /// and undo records join the next flush.
    public func confirmDeferred(_ count: Int) throws {
        precondition(count <= unverified.count)
        for entry in unverified.prefix(count) {
            let hash = entry.node.hash
            try storeBlock(hash, entry.encoded)
            pending.put(families.index, hash.bytes, entry.node.record)
            try storeUndo(hash, pendingUndo.removeValue(forKey: hash)!)
            pendingBytes += 256 + 64
        }
        unverified.removeFirst(count)
    }

    /// A signature of unverified block number `index` (0: the oldest) failed at `location`:
    /// the blocks before it are confirmed, it and every later one are disconnected, it is
    /// recorded as invalid (as `accept` does) and the later ones are forgotten. Returns the
    /// error to report, worded as the sequential path words it; the chain state is at the
    /// last block whose signatures all verified (flush to persist it).
    public func rejectDeferred(index: Int, location: CheckLocation) throws -> ChainStateError {
        precondition(index < unverified.count)
        try confirmDeferred(index)
        let bad = unverified[0]
        precondition(bad.node.hash == location.blockHash)
        while tip !== bad.node.parent {
            let dropped = tip
            try disconnectTip()
            pendingUndo[dropped.hash] = nil
            if dropped !== bad.node { nodes[dropped.hash] = nil }
        }
        unverified.removeAll()
        try storeBlock(bad.node.hash, bad.encoded)
        pendingBytes += 64
        markInvalid(bad.node)
        return ChainStateError.rejected(Self.signatureRejection(location), height: bad.node.height, hash: bad.node.hash)
    }
}

public struct UTXOSummary: Equatable, Sendable {
    public var bestHash: Hash256
    public var bestHeight: UInt64
    public var count: UInt64
    public var total: Amount
    public var digest: Hash256
}

extension ChainState {
    /// The network a datadir was created for, or nil for a new or foreign directory.
    public static func storedNetwork(directory: String) throws -> String? {
        guard FileManager.default.fileExists(atPath: directory + "/CURRENT") else { return nil }
        // Read-only: works while another process holds the datadir.
        let database: RocksDB
        do { database = try openDatabase(directory, options: RocksDB.Options(), readOnly: true) } catch ChainStateError.noChainState { return nil }
        return try database.get(database.columnFamily("meta"), networkKey).map { String(decoding: $0, as: UTF8.self) }
    }
}

extension ChainState {
    /// The block files of a datadir (`blocks/blk*.dat`), in file order.
    public static func blockFilePaths(directory: String) throws -> [String] {
        let blocks = directory + "/blocks"
        return try FlatFileStore.fileNumbers(directory: blocks, prefix: "blk").map { blocks + "/blk" + String(format: "%05u", $0) + ".dat" }
    }

    /// Holds the datadir's lock (its database opened for writing, nothing read) until the
    /// returned object is released, so no other process writes it meanwhile (`--reindex`).
    /// Nil when the directory holds no database.
    public static func holdLock(directory: String) throws -> AnyObject? {
        guard FileManager.default.fileExists(atPath: directory + "/CURRENT") else { return nil }
        var options = RocksDB.Options()
        options.createIfMissing = false
        return try openDatabase(directory, options: options, readOnly: false)
    }
}
