@testable import ChainState
import Foundation
import Primitives
import Storage
import Testing

/// A damaged index must be a corrupt-database error at open, never a trap later: heights
/// feed `Int` conversions and array sizes (the best-chain path, the pipeline's counts).
struct CorruptIndexTests {
    @Test("an index record whose height is not its parent's plus one (here 2^63) is reported as corruption at open")
    func heightAboveParent() throws {
        var directory = ""
        var record = [UInt8]()
        do {
            // In a scope: the chain state's database (and its lock) closes before the write below.
            let (state, _, path) = try Fixtures.chain(blocks: 3, seed: 5)
            directory = path
            try state.flush()
            var header = state.tip.header
            header.height = 1 << 63
            header.previousHash = state.tip.hash
            record = header.encoded + [UInt8](repeating: 0, count: 32) + [0]
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let forged = Hash256(bytes: [UInt8](repeating: 0xAB, count: 32))!
        try Self.putIndexRecord(directory: directory, key: forged.bytes, value: record)
        #expect {
            _ = try ChainState(directory: directory, parameters: Fixtures.regtest)
        } throws: { error in
            guard case .corruptDatabase(let detail) = error as? ChainStateError else { return false }
            return detail.contains("height \(UInt64(1) << 63)") && detail.contains(forged.hex)
        }
    }

    @Test("a flushed-position marker past what an offset can address is reported as corruption at open, not a trap")
    func flushedMarkerOffset() throws {
        var directory = ""
        do {
            let (state, _, path) = try Fixtures.chain(blocks: 3, seed: 6)
            directory = path
            try state.flush()
        }
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.put(directory: directory, family: "meta", key: ChainState.flushedKey,
                     value: FlatFileStore.encodeEnd((file: 0, offset: UInt64.max)))
        #expect {
            _ = try ChainState(directory: directory, parameters: Fixtures.regtest)
        } throws: { error in
            guard case .corruptDatabase(let detail) = error as? ChainStateError else { return false }
            return detail.contains("flushed-position marker") && detail.contains("\(UInt64.max)")
        }
    }

    static func putIndexRecord(directory: String, key: [UInt8], value: [UInt8]) throws {
        try put(directory: directory, family: "index", key: key, value: value)
    }

    /// Writes one record through a second handle, closed (lock released) when this returns.
    static func put(directory: String, family: String, key: [UInt8], value: [UInt8]) throws {
        let database = try RocksDB(path: directory, columnFamilies: ["utxo", "blocks", "index", "undo", "meta"])
        let batch = RocksDB.WriteBatch()
        batch.put(try database.columnFamily(family), key, value)
        try database.write(batch, sync: true)
    }
}
