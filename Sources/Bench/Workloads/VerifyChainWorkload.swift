import ChainGen
import ChainState
import Ed25519
import Foundation
import OpenCLRuntime
import Primitives
import SignatureBackends
import Verification

/// `rusty bench` section verify-chain: the verification pipeline over a generated chain, per signature backend.
enum VerifyChainWorkload: BenchWorkload {
    static let section = BenchSectionName.verifyChain

    static func run(_ r: Recorder) throws {
        let parameters = try regtest()
        let (extraBlocks, transactionsPerBlock): (Int, Int)
        switch r.mode {
        case .tiny: (extraBlocks, transactionsPerBlock) = (4, 10)
        case .quick: (extraBlocks, transactionsPerBlock) = (60, 100)
        case .full: (extraBlocks, transactionsPerBlock) = (400, 100)
        }
        r.options.progress("bench: verify-chain: generating \(Int(parameters.coinbaseMaturity) + extraBlocks) blocks")
        var generator = ChainGenerator(parameters: parameters, seed: 17, transactionsPerBlock: transactionsPerBlock)
        var bytes = [UInt8]()
        for _ in 0..<(Int(parameters.coinbaseMaturity) + extraBlocks) {
            bytes += BlockFile.encodeRecord(generator.nextBlock(), magic: parameters.magic)
        }
        let file = temporaryDirectory("chain") + ".blk"
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let expected = generator.utxoDigest().digest

        var runs: [(name: String, device: String?, engine: Ed25519.Backend, options: VerificationPipeline.Options)] = [
            ("scalar", nil, .scalar, .cpu(backend: .scalar, threads: cores)),
        ]
        if r.options.runs(.simd) && Ed25519.Backend.detected != .scalar {
            runs.append((Ed25519.Backend.detected.rawValue, nil, .detected, .cpu(backend: .detected, threads: cores)))
        }
        let devices = openCLDevices(r)
        if !devices.isEmpty {
            do {
                let verifier = try OpenCLSignatureVerifier(devices: devices)
                runs.append(("opencl", devices.map(\.name).joined(separator: ", "), .detected,
                             VerificationPipeline.Options(verifier: verifier, batchSize: 32_768, contextFreeThreads: cores)))
            } catch {
                r.options.progress("bench: verify-chain on OpenCL failed: \(error)")
            }
        }
        for run in runs {
            var signatures = [Double](), blocks = [Double](), transactions = [Double]()
            for index in 0...r.mode.runs {
                let directory = temporaryDirectory("verify")
                defer { try? FileManager.default.removeItem(atPath: directory) }
                var report = VerificationPipeline.Report()
                var digest = Hash256.zero
                let seconds: Double
                do {
                    let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 256)
                    state.signatureBackend = run.engine
                    state.signatureThreads = cores
                    seconds = try Recorder.time {
                        report = try VerificationPipeline(state: state, options: run.options).run([.file(file)])
                        digest = try state.utxoSummary().digest
                    }
                }
                if let failure = report.failure { throw BenchError.verificationFailed("verify-chain (\(run.name)): \(failure)") }
                guard digest == expected else { throw BenchError.mismatch("verify-chain (\(run.name)) UTXO digest") }
                guard index > 0 else { continue }
                signatures.append(Double(report.signatures) / seconds)
                blocks.append(Double(report.blocks) / seconds)
                transactions.append(Double(report.transactions) / seconds)
            }
            let backend = run.device == nil ? "\(run.name), \(cores) threads" : run.name
            let label = run.name == "scalar" ? "scalar" : backend
            r.add("signatures", backend: label, device: run.device, unit: "signatures/s", values: signatures)
            r.add("transactions", backend: label, device: run.device, unit: "transactions/s", values: transactions)
            r.add("blocks", backend: label, device: run.device, unit: "blocks/s", values: blocks)
        }
    }
}
