import BLAKE3
import Consensus
import Primitives
import Storage

/// The UTXO set: an in-memory cache in front of RocksDB's `utxo` column family.
/// Coins created and spent between two flushes never reach the disk (a "fresh" entry is
/// simply dropped when spent); a flush writes the dirty entries into the caller's batch.
/// It is the view the contextual rules read (`coin(_:)`).
public final class UTXOCache: UTXOView {
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
    /// Counts changes, so a prepared flush knows whether it is still current.
    private var version = 0
    /// Whether the cache holds every coin (the set started empty and nothing was evicted):
    /// then the digest can come from memory instead of a database scan.
    private(set) var holdsWholeSet: Bool
    private var prepared: PreparedFlush?

    init(database: RocksDB, family: RocksDB.ColumnFamily) throws {
        self.database = database
        self.family = family
        let iterator = database.iterator(family)
        iterator.seekToFirst()
        holdsWholeSet = !iterator.isValid
        try iterator.checkStatus()
    }

    static func cost(_ coin: Coin?) -> Int { 128 + (coin?.output.lockScript.count ?? 0) }

    public func coin(_ outpoint: OutPoint) throws -> Coin? {
        if let entry = entries[outpoint] {
            hits += 1
            return entry.coin
        }
        misses += 1
        // Holding every coin, a miss means there is no such coin.
        guard !holdsWholeSet, let bytes = try database.get(family, outpoint.storageKey) else { return nil }
        let coin = try Self.decodeStored(bytes, outpoint)
        insert(outpoint, Entry(coin: coin, dirty: false, fresh: false))
        return coin
    }

    /// Loads every outpoint not yet cached with one MultiGet (nothing to load, and the
    /// sequence is never walked, when the cache holds every coin).
    public func prefetch(_ outpoints: some Sequence<OutPoint>) throws {
        guard !holdsWholeSet else { return }
        let missing = outpoints.filter { entries[$0] == nil }
        guard !missing.isEmpty else { return }
        let values = try database.multiGet(family, missing.map(\.storageKey))
        for (outpoint, value) in zip(missing, values) {
            guard entries[outpoint] == nil, let value else { continue }
            insert(outpoint, Entry(coin: try Self.decodeStored(value, outpoint), dirty: false, fresh: false))
        }
    }

    public func add(_ outpoint: OutPoint, _ coin: Coin) {
        version &+= 1
        if let index = entries.index(forKey: outpoint) {
            // A spent-but-unflushed entry still has its disk record to overwrite: not fresh.
            memoryUsage += Self.cost(coin) - Self.cost(entries.values[index].coin)
            entries.values[index].coin = coin
            entries.values[index].dirty = true
        } else {
            entries[outpoint] = Entry(coin: coin, dirty: true, fresh: true)
            memoryUsage += Self.cost(coin)
        }
    }

    public func spend(_ outpoint: OutPoint) {
        version &+= 1
        guard let index = entries.index(forKey: outpoint) else {
            // Not cached (the caller read it through `coin`, so this is rare): record the delete.
            insert(outpoint, Entry(coin: nil, dirty: true, fresh: false))
            return
        }
        memoryUsage -= Self.cost(entries.values[index].coin)
        if entries.values[index].fresh {
            entries.remove(at: index)
        } else {
            entries.values[index] = Entry(coin: nil, dirty: true, fresh: false)
            memoryUsage += Self.cost(nil)
        }
    }

    private func insert(_ outpoint: OutPoint, _ entry: Entry) {
        if let old = entries.updateValue(entry, forKey: outpoint) { memoryUsage -= Self.cost(old.coin) }
        memoryUsage += Self.cost(entry.coin)
    }

    /// The database writes of a flush in key order, and the digest of the whole set when
    /// the cache holds it; valid while `version` is unchanged.
    struct PreparedFlush {
        var version: Int
        var writes: [(key: [UInt8], value: [UInt8]?)]
        var summary: (count: UInt64, total: Amount, digest: Hash256)?
    }

    /// Sorts and encodes what the next flush writes (and, when the cache holds every coin,
    /// the UTXO digest), so that work can run while the last signatures verify.
    func prepareFlush() throws {
        guard prepared?.version != version else { return }
        // Key order: RocksDB's memtable skip list inserts a sorted run several times faster
        // than random keys, and the digest is defined in key order. (txid, index) order is
        // the order of `storageKey`.
        var all = [(outpoint: OutPoint, entry: Entry)]()
        all.reserveCapacity(entries.count)
        for (outpoint, entry) in entries where entry.dirty || holdsWholeSet { all.append((outpoint, entry)) }
        all.sort { $0.outpoint.txid != $1.outpoint.txid ? $0.outpoint.txid < $1.outpoint.txid : $0.outpoint.index < $1.outpoint.index }
        var writes = [(key: [UInt8], value: [UInt8]?)]()
        writes.reserveCapacity(all.count)
        var hasher = holdsWholeSet ? BLAKE3Hasher() : nil
        var count: UInt64 = 0
        var total = Amount.zero
        for (outpoint, entry) in all {
            let key = outpoint.storageKey
            let value = entry.coin?.encoded
            if entry.dirty { writes.append((key, value)) }
            if hasher != nil, let value, let coin = entry.coin {
                hasher!.update(key)
                hasher!.update(value)
                count += 1
                guard let sum = total.adding(coin.output.value) else { throw ChainStateError.corruptDatabase("UTXO total overflows") }
                total = sum
            }
        }
        let summary = hasher.map { hasher in (count, total, Hash256(bytes: hasher.finalize())!) }
        prepared = PreparedFlush(version: version, writes: writes, summary: summary)
    }

    /// Adds every dirty entry to `batch` and marks the cache clean; with `evict`, also
    /// forgets clean entries to release memory. Returns, when the cache holds every coin,
    /// the set's count, total and digest.
    func writeDirty(into batch: RocksDB.WriteBatch, evict: Bool) throws -> (count: UInt64, total: Amount, digest: Hash256)? {
        try prepareFlush()
        let flush = prepared!
        prepared = nil
        for (key, value) in flush.writes {
            if let value { batch.put(family, key, value) } else { batch.delete(family, key) }
        }
        version &+= 1
        if evict {
            entries.removeAll(keepingCapacity: false)
            memoryUsage = 0
            holdsWholeSet = false
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
        return flush.summary
    }

    static func decodeStored(_ bytes: [UInt8], _ outpoint: OutPoint) throws -> Coin {
        do { return try Coin(decoding: bytes) } catch {
            throw ChainStateError.corruptDatabase("coin \(outpoint): \(error)")
        }
    }
}
