import ChainState
import Foundation
import Masternodes
import Primitives
import Storage
import Testing
import TestSupport

/// A datadir made before the list's "masternodes" column family existed opens read-only and
/// writable with an empty list, and keeps working: the family is created, blocks that
/// register masternodes connect, and the list survives a flush and a reopen.
@Suite(.serialized)
struct MasternodeDatadirTests {
    /// The families a chain state had before the masternode list.
    static let oldFamilies = ["utxo", "blocks", "index", "undo", "meta"]

    /// Copies the chain state in `source` (flushed and closed) into `destination` as an older
    /// version wrote it: the old families only, and the block files.
    static func copyAsOldDatadir(_ source: String, to destination: String) throws {
        let reader = try RocksDB(path: source, columnFamilies: oldFamilies, readOnly: true)
        let writer = try RocksDB(path: destination, columnFamilies: oldFamilies)
        for name in oldFamilies {
            let from = try reader.columnFamily(name), to = try writer.columnFamily(name)
            let batch = RocksDB.WriteBatch()
            let iterator = reader.iterator(from)
            iterator.seekToFirst()
            while iterator.isValid {
                batch.put(to, iterator.key, iterator.value)
                iterator.next()
            }
            try iterator.checkStatus()
            try writer.write(batch)
        }
        try FileManager.default.copyItem(atPath: source + "/blocks", toPath: destination + "/blocks")
    }

    /// Whether the database in `directory` has the list's family (a read-only open naming a
    /// family it lacks fails).
    static func hasMasternodeFamily(_ directory: String) -> Bool {
        (try? RocksDB(path: directory, columnFamilies: oldFamilies + ["masternodes"], readOnly: true)) != nil
    }

    @Test("an older datadir without the masternodes family opens read-only and writable with an empty list and keeps working")
    func olderDatadir() throws {
        let parameters = MasternodeChainTests.parameters
        let source = Fixtures.temporaryDirectory(), old = Fixtures.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: source)
            try? FileManager.default.removeItem(atPath: old)
        }
        var history = try MasternodeHistory(parameters: parameters, genesis: MasternodeChainTests.genesis, seed: 0x6D6E_31)
        // Before masternodes: blocks without special transactions.
        var chain = try MasternodeChainTests.build(&history, on: [], count: 103, actions: 0)
        do {
            let state = try ChainState(directory: source, parameters: parameters, cacheMiB: 64)
            for block in chain { try state.accept(block) }
            try state.flush()
        }
        try Self.copyAsOldDatadir(source, to: old)
        #expect(!Self.hasMasternodeFamily(old), "the copy has no masternodes family")

        do {
            let reader = try ChainState(directory: old, parameters: parameters, readOnly: true)
            #expect(reader.tip.hash == chain.last!.hash)
            #expect(reader.masternodes.isEmpty)
        }
        do {
            let state = try ChainState(directory: old, parameters: parameters, cacheMiB: 64)
            #expect(state.tip.hash == chain.last!.hash && state.masternodes.isEmpty)
            while (history.list(after: chain.last!.hash)?.count ?? 0) < 2 {
                chain.append(try history.nextBlock(on: chain.last!.header, actions: 4, only: [.registerInternal, .fundCollateral, .registerExternal]))
                try state.accept(chain.last!)
            }
            try MasternodeChainTests.expectMatches(state, chain)
            try state.flush()
        }
        #expect(Self.hasMasternodeFamily(old), "a writable open created the family")
        let reopened = try ChainState(directory: old, parameters: parameters, readOnly: true)
        try MasternodeChainTests.expectMatches(reopened, chain)
    }
}
