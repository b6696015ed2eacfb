import Benchmark
import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Verification

var medianWithin20Percent: BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 20.0]) }

// The chain-state paths: UTXO cache operations and end-to-end verification of a generated
// chain through the pipeline `rusty verify-chain` uses.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        warmupIterations: 1,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 50,
        thresholds: [.throughput: medianWithin20Percent, .wallClock: medianWithin20Percent]
    )
    let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-bench-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)

    // 130 blocks of up to 100 transactions: a few thousand signatures.
    var generator = ChainGenerator(parameters: parameters, seed: 17, transactionsPerBlock: 100)
    let blocks = (0..<130).map { _ in generator.nextBlock() }
    let file = work.appendingPathComponent("chain.blk").path
    FileManager.default.createFile(atPath: file, contents: Data(blocks.flatMap { BlockFile.encodeRecord($0, magic: parameters.magic) }))
    let signatures = generator.signatureCount

    Benchmark("verify-chain pipeline (130 blocks, \(signatures) signatures)") { benchmark in
        for iteration in benchmark.scaledIterations {
            let directory = work.appendingPathComponent("verify-\(iteration)-\(UUID().uuidString)").path
            let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 256)
            let options = VerificationPipeline.Options.cpu(backend: .auto, threads: ProcessInfo.processInfo.activeProcessorCount)
            blackHole(try VerificationPipeline(state: state, options: options).run([.file(file)]))
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    Benchmark("UTXO cache adds then spends (100k coins)") { benchmark in
        let directory = work.appendingPathComponent("utxo-\(UUID().uuidString)").path
        let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 1024)
        let coin = Coin(output: TxOut(value: Amount.coins(1)!, lockScript: [0x51]), height: 1, isCoinbase: false)
        let outpoints = (0..<100_000).map { OutPoint(txid: Hash256(bytes: BLAKE3Seed.bytes($0))!, index: UInt32($0 & 3)) }
        for _ in benchmark.scaledIterations {
            for outpoint in outpoints { state.utxo.add(outpoint, coin) }
            for outpoint in outpoints { state.utxo.spend(outpoint) }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// Distinct 32-byte txids without a hash function in the loop.
enum BLAKE3Seed {
    static func bytes(_ index: Int) -> [UInt8] {
        var value = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
        return (0..<32).map { _ in
            value = value &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: value >> 56)
        }
    }
}
