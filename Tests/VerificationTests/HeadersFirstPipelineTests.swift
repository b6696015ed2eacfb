import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
@testable import Verification

/// Headers-first sync: headers enter the index before their blocks, then the blocks go
/// through the pipeline's deferred path reusing the header-only nodes; a block whose
/// signature fails is recorded invalid and its descendants' headers stay in the index.
struct HeadersFirstPipelineTests {
    static func run(_ state: ChainState, _ blocks: [Block]) throws -> VerificationReport {
        let stream = BlockStream(label: "peers", capacityBytes: Int.max)
        for block in blocks { stream.push(block.encoded, origin: "p") }
        stream.finish()
        let options = VerificationPipeline.Options.cpu(backend: .auto, threads: 2)
        return try VerificationPipeline(state: state, options: options).run([.stream(stream)])
    }

    @Test("blocks whose headers came first connect through the pipeline to the same state as without headers")
    func headersThenBlocks() throws {
        let (blocks, generator) = Fixtures.blocks(150, seed: 61, transactions: 4)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 8)
        for block in blocks { #expect(try state.acceptHeader(block.header) == .added) }
        #expect(state.bestHeader.height == 150 && state.tip.height == 0)
        let target = state.blocksToDownload(limit: 100)
        #expect(target.firstHeight == 1 && target.hashes == blocks.prefix(100).map(\.hash))

        let report = try Self.run(state, blocks)
        #expect(report.failure == nil && report.skipped == 0 && report.blocks == 150, "\(report)")
        #expect(state.tip.height == 150 && state.tip.hash == blocks.last!.hash)
        #expect(state.blocksToDownload(limit: 100).hashes.isEmpty)
        try state.flush()
        #expect(try state.utxoSummary().digest == generator.utxoDigest().digest)
    }

    @Test("a bad signature under headers first: the block and the headers built on it are invalid (their nodes kept, back to header-only), the tip stays below it")
    func badSignatureUnderHeadersFirst() throws {
        let (good, _) = Fixtures.blocks(130, seed: 62, transactions: 4)
        let (blocks, _, _, _) = PipelineTests.broken(good, at: 120, .signature)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 8)
        for block in blocks { try state.acceptHeader(block.header) }

        let report = try Self.run(state, blocks)
        #expect(report.rejected?.hash == blocks[120].hash, "\(report)")
        #expect(report.rejected?.origin == "p")
        #expect(state.tip.hash == blocks[119].hash)
        // The bad block and everything built on it are invalid; the best header falls back
        // to the tip's chain, so nothing is left to download there.
        #expect(state.node(blocks[120].hash)?.isInvalid == true)
        #expect(state.node(blocks[129].hash)?.isInvalid == true)
        #expect(state.node(blocks[125].hash)?.hasBlock == false)
        #expect(state.bestHeader.hash == blocks[119].hash)
        #expect(state.blocksToDownload(limit: 10).hashes.isEmpty)
    }
}
