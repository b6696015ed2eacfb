@testable import ChainState
import Foundation
import Primitives
import Storage
import Testing
import TestSupport

struct BlockStorageTests {
    @Test("flat files: records of every size read back from their positions, across file rolls and a reopen")
    func flatFilesRoundTrip() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = SeededGenerator(seed: 41)
        var records = [([UInt8], FlatFileStore.Position)]()
        do {
            let store = try FlatFileStore(directory: directory, prefix: "blk", maxFileBytes: 1_000)
            for _ in 0..<60 {
                let bytes = (0..<Int.random(in: 0...700, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                records.append((bytes, try store.append(bytes)))
            }
            try store.sync()
            for (bytes, position) in records { #expect(try store.read(position, "record") == bytes) }
        }
        let files = Set(records.map(\.1.file))
        #expect(files.count > 10, "records larger than what is left roll to the next file")
        // A file never exceeds the limit unless one record alone does.
        for (_, position) in records where position.offset > 0 { #expect(position.offset + UInt64(position.length) <= 1_000) }

        // Reopened: appends continue after the last file's bytes; old positions still read.
        let reopened = try FlatFileStore(directory: directory, prefix: "blk", maxFileBytes: 1_000)
        let last = records.last!.1
        let next = try reopened.append([1, 2, 3])
        #expect(next.file >= last.file)
        if next.file == last.file { #expect(next.offset == last.offset + UInt64(last.length)) }
        for (bytes, position) in records { #expect(try reopened.read(position, "record") == bytes) }
        #expect(try reopened.read(next, "record") == [1, 2, 3])

        let encoded = next.encoded
        #expect(encoded.count == 16 && FlatFileStore.Position(decoding: encoded) == next)
        #expect(FlatFileStore.Position(decoding: Array(encoded.dropLast())) == nil)
    }

    @Test("the UTXO summary from memory (cache holds the whole set) equals a scan of the database")
    func inMemoryDigest() throws {
        let (blocks, generator) = Fixtures.blocks(40, seed: 8)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        for (index, block) in blocks.enumerated() {
            try state.accept(block)
            if index == 20 { try state.prepareFlush() } // stale by the end: must not be used
        }
        #expect(state.utxo.holdsWholeSet)
        let summary = try state.utxoSummary()
        #expect(summary == (try state.scannedUTXOSummary()))
        #expect(summary.digest == generator.utxoDigest().digest)
        // A second flush with nothing new: the same summary.
        try state.prepareFlush()
        #expect(try state.utxoSummary() == summary)
    }

    @Test("a truncated block file or an unknown layout gives a clear corrupt-database error")
    func damagedStorage() throws {
        let (blocks, _) = Fixtures.blocks(20, seed: 5)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
            for block in blocks { try state.accept(block) }
            try state.flush()
        }
        let blockFile = directory + "/blocks/blk00000.dat"
        let size = try #require(FileManager.default.attributesOfItem(atPath: blockFile)[.size] as? Int)
        let handle = try #require(FileHandle(forWritingAtPath: blockFile))
        try handle.truncate(atOffset: UInt64(size - 10))
        try handle.close()
        do {
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
            #expect(state.tip.height == 20)
            #expect {
                _ = try state.loadTip()
            } throws: { error in
                "\(error)".contains("corrupt chain database") && "\(error)".contains("blk00000.dat") && "\(error)".contains("block \(blocks.last!.hash.hex)")
            }
        }
        // Positions past the end of the file (even past what an offset can address) are errors.
        do {
            let store = try FlatFileStore(directory: directory + "/blocks", prefix: "blk")
            for position in [FlatFileStore.Position(file: 0, offset: .max, length: 10), .init(file: 0, offset: 10, length: .max),
                             .init(file: 7, offset: 0, length: 1)] {
                #expect(throws: ChainStateError.self) { _ = try store.read(position, "record") }
            }
        }

        // A datadir of the earlier layout (no format marker) is refused, not misread.
        do {
            let database = try RocksDB(path: directory, columnFamilies: ["utxo", "blocks", "index", "undo", "meta"])
            let batch = RocksDB.WriteBatch()
            batch.delete(try database.columnFamily("meta"), ChainState.formatKey)
            try database.write(batch)
        }
        #expect {
            _ = try ChainState(directory: directory, parameters: Fixtures.regtest)
        } throws: { error in
            "\(error)".contains("older layout")
        }
    }
}
