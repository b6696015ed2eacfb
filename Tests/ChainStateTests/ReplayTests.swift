@testable import ChainState
import Foundation
import Primitives
import Storage
import Testing
import TestSupport

/// Start-up replay: blocks appended to the block files after the last flush (what a kill
/// leaves) are connected at the next open; a torn last record is cut off.
struct ReplayTests {
    @Test("framed flat files: every record reads back from its position and as a block-file record, across file rolls")
    func framedRecords() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var random = SeededGenerator(seed: 43)
        let magic: [UInt8] = [0xde, 0xad, 0xbe, 0xef]
        let store = try FlatFileStore(directory: directory, prefix: "blk", maxFileBytes: 2_000, magic: magic)
        var records = [([UInt8], FlatFileStore.Position)]()
        for _ in 0..<40 {
            let bytes = (0..<Int.random(in: 0...900, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            records.append((bytes, try store.append(bytes)))
        }
        try store.sync()
        for (bytes, position) in records { #expect(try store.read(position, "record") == bytes) }
        var scanned = [([UInt8], FlatFileStore.Position)]()
        for file in try store.fileNumbers() {
            try BlockFile.forEachRecord(path: store.path(file), magic: magic) { record in
                scanned.append((record.bytes, .init(file: file, offset: UInt64(record.offset + 8), length: UInt32(record.bytes.count))))
            }
        }
        #expect(scanned.count == records.count && zip(scanned, records).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 })
        #expect(Set(records.map(\.1.file)).count > 5)
        #expect(FlatFileStore.decodeEnd(FlatFileStore.encodeEnd(store.end))! == store.end)
    }

    @Test("blocks stored but never flushed are connected at the next open, with the generator's digest")
    func replayAfterKill() throws {
        let (blocks, generator) = Fixtures.blocks(30, seed: 12)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            // A large cache: nothing is flushed after genesis; dropping the state without a
            // flush is what SIGKILL leaves (records in the files, not in the database).
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 256)
            for block in blocks.prefix(10) { try state.accept(block) }
            try state.flush()
            for block in blocks.dropFirst(10) { try state.accept(block) }
        }
        do {
            let reader = try ChainState(directory: directory, parameters: Fixtures.regtest, readOnly: true)
            #expect(reader.tip.height == 10, "a read-only open sees the last flush and replays nothing")
        }
        do {
            let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
            #expect(reopened.replayedBlocks == 20)
            #expect(reopened.tip.height == 30)
            #expect(try reopened.utxoSummary().digest == generator.utxoDigest().digest)
        }
        // The replay was flushed: a further open has nothing left to replay.
        let again = try ChainState(directory: directory, parameters: Fixtures.regtest)
        #expect(again.replayedBlocks == 0 && again.tip.height == 30)
    }

    @Test("a torn record past the last flush is cut off; later blocks follow whole records and replay")
    func tornTail() throws {
        let (blocks, generator) = Fixtures.blocks(12, seed: 13)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
            for block in blocks.prefix(6) { try state.accept(block) }
            try state.flush()
        }
        // Half a record: an append the kill interrupted.
        let file = directory + "/blocks/blk00000.dat"
        let record = BlockFile.encodeRecord(blocks[6], magic: Fixtures.regtest.magic)
        let handle = try #require(FileHandle(forWritingAtPath: file))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(record.prefix(record.count / 2)))
        try handle.close()
        do {
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
            #expect(state.tip.height == 6 && state.replayedBlocks == 0)
            for block in blocks.dropFirst(6) { try state.accept(block) }
            // Not flushed: the next open replays them, which needs the torn bytes gone.
        }
        let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
        #expect(reopened.replayedBlocks == 6 && reopened.tip.height == 12)
        #expect(try reopened.utxoSummary().digest == generator.utxoDigest().digest)
        // Every record of the file reads back: framing intact after the cut.
        var count = 0
        try BlockFile.forEachRecord(path: file, magic: Fixtures.regtest.magic) { _ in count += 1 }
        #expect(count == 13) // genesis and 12 blocks
    }

    @Test("a datadir locked by another open names it; a read-only open works beside the writer")
    func lockedAndReadOnly() throws {
        let (blocks, _) = Fixtures.blocks(3, seed: 14)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let writer = try ChainState(directory: directory, parameters: Fixtures.regtest)
        for block in blocks { try writer.accept(block) }
        try writer.flush()
        #expect {
            _ = try ChainState(directory: directory, parameters: Fixtures.regtest)
        } throws: { error in
            "\(error)" == "\(directory): in use by another process"
        }
        let reader = try ChainState(directory: directory, parameters: Fixtures.regtest, readOnly: true)
        #expect(reader.tip.height == 3)
        #expect(try reader.utxoSummary() == (try writer.utxoSummary()))
        #expect(throws: ChainStateError.self) { try reader.accept(blocks[0]) }
        #expect {
            _ = try ChainState(directory: directory + "-none", parameters: Fixtures.regtest, readOnly: true)
        } throws: { error in
            "\(error)".contains("holds no chain state")
        }
        #expect(!FileManager.default.fileExists(atPath: directory + "-none"))
    }
}
