// The transaction index (`-txindex`): txid -> the block holding it, in the chain database's
// "txindex" column family, built by a background worker from the best indexed block to the
// tip and then following the tip; reorganisations unwind it.

import ChainState
import Foundation
import Primitives
import Storage

/// Errors of the index: its records are damaged, or the chain cannot give a block it names.
public enum TransactionIndexError: Error, CustomStringConvertible {
    case corrupt(String)
    case missingBlock(height: UInt64, hash: Hash256)

    public var description: String {
        switch self {
        case .corrupt(let detail): return "corrupt transaction index: \(detail)"
        case let .missingBlock(height, hash): return "transaction index: block \(height) (\(hash.hex)) of the active chain is not stored"
        }
    }
}

/// txid -> (block hash, position in the block) for every transaction of the active chain.
///
/// Records (one column family, keys distinguished by their first byte):
/// - `t` + txid -> block hash (32) + index in the block (u32 LE);
/// - `b` + block hash -> height (u64 LE) + parent hash (32) + the block's txids (32 each):
///   what unwinding the block needs, so a rewind never depends on the chain still holding
///   the block (after a crash the index may be ahead of the chain's last flush);
/// - `\0best` -> the best indexed block's hash (32) + height (u64 LE).
/// Every batch moves the best marker with the entries it adds or removes, so the stored
/// index is always exactly the blocks from genesis to its marker.
///
/// A lookup answers only for blocks on the current active chain (checked in the chain's
/// published snapshot), so an entry the worker has not unwound yet is never reported.
public final class TransactionIndex: @unchecked Sendable {
    /// Name of the column family the chain database must have open (`ChainState` opens it).
    public static let columnFamily = "txindex"

    private let chain: ChainService
    private let database: RocksDB
    private let family: RocksDB.ColumnFamily
    /// Most blocks and most transaction entries per write batch.
    private let batchBlocks: Int
    private let batchEntries: Int

    /// Guards every field below; the worker waits on it for tip events or a stop.
    private let condition = NSCondition()
    private var best: (hash: Hash256, height: UInt64)?
    private var wakeRequested = false
    private var stopRequested = false
    private var started = false
    private var failure: (any Error)?
    private var failureHandler: (@Sendable (any Error) -> Void)?
    private var eventForwarder: Task<Void, Never>?
    private let workerFinished = DispatchSemaphore(value: 0)

    static let bestKey: [UInt8] = [0] + Array("best".utf8)
    static func transactionKey(_ txid: Hash256) -> [UInt8] { [UInt8(ascii: "t")] + txid.bytes }
    static func blockKey(_ hash: Hash256) -> [UInt8] { [UInt8(ascii: "b")] + hash.bytes }

    /// Opens the index stored in `database` (the chain's own RocksDB, `ChainState.database`,
    /// which must have the "txindex" family open) for the chain `chain` serves. Nothing runs
    /// until `start`. `batchBlocks`/`batchEntries` bound one write batch.
    public init(chain: ChainService, database: RocksDB, batchBlocks: Int = 1_000, batchEntries: Int = 200_000) throws {
        self.chain = chain
        self.database = database
        family = try database.columnFamily(Self.columnFamily)
        self.batchBlocks = max(1, batchBlocks)
        self.batchEntries = max(1, batchEntries)
        best = try Self.decodeBest(database.get(family, Self.bestKey))
    }

    deinit { stop() }

    // MARK: Queries

    /// The block holding `txid` on the active chain and that block's height; nil when the
    /// transaction is in no indexed block of the active chain (unknown, not yet indexed, or
    /// only in a block that a reorganisation disconnected).
    public func location(of txid: Hash256) throws -> (blockHash: Hash256, height: UInt64)? {
        try position(of: txid).map { ($0.blockHash, $0.height) }
    }

    /// `location(of:)` plus the transaction's index in its block.
    public func position(of txid: Hash256) throws -> (blockHash: Hash256, height: UInt64, index: Int)? {
        guard let value = try database.get(family, Self.transactionKey(txid)) else { return nil }
        var reader = ByteReader(value, path: "txindex entry \(txid.hex)")
        let blockHash: Hash256, index: UInt32
        do {
            blockHash = try reader.readHash("block")
            index = try reader.readUInt32("index")
            try reader.expectEnd("end")
        } catch {
            throw TransactionIndexError.corrupt("\(error)")
        }
        guard let height = chain.snapshot.activeHeight(of: blockHash) else { return nil }
        return (blockHash, height, Int(index))
    }

    /// The best indexed block's height, and whether it is the chain's tip (getindexinfo's
    /// `best_block_height` and `synced`). Before the first block is indexed: height 0, not synced.
    public var status: (bestHeight: UInt64, synced: Bool) {
        let best = condition.withLock { self.best }
        guard let best else { return (0, false) }
        return (best.height, best.hash == chain.snapshot.tipHash)
    }

    /// The best indexed block (nil before the first one).
    public var bestBlock: (hash: Hash256, height: UInt64)? { condition.withLock { best } }

    /// Why the worker stopped on its own (damaged records, a block the chain cannot give);
    /// nil while it runs or after a requested stop.
    public var error: (any Error)? { condition.withLock { failure } }

    /// Called once, from the worker, if it stops on an error (for the node's log); the index
    /// keeps answering lookups for what it holds.
    public func onFailure(_ handler: @escaping @Sendable (any Error) -> Void) {
        condition.withLock { failureHandler = handler }
    }

    // MARK: Worker

    /// Starts the background worker: it indexes from the best indexed block (unwinding it
    /// first if a reorganisation left it off the active chain) to the tip, then follows the
    /// chain's tip events. Calling it again does nothing.
    public func start() {
        let firstStart = condition.withLock {
            guard !started, !stopRequested else { return false }
            started = true
            wakeRequested = true
            return true
        }
        guard firstStart else { return }
        // Subscribed before the worker's first pass, so no tip change falls in between.
        let events = chain.tipEvents(bufferLimit: 1_000)
        eventForwarder = Task.detached { [weak self] in
            // Each event only wakes the worker, which brings the index to the snapshot of the
            // moment; a lost event (full buffer) therefore loses nothing.
            for await _ in events {
                guard let self else { return }
                self.wake()
            }
        }
        let worker = Thread { [self] in
            run()
            workerFinished.signal()
        }
        worker.name = "txindex"
        worker.start()
    }

    /// Stops the worker after the block it is indexing (its batch is written, so a later
    /// `start` resumes there) and waits for it. Calling it again does nothing.
    public func stop() {
        let wasRunning = condition.withLock {
            defer { stopRequested = true; condition.broadcast() }
            return started && !stopRequested
        }
        eventForwarder?.cancel()
        if wasRunning { workerFinished.wait() }
    }

    private func wake() {
        condition.withLock {
            wakeRequested = true
            condition.signal()
        }
    }

    private var stopping: Bool { condition.withLock { stopRequested } }

    private func run() {
        while true {
            condition.lock()
            while !wakeRequested && !stopRequested { condition.wait() }
            let stop = stopRequested
            wakeRequested = false
            condition.unlock()
            if stop { return }
            do {
                try catchUp()
            } catch {
                let handler = condition.withLock { failure = error; return failureHandler }
                handler?(error)
                return
            }
        }
    }

    /// Brings the index to the chain's current tip, one batch at a time, until it is there.
    private func catchUp() throws {
        while !stopping {
            let snapshot = chain.snapshot
            if let best = bestBlock, best.hash == snapshot.tipHash { return }
            try indexBatch(toward: snapshot)
        }
    }

    /// One write batch: unwinds the indexed blocks that are off `snapshot`'s active chain,
    /// then indexes its blocks above the fork, up to the batch bounds or a stop request.
    private func indexBatch(toward snapshot: ChainSnapshot) throws {
        let batch = RocksDB.WriteBatch()
        var cursor = bestBlock
        var blocks = 0, entries = 0

        while let current = cursor, snapshot.activeHeight(of: current.hash) != current.height {
            let record = try blockRecord(current.hash)
            guard record.height == current.height else {
                throw TransactionIndexError.corrupt("block \(current.hash.hex) is recorded at height \(record.height), indexed at \(current.height)")
            }
            for txid in record.txids {
                // Only this block's entry goes (a txid seen again elsewhere keeps its newer one).
                if let value = try database.get(family, Self.transactionKey(txid)), value.starts(with: current.hash.bytes) {
                    batch.delete(family, Self.transactionKey(txid))
                }
            }
            batch.delete(family, Self.blockKey(current.hash))
            entries += record.txids.count
            cursor = current.height == 0 ? nil : (record.parent, current.height - 1)
        }

        var height = cursor.map { $0.height + 1 } ?? 0
        while height <= snapshot.tipHeight, blocks < batchBlocks, entries < batchEntries, !stopping {
            guard let hash = snapshot.hash(atHeight: height) else { break }
            guard let bytes = try chain.block(hash) else { throw TransactionIndexError.missingBlock(height: height, hash: hash) }
            let decoded: (block: Block, spans: [TransactionSpan])
            do { decoded = try Block.decodeWithSpans(bytes) } catch {
                throw TransactionIndexError.corrupt("stored block \(height) (\(hash.hex)) does not decode: \(error)")
            }
            let txids = bytes.withUnsafeBytes { buffer in decoded.spans.map { $0.ids(in: buffer).txid } }
            var record = ByteWriter(capacity: 40 + 32 * txids.count)
            record.write(height)
            record.write(decoded.block.header.previousHash)
            for (index, txid) in txids.enumerated() {
                var entry = ByteWriter(capacity: 36)
                entry.write(hash)
                entry.write(UInt32(index))
                batch.put(family, Self.transactionKey(txid), entry.bytes)
                record.write(txid)
            }
            batch.put(family, Self.blockKey(hash), record.bytes)
            cursor = (hash, height)
            blocks += 1
            entries += txids.count
            height += 1
        }

        if let cursor {
            var marker = ByteWriter(capacity: 40)
            marker.write(cursor.hash)
            marker.write(cursor.height)
            batch.put(family, Self.bestKey, marker.bytes)
        } else {
            batch.delete(family, Self.bestKey)
        }
        // Not synced per batch: the write-ahead log keeps batches in order, so a crash loses
        // at most a suffix of whole batches (the next synced chain flush persists them too).
        try database.write(batch, sync: false)
        condition.withLock { best = cursor }
    }

    private func blockRecord(_ hash: Hash256) throws -> (height: UInt64, parent: Hash256, txids: [Hash256]) {
        guard let value = try database.get(family, Self.blockKey(hash)) else {
            throw TransactionIndexError.corrupt("indexed block \(hash.hex) has no record")
        }
        var reader = ByteReader(value, path: "txindex block \(hash.hex)")
        do {
            let height = try reader.readUInt64("height")
            let parent = try reader.readHash("parent")
            guard reader.remaining % 32 == 0 else { throw reader.invalid("txids", "\(reader.remaining) bytes is not a whole number of txids") }
            var txids = [Hash256]()
            txids.reserveCapacity(reader.remaining / 32)
            while reader.remaining > 0 { txids.append(try reader.readHash("txid")) }
            return (height, parent, txids)
        } catch let error as TransactionIndexError {
            throw error
        } catch {
            throw TransactionIndexError.corrupt("\(error)")
        }
    }

    static func decodeBest(_ value: [UInt8]?) throws -> (hash: Hash256, height: UInt64)? {
        guard let value else { return nil }
        var reader = ByteReader(value, path: "txindex best")
        do {
            let hash = try reader.readHash("hash")
            let height = try reader.readUInt64("height")
            try reader.expectEnd("end")
            return (hash, height)
        } catch {
            throw TransactionIndexError.corrupt("\(error)")
        }
    }
}
