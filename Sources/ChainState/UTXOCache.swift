import Primitives
import Storage

/// The UTXO set: an in-memory cache in front of RocksDB's `utxo` column family.
/// Coins created and spent between two flushes never reach the disk (a "fresh" entry is
/// simply dropped when spent); a flush writes the dirty entries into the caller's batch.
public final class UTXOCache {
    struct Entry {
        var coin: Coin?    // nil: spent (pending a delete on disk unless fresh)
        var dirty: Bool    // differs from the disk
        var fresh: Bool    // not on disk at all
    }

    private var entries: [OutPoint: Entry] = [:]
    private let database: RocksDB
    private let family: RocksDB.ColumnFamily
    /// Approximate bytes held, for the dbcache limit.
    public private(set) var memoryUsage = 0
    public private(set) var hits = 0
    public private(set) var misses = 0

    init(database: RocksDB, family: RocksDB.ColumnFamily) {
        self.database = database
        self.family = family
    }

    static func cost(_ coin: Coin?) -> Int { 128 + (coin?.output.lockScript.count ?? 0) }

    public func coin(_ outpoint: OutPoint) throws -> Coin? {
        if let entry = entries[outpoint] {
            hits += 1
            return entry.coin
        }
        misses += 1
        guard let bytes = try database.get(family, outpoint.storageKey) else { return nil }
        let coin = try Self.decodeStored(bytes, outpoint)
        insert(outpoint, Entry(coin: coin, dirty: false, fresh: false))
        return coin
    }

    /// Loads every outpoint not yet cached with one MultiGet.
    public func prefetch(_ outpoints: [OutPoint]) throws {
        let missing = outpoints.filter { entries[$0] == nil }
        guard !missing.isEmpty else { return }
        let values = try database.multiGet(family, missing.map(\.storageKey))
        for (outpoint, value) in zip(missing, values) {
            guard entries[outpoint] == nil, let value else { continue }
            insert(outpoint, Entry(coin: try Self.decodeStored(value, outpoint), dirty: false, fresh: false))
        }
    }

    public func add(_ outpoint: OutPoint, _ coin: Coin) {
        // A spent-but-unflushed entry still has its disk record to overwrite: not fresh.
        let fresh = entries[outpoint].map { $0.fresh } ?? true
        insert(outpoint, Entry(coin: coin, dirty: true, fresh: fresh))
    }

    public func spend(_ outpoint: OutPoint) {
        guard let entry = entries[outpoint] else {
            // Not cached (the caller read it through `coin`, so this is rare): record the delete.
            insert(outpoint, Entry(coin: nil, dirty: true, fresh: false))
            return
        }
        if entry.fresh {
            memoryUsage -= Self.cost(entry.coin)
            entries[outpoint] = nil
        } else {
            insert(outpoint, Entry(coin: nil, dirty: true, fresh: false))
        }
    }

    private func insert(_ outpoint: OutPoint, _ entry: Entry) {
        if let old = entries.updateValue(entry, forKey: outpoint) { memoryUsage -= Self.cost(old.coin) }
        memoryUsage += Self.cost(entry.coin)
    }

    /// Adds every dirty entry to `batch` and marks the cache clean; with `evict`, also
    /// forgets clean entries to release memory.
    func writeDirty(into batch: RocksDB.WriteBatch, evict: Bool) -> Int {
        // In key order: RocksDB's memtable skip list inserts a sorted run several times
        // faster than random keys (each insert starts from the previous one's position).
        // (txid, index) order is the order of `storageKey`.
        var dirty = [(outpoint: OutPoint, coin: Coin?)]()
        dirty.reserveCapacity(entries.count)
        for (outpoint, entry) in entries where entry.dirty { dirty.append((outpoint, entry.coin)) }
        dirty.sort { $0.outpoint.txid != $1.outpoint.txid ? $0.outpoint.txid < $1.outpoint.txid : $0.outpoint.index < $1.outpoint.index }
        for (outpoint, coin) in dirty {
            if let coin { batch.put(family, outpoint.storageKey, coin.encoded) } else { batch.delete(family, outpoint.storageKey) }
        }
        if evict {
            entries.removeAll(keepingCapacity: false)
            memoryUsage = 0
        } else {
            var spent = [OutPoint]()
            var index = entries.startIndex
            while index != entries.endIndex {
                if entries.values[index].coin == nil {
                    spent.append(entries.keys[index])
                } else {
                    entries.values[index].dirty = false
                    entries.values[index].fresh = false
                }
                entries.formIndex(after: &index)
            }
            // Deleted on disk now: nothing left to remember.
            for outpoint in spent { entries[outpoint] = nil }
            memoryUsage -= spent.count * Self.cost(nil)
        }
        return dirty.count
    }

    /// Drops every change not yet flushed (after a failed connect the caller reloads).
    func discardAll() {
        entries.removeAll()
        memoryUsage = 0
    }

    static func decodeStored(_ bytes: [UInt8], _ outpoint: OutPoint) throws -> Coin {
        do { return try Coin(decoding: bytes) } catch {
            throw ChainStateError.corruptDatabase("coin \(outpoint): \(error)")
        }
    }
}
