import Benchmark
import CSodium
import Ed25519

// Ed25519 verification: single (ours and libsodium's, the anchor) and batches of several
// sizes on every backend this CPU has. Throughput is signatures per second.
// `swift package benchmark baseline check main` compares a run with the stored baseline
// (.benchmarkBaselines/): a median more than 20% worse fails; tails are too noisy to gate on.
var medianWithin20Percent: BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 20.0]) }

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput],
        warmupIterations: 2,
        scalingFactor: .one,
        maxDuration: .seconds(3),
        maxIterations: 10_000,
        thresholds: [.throughput: medianWithin20Percent, .wallClock: medianWithin20Percent]
    )
    _ = sodium_init()

    // 32-byte messages: the sighash every Rusty Coin signature covers.
    var generator = SystemRandomNumberGenerator()
    func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }
    let items: [SignatureItem] = (0..<16_384).map { _ in
        let seed = randomBytes(32), message = randomBytes(32)
        return SignatureItem(publicKey: Ed25519.publicKey(seed: seed), signature: Ed25519.sign(message: message, seed: seed), message: message)
    }

    Benchmark("verify single rusty", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            let item = items[index & 16_383]
            blackHole(Ed25519.verify(signature: item.signature, message: item.message, publicKey: item.publicKey))
            index += 1
        }
    }

    Benchmark("verify single libsodium", configuration: .init(scalingFactor: .kilo)) { benchmark in
        var index = 0
        for _ in benchmark.scaledIterations {
            let item = items[index & 16_383]
            blackHole(crypto_sign_verify_detached(item.signature, item.message, UInt64(item.message.count), item.publicKey))
            index += 1
        }
    }

    let backends = Ed25519.Backend.allCases.filter { $0 != .auto && $0.isSupported }
    for backend in backends {
        for size in [1, 8, 64, 256, 1024, 16_384] {
            let batch = Array(items.prefix(size))
            Benchmark("verify batch \(size) \(backend.rawValue)",
                      configuration: .init(scalingFactor: .one, maxIterations: max(5, 100_000 / size))) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(Ed25519.verifyBatch(batch, backend: backend, threads: 1))
                }
            }
        }
    }
}
