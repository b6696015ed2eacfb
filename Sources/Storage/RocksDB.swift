import CRocksDB
import Foundation

/// An error from RocksDB, naming the operation that failed.
public struct RocksDBError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var message: String
    public var description: String { "RocksDB \(operation): \(message)" }
}

/// Takes ownership of a RocksDB error string (allocated by RocksDB) and throws it.
private func check(_ error: UnsafeMutablePointer<CChar>?, _ operation: String) throws {
    guard let error else { return }
    let message = String(cString: error)
    rocksdb_free(error)
    throw RocksDBError(operation: operation, message: message)
}

/// An embedded RocksDB database with named column families. Reads and writes are
/// thread-safe (RocksDB's own guarantee); the handle closes the database when released.
public final class RocksDB: @unchecked Sendable {
    public struct Options: Sendable {
        /// Shared LRU block cache for all column families.
        public var blockCacheBytes: Int = 64 << 20
        /// Bloom filter bits per key (point lookups of absent keys skip the disk).
        public var bloomBitsPerKey: Double = 10
        /// Memtable size per column family before it is flushed.
        public var writeBufferBytes: Int = 64 << 20
        public var compression: Compression = .lz4
        /// Background threads for flushes and compactions.
        public var parallelism: Int = 2
        public var createIfMissing = true

        public enum Compression: Int32, Sendable { case none = 0, snappy = 1, lz4 = 4, zstd = 7 }

        public init() {}
    }

    /// An opened column family; valid while its database is open.
    public struct ColumnFamily: @unchecked Sendable {
        public let name: String
        let handle: OpaquePointer
    }

    public let path: String
    let db: OpaquePointer
    private let options: OpaquePointer
    private let tableOptions: OpaquePointer
    private let cache: OpaquePointer
    private let filter: OpaquePointer
    private let readOptions: OpaquePointer
    private let writeOptionsSync: OpaquePointer
    private let writeOptionsAsync: OpaquePointer
    private var families: [String: ColumnFamily] = [:]
    /// Opened read-only: nothing to flush at close.
    private let readOnly: Bool

    /// Opens (creating when allowed) the database at `path` with exactly these column
    /// families besides `default`; missing families are created. `readOnly` opens an
    /// existing database without its lock (so beside a writer), as of its last write;
    /// writes then fail.
    public init(path: String, columnFamilies: [String], options settings: Options = Options(), readOnly: Bool = false) throws {
        self.path = path
        self.readOnly = readOnly
        let options = rocksdb_options_create()!
        rocksdb_options_set_create_if_missing(options, settings.createIfMissing ? 1 : 0)
        rocksdb_options_set_create_missing_column_families(options, 1)
        rocksdb_options_increase_parallelism(options, Int32(max(1, settings.parallelism)))
        rocksdb_options_set_write_buffer_size(options, settings.writeBufferBytes)
        rocksdb_options_set_compression(options, settings.compression.rawValue)
        let tableOptions = rocksdb_block_based_options_create()!
        let cache = rocksdb_cache_create_lru(max(1 << 20, settings.blockCacheBytes))!
        rocksdb_block_based_options_set_block_cache(tableOptions, cache)
        let filter = rocksdb_filterpolicy_create_bloom(settings.bloomBitsPerKey)!
        rocksdb_block_based_options_set_filter_policy(tableOptions, filter)
        rocksdb_options_set_block_based_table_factory(options, tableOptions)
        let readOptions = rocksdb_readoptions_create()!
        let writeOptionsSync = rocksdb_writeoptions_create()!
        rocksdb_writeoptions_set_sync(writeOptionsSync, 1)
        let writeOptionsAsync = rocksdb_writeoptions_create()!

        var names = ["default"] + columnFamilies.filter { $0 != "default" }
        // A writable open must name every family the database has: families other versions
        // or services added (the chain's "txindex") are opened too, and left alone.
        if !readOnly {
            for existing in Self.existingColumnFamilies(path: path, options: options) where !names.contains(existing) { names.append(existing) }
        }
        var handles = [OpaquePointer?](repeating: nil, count: names.count)
        let familyOptions = [OpaquePointer?](repeating: options, count: names.count)
        var error: UnsafeMutablePointer<CChar>?
        let cNames = names.map { strdup($0) }
        defer { cNames.forEach { free($0) } }
        let namePointers = cNames.map { UnsafePointer($0) }
        let opened = readOnly
            ? rocksdb_open_for_read_only_column_families(options, path, Int32(names.count), namePointers, familyOptions, &handles, 0, &error)
            : rocksdb_open_column_families(options, path, Int32(names.count), namePointers, familyOptions, &handles, &error)
        do {
            try check(error, "open \(path)")
            guard opened != nil else { throw RocksDBError(operation: "open \(path)", message: "no handle returned") }
        } catch {
            Self.destroyOptions(options, tableOptions, cache, filter, readOptions, writeOptionsSync, writeOptionsAsync)
            throw error
        }
        self.options = options
        self.tableOptions = tableOptions
        self.cache = cache
        self.filter = filter
        self.readOptions = readOptions
        self.writeOptionsSync = writeOptionsSync
        self.writeOptionsAsync = writeOptionsAsync
        db = opened!
        for (name, handle) in zip(names, handles) {
            if let handle { families[name] = ColumnFamily(name: name, handle: handle) }
        }
    }

    /// The families of the database at `path` (empty when there is none yet).
    private static func existingColumnFamilies(path: String, options: OpaquePointer) -> [String] {
        var count = 0
        var error: UnsafeMutablePointer<CChar>?
        guard let list = rocksdb_list_column_families(options, path, &count, &error) else {
            if let error { rocksdb_free(error) }
            return []
        }
        defer { rocksdb_list_column_families_destroy(list, count) }
        return (0..<count).compactMap { list[$0].map { String(cString: $0) } }
    }

    deinit {
        // With the write-ahead log on, a close leaves the memtables in the log, and the next
        // open replays all of it (seconds for a large datadir). Writing them out now moves that
        // cost to the shutdown of the process that made it; the data is the same either way.
        if !readOnly {
            for family in families.values { try? flush(family) }
        }
        for family in families.values { rocksdb_column_family_handle_destroy(family.handle) }
        rocksdb_close(db)
        Self.destroyOptions(options, tableOptions, cache, filter, readOptions, writeOptionsSync, writeOptionsAsync)
    }

    private static func destroyOptions(_ options: OpaquePointer, _ table: OpaquePointer, _ cache: OpaquePointer,
                                       _ filter: OpaquePointer, _ read: OpaquePointer, _ sync: OpaquePointer, _ async: OpaquePointer) {
        rocksdb_writeoptions_destroy(sync)
        rocksdb_writeoptions_destroy(async)
        rocksdb_readoptions_destroy(read)
        // The table options own the filter policy once set.
        rocksdb_block_based_options_destroy(table)
        rocksdb_cache_destroy(cache)
        rocksdb_options_destroy(options)
        _ = filter
    }

    /// The handle of an opened column family.
    public func columnFamily(_ name: String) throws -> ColumnFamily {
        guard let family = families[name] else {
            throw RocksDBError(operation: "column family", message: "'\(name)' is not open in \(path)")
        }
        return family
    }

    public func get(_ family: ColumnFamily, _ key: [UInt8], snapshot: Snapshot? = nil) throws -> [UInt8]? {
        var length = 0
        var error: UnsafeMutablePointer<CChar>?
        let value = withReadOptions(snapshot) { readOptions in
            key.withUnsafeBufferPointer { keyBuffer in
                keyBuffer.withMemoryRebound(to: CChar.self) {
                    rocksdb_get_cf(db, readOptions, family.handle, $0.baseAddress, key.count, &length, &error)
                }
            }
        }
        try check(error, "get")
        guard let value else { return nil }
        defer { rocksdb_free(value) }
        return Array(UnsafeRawBufferPointer(start: value, count: length))
    }

    /// Batched point reads (one RocksDB MultiGet): values in the order of `keys`.
    public func multiGet(_ family: ColumnFamily, _ keys: [[UInt8]], snapshot: Snapshot? = nil) throws -> [[UInt8]?] {
        guard !keys.isEmpty else { return [] }
        let count = keys.count
        // One contiguous copy of the keys keeps every pointer valid during the call.
        let total = keys.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, total))
        defer { storage.deallocate() }
        var keyPointers = [UnsafePointer<CChar>?]()
        keyPointers.reserveCapacity(count)
        var offset = 0
        for key in keys {
            key.withUnsafeBytes { UnsafeMutableRawPointer(storage + offset).copyMemory(from: $0.baseAddress ?? UnsafeRawPointer(storage), byteCount: key.count) }
            keyPointers.append(UnsafePointer(storage + offset))
            offset += key.count
        }
        let keyLengths = keys.map(\.count)
        let handles = [OpaquePointer?](repeating: family.handle, count: count)
        var values = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        var valueLengths = [Int](repeating: 0, count: count)
        var errors = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
        withReadOptions(snapshot) { readOptions in
            rocksdb_multi_get_cf(db, readOptions, handles, count, keyPointers, keyLengths, &values, &valueLengths, &errors)
        }
        var results = [[UInt8]?]()
        results.reserveCapacity(count)
        var firstError: UnsafeMutablePointer<CChar>?
        for i in 0..<count {
            if let error = errors[i] {
                if firstError == nil { firstError = error } else { rocksdb_free(error) }
            }
            if let value = values[i] {
                results.append(Array(UnsafeRawBufferPointer(start: value, count: valueLengths[i])))
                rocksdb_free(value)
            } else {
                results.append(nil)
            }
        }
        try check(firstError, "multi_get")
        return results
    }

    /// Applies every operation of `batch` atomically. With `sync` the write-ahead log is
    /// fsynced before returning, so the batch survives a crash of the machine.
    public func write(_ batch: WriteBatch, sync: Bool = true) throws {
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_write(db, sync ? writeOptionsSync : writeOptionsAsync, batch.handle, &error)
        try check(error, "write")
    }

    public func put(_ family: ColumnFamily, _ key: [UInt8], _ value: [UInt8], sync: Bool = true) throws {
        let batch = WriteBatch()
        batch.put(family, key, value)
        try write(batch, sync: sync)
    }

    /// Flushes the memtables of `family` to SST files.
    public func flush(_ family: ColumnFamily) throws {
        let flushOptions = rocksdb_flushoptions_create()
        defer { rocksdb_flushoptions_destroy(flushOptions) }
        rocksdb_flushoptions_set_wait(flushOptions, 1)
        var error: UnsafeMutablePointer<CChar>?
        rocksdb_flush_cf(db, flushOptions, family.handle, &error)
        try check(error, "flush")
    }

    /// A consistent read view as of now.
    public func snapshot() -> Snapshot { Snapshot(database: self) }

    /// An iterator over `family` in key order (optionally inside a snapshot).
    public func iterator(_ family: ColumnFamily, snapshot: Snapshot? = nil) -> Iterator {
        Iterator(database: self, family: family, snapshot: snapshot)
    }

    func withReadOptions<R>(_ snapshot: Snapshot?, _ body: (OpaquePointer) -> R) -> R {
        guard let snapshot else { return body(readOptions) }
        let options = rocksdb_readoptions_create()!
        defer { rocksdb_readoptions_destroy(options) }
        rocksdb_readoptions_set_snapshot(options, snapshot.handle)
        return body(options)
    }

    /// Operations applied together by `RocksDB.write`.
    public final class WriteBatch {
        let handle: OpaquePointer

        public init() { handle = rocksdb_writebatch_create() }
        deinit { rocksdb_writebatch_destroy(handle) }

        public func put(_ family: ColumnFamily, _ key: [UInt8], _ value: [UInt8]) {
            key.withUnsafeBufferPointer { k in
                value.withUnsafeBufferPointer { v in
                    k.withMemoryRebound(to: CChar.self) { kc in
                        v.withMemoryRebound(to: CChar.self) { vc in
                            rocksdb_writebatch_put_cf(handle, family.handle, kc.baseAddress, key.count, vc.baseAddress, value.count)
                        }
                    }
                }
            }
        }

        public func delete(_ family: ColumnFamily, _ key: [UInt8]) {
            key.withUnsafeBufferPointer { k in
                k.withMemoryRebound(to: CChar.self) { rocksdb_writebatch_delete_cf(handle, family.handle, $0.baseAddress, key.count) }
            }
        }

        public var count: Int { Int(rocksdb_writebatch_count(handle)) }
        public func clear() { rocksdb_writebatch_clear(handle) }
    }

    /// A point-in-time view; released with the object.
    public final class Snapshot: @unchecked Sendable {
        let handle: OpaquePointer
        private let database: RocksDB

        init(database: RocksDB) {
            self.database = database
            handle = rocksdb_create_snapshot(database.db)
        }

        deinit { rocksdb_release_snapshot(database.db, handle) }
    }

    /// Forward and backward iteration in key order.
    public final class Iterator {
        private let handle: OpaquePointer
        private let readOptions: OpaquePointer
        private let database: RocksDB
        private let snapshot: Snapshot?

        init(database: RocksDB, family: ColumnFamily, snapshot: Snapshot?) {
            self.database = database
            self.snapshot = snapshot
            readOptions = rocksdb_readoptions_create()
            if let snapshot { rocksdb_readoptions_set_snapshot(readOptions, snapshot.handle) }
            handle = rocksdb_create_iterator_cf(database.db, readOptions, family.handle)
        }

        deinit {
            rocksdb_iter_destroy(handle)
            rocksdb_readoptions_destroy(readOptions)
        }

        public var isValid: Bool { rocksdb_iter_valid(handle) != 0 }
        public func seekToFirst() { rocksdb_iter_seek_to_first(handle) }
        public func seekToLast() { rocksdb_iter_seek_to_last(handle) }
        public func seek(_ key: [UInt8]) {
            key.withUnsafeBufferPointer { k in k.withMemoryRebound(to: CChar.self) { rocksdb_iter_seek(handle, $0.baseAddress, key.count) } }
        }
        public func next() { rocksdb_iter_next(handle) }
        public func previous() { rocksdb_iter_prev(handle) }

        public var key: [UInt8] {
            var length = 0
            let pointer = rocksdb_iter_key(handle, &length)
            return Array(UnsafeRawBufferPointer(start: pointer, count: length))
        }

        public var value: [UInt8] {
            var length = 0
            let pointer = rocksdb_iter_value(handle, &length)
            return Array(UnsafeRawBufferPointer(start: pointer, count: length))
        }

        /// The iterator's error status (corruption found while iterating, for example).
        public func checkStatus() throws {
            var error: UnsafeMutablePointer<CChar>?
            rocksdb_iter_get_error(handle, &error)
            try check(error, "iterate")
        }
    }
}
