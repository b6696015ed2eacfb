import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives
import Testing
import TestSupport
import Verification

/// Bulk verification (deferred signatures, the witness root passed from the context-free
/// stage) builds the same masternode list as accepting block by block, and rejects a block
/// whose header commits a wrong extension root.
@Suite(.serialized)
struct MasternodePipelineTests {
    static func history(blocks count: Int, seed: UInt64) throws -> ([Block], MasternodeHistory) {
        let genesis = Fixtures.regtest.chain.genesisBlock().header
        var history = try MasternodeHistory(parameters: Fixtures.regtest, genesis: genesis, seed: seed)
        var blocks = [Block]()
        for index in 0..<count {
            blocks.append(try history.nextBlock(on: blocks.last?.header ?? genesis, actions: index < 101 ? 0 : 5))
        }
        return (blocks, history)
    }

    /// Runs the pipeline over `blocks` (from a block file) into a new chain state in `directory`.
    static func verify(_ blocks: [Block], batchSize: Int, into directory: String) throws -> (ChainState, VerificationPipeline.Report) {
        let file = try PipelineTests.writeFile(blocks)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        return (state, try VerificationPipeline(state: state, options: .cpu(backend: .auto, threads: 2, batchSize: batchSize)).run(files: [file]))
    }

    @Test("the pipeline's list equals sequential accept's and the recomputation; it survives the pipeline's flushes")
    func pipelineMatchesSequential() throws {
        let (blocks, _) = try Self.history(blocks: 150, seed: 0x6D6E_19)
        let expected = try TestBlocks.recomputeMasternodes(blocks, parameters: MasternodeParameters(Fixtures.regtest.chain)).list
        #expect(expected.count >= 5)
        let file = try PipelineTests.writeFile(blocks)
        defer { try? FileManager.default.removeItem(atPath: file) }

        let sequentialDirectory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: sequentialDirectory) }
        let sequential = try ChainState(directory: sequentialDirectory, parameters: Fixtures.regtest)
        for block in blocks { try sequential.accept(block) }
        #expect(sequential.masternodes == expected)

        for batchSize in [1, 64] {
            let directory = Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            do {
                let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 1)
                let report = try VerificationPipeline(state: state, options: .cpu(backend: .auto, threads: 2, batchSize: batchSize)).run(files: [file])
                #expect(report.failure == nil, "\(report.failure ?? "")")
                #expect(state.tip.hash == blocks.last!.hash)
                #expect(state.masternodes == expected)
                #expect(try state.masternodeList(at: 120) == sequential.masternodeList(at: 120))
                try state.flush()
            }
            let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
            #expect(reopened.masternodes == expected)
        }
    }

    @Test("a bad signature found after deferred connects reverts the list of the blocks it drops")
    func pipelineBadSignatureRevertsList() throws {
        var (blocks, history) = try Self.history(blocks: 130, seed: 0x6D6E_1B)
        // The last block with a special transaction gets a bad input signature; the roots
        // stay right (witnesses do not change the list), so only the signature fails.
        let bad = try #require(blocks.indices.last { index in blocks[index].transactions.contains { $0.isSpecial } && blocks[index].transactions[1].isSpecial })
        let listAfterBad = try #require(history.list(after: blocks[bad].hash))
        let extensionRoot = ExtensionRoot.compute(masternodes: listAfterBad.computedRoot)
        blocks = Array(blocks.prefix(bad + 1))
        blocks[bad].transactions[1].witnesses[0][0][5] ^= 0x01
        TestBlocks.seal(&blocks[bad], extensionRoot: extensionRoot)
        let expected = try TestBlocks.recomputeMasternodes(Array(blocks.prefix(bad)), parameters: MasternodeParameters(Fixtures.regtest.chain)).list
        #expect(expected != listAfterBad, "the dropped block changed the list")
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, report) = try Self.verify(blocks, batchSize: 64, into: directory)
        #expect(report.failure?.contains(RuleName.scriptSignature.rawValue) == true, "\(report.failure ?? "no failure")")
        #expect(state.tip.hash == blocks[bad - 1].hash)
        #expect(state.masternodes == expected)
        try state.flush()
    }

    @Test("a wrong extension root is block-state-root in the pipeline too")
    func pipelineRejectsWrongExtensionRoot() throws {
        var (blocks, _) = try Self.history(blocks: 110, seed: 0x6D6E_1A)
        let last = blocks.count - 1
        #expect(blocks[last].transactions.contains { $0.isSpecial })
        TestBlocks.seal(&blocks[last], extensionRoot: .zero)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, report) = try Self.verify(blocks, batchSize: 8, into: directory)
        #expect(report.failure?.contains(RuleName.blockStateRoot.rawValue) == true, "\(report.failure ?? "no failure")")
        #expect(state.tip.hash == blocks[last - 1].hash)
    }
}
