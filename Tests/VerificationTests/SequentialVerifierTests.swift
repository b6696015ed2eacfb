import ChainGen
import ChainState
import Foundation
import Primitives
import Testing
import Verification

/// The two modes share the reader, the arrival-order rules and the report: on the same
/// out-of-order input with a gap, a duplicate and a bad block they must report the same.
@Suite(.serialized)
struct SequentialVerifierTests {
    struct Run {
        var report: VerificationReport
        var summary: UTXOSummary
    }

    static func run(_ file: String, sequential: Bool) throws -> Run {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        let report: VerificationReport
        if sequential {
            report = try SequentialVerifier(state: state).run([.file(file)])
        } else {
            report = try VerificationPipeline(state: state, options: .cpu(backend: .auto, threads: 2, batchSize: 64)).run([.file(file)])
        }
        return Run(report: report, summary: try state.utxoSummary())
    }

    @Test("children before parents, a duplicate and a gap: same counts, same gap and unconnected lines, same state")
    func outOfOrderWithGap() throws {
        let (blocks, _) = Fixtures.blocks(40, seed: 41, transactions: 4)
        // 1...10 reversed (they wait, then connect), a duplicate, then 12...40 without 11 (a gap).
        let input = Array(blocks[0..<10].reversed()) + [blocks[3]] + Array(blocks[11...])
        let file = Fixtures.temporaryDirectory() + ".blk"
        try Data(input.flatMap { BlockFile.encodeRecord($0, magic: Fixtures.regtest.magic) }).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let sequential = try Self.run(file, sequential: true)
        let pipeline = try Self.run(file, sequential: false)
        for run in [sequential, pipeline] {
            #expect(run.report.failure == nil)
            #expect(run.report.blocks == 10 && run.report.skipped == 1)
            #expect(run.summary.bestHeight == 10)
            #expect(run.report.gaps.count == 1 && run.report.gaps.first?.contains("needs block 11") == true)
            #expect(run.report.unconnected.count == 29)
        }
        #expect(sequential.report.gaps == pipeline.report.gaps)
        #expect(sequential.report.unconnected == pipeline.report.unconnected)
        #expect(sequential.summary == pipeline.summary)
    }

    @Test("a datadir file's torn last record ends it; a plain file's is malformed input in both modes")
    func tornRecord() throws {
        let (blocks, _) = Fixtures.blocks(5, seed: 42, transactions: 2)
        let bytes = blocks.flatMap { BlockFile.encodeRecord($0, magic: Fixtures.regtest.magic) }
        let file = Fixtures.temporaryDirectory() + ".blk"
        try Data(bytes.dropLast(10)).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        for sequential in [true, false] {
            let directory = Fixtures.temporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
            let sources: [BlockSource] = [.datadirFile(file, end: bytes.count - 10)]
            let report = sequential ? try SequentialVerifier(state: state).run(sources)
                : try VerificationPipeline(state: state, options: .cpu(backend: .auto, threads: 2)).run(sources)
            #expect(report.failure == nil && report.blocks == 4 && state.tip.height == 4, "sequential \(sequential)")
            let plain = try Self.run(file, sequential: sequential).report
            #expect(plain.malformed && plain.failure?.contains("truncated") == true && plain.blocks == 4, "sequential \(sequential)")
        }
    }
}
