import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing

/// Many writers and readers at once on one `ChainService` (run under TSan by scripts/test.sh).
struct ChainServiceConcurrencyTests {
    /// `items` in an order drawn from `seed` (Fisher-Yates over the seeded generator).
    static func shuffled<T>(_ items: [T], seed: UInt64) -> [T] {
        var items = items, random = SeededGenerator(seed: seed)
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        return items
    }

    @Test("writers accepting a chain in varied orders and readers of snapshots agree with sequential acceptance")
    func concurrentAcceptAndRead() async throws {
        let (blocks, generator) = Fixtures.blocks(40, seed: 21, transactions: 4)
        let hashes = blocks.map(\.hash)
        let genesis = Fixtures.regtest.chain.genesisBlock().hash
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let service = ChainService(try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 4))
        let writersDone = Atomic(false)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for reader in 0..<4 {
                group.addTask {
                    var lastHeight: UInt64 = 0, reads = 0
                    while !writersDone.value || reads == 0 {
                        let snapshot = service.snapshot
                        let height = snapshot.tipHeight
                        #expect(height >= lastHeight, "reader \(reader): height went back")
                        lastHeight = height
                        // Every tip is a block that was accepted, at its place in the chain.
                        #expect(snapshot.tipHash == (height == 0 ? genesis : hashes[Int(height) - 1]))
                        #expect(snapshot.hash(atHeight: height) == snapshot.tipHash)
                        #expect(snapshot.header(snapshot.tipHash)?.height == height)
                        let locator = snapshot.locator()
                        #expect(locator.first == snapshot.tipHash && locator.last == genesis)
                        let headers = snapshot.headers(locator: [genesis], limit: 8)
                        #expect(headers.map(\.height) == Array(0..<min(height, 8)).map { $0 + 1 })
                        #expect(headers.map(\.hash) == Array(hashes.prefix(headers.count)))
                        reads += 1
                        await Task.yield()
                    }
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { writers in
                for writer in 0..<6 {
                    writers.addTask {
                        for block in Self.shuffled(blocks, seed: UInt64(writer)) { try service.accept(block) }
                    }
                }
                try await writers.waitForAll()
            }
            writersDone.value = true
            try await group.waitForAll()
        }

        let summary = try service.withWriter { try $0.utxoSummary() }
        #expect(summary.bestHeight == 40 && service.snapshot.tipHash == hashes.last)
        // The same UTXO set as one caller accepting the blocks in order (and as the generator's).
        let sequentialDirectory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: sequentialDirectory) }
        let sequential = try ChainState(directory: sequentialDirectory, parameters: Fixtures.regtest, cacheMiB: 4)
        for block in blocks { try sequential.accept(block) }
        #expect(summary == (try sequential.utxoSummary()))
        #expect(summary.digest == generator.utxoDigest().digest)
    }
}

/// A flag shared between tasks.
final class Atomic<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
