// Block and undo records, flushing, and the start-up replay of what the last flush missed.

import Foundation
import Primitives
import Storage

extension ChainState {
    /// Connects the blocks appended to the block files after the flush that ended at `flushed`
    /// (what a crash or kill left unflushed), in whatever order they were written, as Bitcoin
    /// Core does at start-up. A torn record at the end (an interrupted append) is cut off.
    func replay(from flushed: (file: UInt32, offset: UInt64)) throws {
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
            // The marker comes from the database: a damaged offset is corruption, not a trap.
            guard let start = Int(exactly: file == flushed.file ? flushed.offset : 0) else {
                throw ChainStateError.corruptDatabase("flushed-position marker names offset \(flushed.offset) of \(blockFiles.path(file))")
            }
            do {
                try BlockFile.forEachRecord(path: blockFiles.path(file), magic: parameters.magic, start: start) { record in
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
    static func checkNoBlocksBeyondGenesis(_ directory: String, _ blockFiles: FlatFileStore, magic: [UInt8], genesis: Hash256) throws {
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
    func storeBlock(_ hash: Hash256, _ bytes: [UInt8]) throws {
        let position = try blockFiles.append(bytes)
        pending.put(families.blocks, hash.bytes, position.encoded)
        unflushedBlocks[hash] = position
    }

    func storeUndo(_ hash: Hash256, _ bytes: [UInt8]) throws {
        let position = try undoFiles.append(bytes)
        pending.put(families.undo, hash.bytes, position.encoded)
        unflushedUndo[hash] = position
    }

    /// A block or undo record, through its position (not yet flushed, or in `family`).
    func storedRecord(_ family: RocksDB.ColumnFamily, _ files: FlatFileStore, _ unflushed: [Hash256: FlatFileStore.Position],
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

    func flushIfNeeded() throws {
        if utxo.memoryUsage + pendingBytes > cacheLimitBytes { try flush() }
    }

    /// Writes everything pending (blocks, index, undo data, UTXO changes) and the best-block
    /// marker in one atomic, synced write batch.
    public func flush() throws {
        guard !isReadOnly else { return } // nothing can have changed
        precondition(unverified.isEmpty, "a flush must never persist blocks whose signatures are unverified")
        lastFlushSummary = try utxo.writeDirty(into: pending, evict: utxo.memoryUsage > cacheLimitBytes / 2)
        pending.put(families.meta, Self.bestKey, tip.hash.bytes)
        writeMasternodes(into: pending)
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
