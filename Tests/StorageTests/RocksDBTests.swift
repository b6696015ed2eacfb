import Foundation
import Storage
import Testing
import TestSupport

struct RocksDBTests {
    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-rocks-\(UUID().uuidString)").path
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("column families: put, get, delete, missing keys, and data survives reopening")
    func basicsAndReopen() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            let db = try RocksDB(path: path, columnFamilies: ["utxo", "meta"])
            let utxo = try db.columnFamily("utxo"), meta = try db.columnFamily("meta")
            try db.put(utxo, Self.bytes("a"), Self.bytes("1"))
            try db.put(meta, Self.bytes("a"), Self.bytes("meta-a"))
            #expect(try db.get(utxo, Self.bytes("a")) == Self.bytes("1"))
            #expect(try db.get(meta, Self.bytes("a")) == Self.bytes("meta-a"))
            #expect(try db.get(utxo, Self.bytes("missing")) == nil)
            #expect(try db.get(utxo, []) == nil)
            try db.put(utxo, [], Self.bytes("empty key"))
            #expect(try db.get(utxo, []) == Self.bytes("empty key"))
            let batch = RocksDB.WriteBatch()
            batch.delete(meta, Self.bytes("a"))
            try db.write(batch)
            #expect(try db.get(meta, Self.bytes("a")) == nil)
            #expect(throws: RocksDBError.self) { try db.columnFamily("nope") }
        }
        let reopened = try RocksDB(path: path, columnFamilies: ["utxo", "meta"])
        #expect(try reopened.get(reopened.columnFamily("utxo"), Self.bytes("a")) == Self.bytes("1"))
        #expect(try reopened.get(reopened.columnFamily("meta"), Self.bytes("a")) == nil)
    }

    @Test("a write batch is atomic across column families and MultiGet returns values in key order")
    func batchesAndMultiGet() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try RocksDB(path: path, columnFamilies: ["utxo", "meta"])
        let utxo = try db.columnFamily("utxo"), meta = try db.columnFamily("meta")
        var rng = SeededGenerator(seed: 11)
        var expected = [[UInt8]: [UInt8]]()
        let batch = RocksDB.WriteBatch()
        for _ in 0..<2000 {
            let key = rng.bytes(36), value = rng.bytes(Int.random(in: 0...80, using: &rng))
            batch.put(utxo, key, value)
            expected[key] = value
        }
        batch.put(meta, Self.bytes("best"), Self.bytes("tip"))
        #expect(batch.count == 2001)
        try db.write(batch, sync: false)
        let keys = Array(expected.keys) + (0..<50).map { _ in rng.bytes(36) }
        let values = try db.multiGet(utxo, keys)
        #expect(values.count == keys.count)
        for (key, value) in zip(keys, values) { #expect(value == expected[key]) }
        #expect(try db.get(meta, Self.bytes("best")) == Self.bytes("tip"))
        #expect(try db.multiGet(utxo, []).isEmpty)
        try db.flush(utxo)
        #expect(try db.multiGet(utxo, Array(keys.prefix(10))) == Array(values.prefix(10)))
    }

    @Test("iterators walk keys in byte order; snapshots do not see later writes")
    func iteratorsAndSnapshots() throws {
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try RocksDB(path: path, columnFamilies: ["index"])
        let index = try db.columnFamily("index")
        for key in ["b", "a", "d", "c"] { try db.put(index, Self.bytes(key), Self.bytes(key.uppercased()), sync: false) }
        let snapshot = db.snapshot()
        try db.put(index, Self.bytes("e"), Self.bytes("E"), sync: false)
        try db.put(index, Self.bytes("a"), Self.bytes("changed"), sync: false)

        func collect(_ iterator: RocksDB.Iterator) throws -> [String] {
            var out = [String]()
            iterator.seekToFirst()
            while iterator.isValid {
                out.append(String(decoding: iterator.key + iterator.value, as: UTF8.self))
                iterator.next()
            }
            try iterator.checkStatus()
            return out
        }
        #expect(try collect(db.iterator(index)) == ["achanged", "bB", "cC", "dD", "eE"])
        #expect(try collect(db.iterator(index, snapshot: snapshot)) == ["aA", "bB", "cC", "dD"])
        #expect(try db.get(index, Self.bytes("a"), snapshot: snapshot) == Self.bytes("A"))
        #expect(try db.multiGet(index, [Self.bytes("a"), Self.bytes("e")], snapshot: snapshot) == [Self.bytes("A"), nil])

        let iterator = db.iterator(index)
        iterator.seek(Self.bytes("bb"))
        #expect(iterator.isValid && iterator.key == Self.bytes("c"))
        iterator.seekToLast()
        #expect(iterator.key == Self.bytes("e"))
        iterator.previous()
        #expect(iterator.key == Self.bytes("d"))
    }

    @Test("opening where a database cannot be: a clear error, not a crash")
    func openErrors() throws {
        let file = Self.temporaryPath()
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(throws: RocksDBError.self) { try RocksDB(path: file, columnFamilies: []) }
        var options = RocksDB.Options()
        options.createIfMissing = false
        #expect(throws: RocksDBError.self) { try RocksDB(path: Self.temporaryPath(), columnFamilies: [], options: options) }
        do {
            _ = try RocksDB(path: "/proc/rusty-cannot-exist", columnFamilies: [])
            Issue.record("opening under /proc should fail")
        } catch let error as RocksDBError {
            #expect(error.description.contains("open /proc/rusty-cannot-exist"))
        }
    }
}
