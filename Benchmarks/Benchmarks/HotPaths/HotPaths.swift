import BLAKE3
import Benchmark
import Primitives

// Hot-path throughput per backend. Thresholds live in Thresholds/; a regression shows up
// as a failed `swift package benchmark baseline check`.
// `swift package benchmark baseline check main` compares a run with the stored baseline
// (.benchmarkBaselines/): a median more than 20% worse fails; tails are too noisy to gate on.
var medianWithin20Percent: BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 20.0]) }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        warmupIterations: 3,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000,
        thresholds: [.throughput: medianWithin20Percent, .wallClock: medianWithin20Percent]
    )

    // One-block compressions: the PoW and Merkle node shape (1,000 x 1,024 per iteration).
    let messageCount = 1024
    let messages = [UInt8](repeating: 0x5A, count: messageCount * 64)
    let key = DomainKeys.merkleNode
    for level in BLAKE3Level.supported {
        Benchmark("BLAKE3 one-block compressions (x1024) \(level)") { benchmark in
            var output = [UInt8](repeating: 0, count: messageCount * 32)
            for _ in benchmark.scaledIterations {
                messages.withUnsafeBytes { input in
                    output.withUnsafeMutableBytes { out in
                        BLAKE3.hashManySingleBlock(messages: input.baseAddress!, stride: 64, length: 64, count: messageCount,
                                                   key: key, output: out.baseAddress!, level: level)
                    }
                }
            }
            blackHole(output)
        }
    }

    // Bulk hashing of 1 MiB per iteration.
    let bulk = [UInt8](repeating: 0xA5, count: 1 << 20)
    for level in BLAKE3Level.supported {
        Benchmark("BLAKE3 bulk 1 MiB \(level)", configuration: .init(scalingFactor: .one)) { benchmark in
            for _ in benchmark.scaledIterations {
                var hasher = BLAKE3Hasher(level: level)
                bulk.withUnsafeBytes { hasher.update($0) }
                blackHole(hasher.finalize())
            }
        }
    }

    // PoW nonce search: 1M nonces per iteration against a target nothing meets.
    let header = [UInt8](repeating: 0x42, count: 128)
    let midstate = Midstate(header: header)
    for level in BLAKE3Level.supported {
        Benchmark("PoW search 1M nonces \(level)", configuration: .init(scalingFactor: .one)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(BLAKE3.powSearch(midstate: midstate.words, secondBlock: Array(header[64..<128]), start: 0, count: 1 << 20,
                                           target: [UInt8](repeating: 0, count: 32), level: level))
            }
        }
    }

    // Merkle roots of 4,096 leaves (4,095 nodes per root).
    var rng = SystemRandomNumberGenerator()
    let leaves = (0..<4096).map { _ in Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })! }
    for level in BLAKE3Level.supported {
        Benchmark("Merkle root 4096 leaves \(level)", configuration: .init(scalingFactor: .one)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Merkle.root(of: leaves, level: level))
            }
        }
    }
}
