import ArgumentParser
import Ed25519
import Foundation
import OpenCLRuntime
import SignatureBackends

/// `rusty sig verify-batch`: a JSONL file of signatures on a CPU or OpenCL backend.
extension SigCommand {
    struct VerifyBatch: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-batch",
            abstract: "Verify a JSONL file of {\"pk\",\"sig\",\"msg\"} (hex) objects.",
            discussion: """
                Prints valid or invalid per line in input order, then a summary line. Exit status: 0 all valid, \
                1 some invalid, 2 malformed input (the line is named), 3 the OpenCL backend is unavailable or failed. \
                Backends: opencl (the ed25519_verify kernel on the GPUs, or on every OpenCL device when there is \
                no GPU), auto (opencl when a GPU exists, else the best CPU backend), simd (the best CPU backend), \
                scalar, avx2, avx512ifma (CPU field backends of the batch equation).
                """
        )

        static let command = "rusty sig verify-batch"

        @Argument(help: "JSONL file, or '-' for standard input.")
        var file: String

        @Option(help: "auto, opencl, scalar, simd, avx2 or avx512ifma.")
        var backend: String = "auto"

        @Option(help: "Threads for the CPU backends (default: all cores).")
        var threads: Int?

        @Flag(name: .long, help: "Print the results and summary as JSON.")
        var json = false

        /// The CPU field backend a CPU choice names; nil for auto and opencl.
        func cpuBackend() throws -> Ed25519.Backend? {
            switch backend {
            case "auto", "opencl": return nil
            case "simd": return Ed25519.Backend.detected == .scalar ? .scalar : Ed25519.Backend.detected
            default:
                guard let parsed = Ed25519.Backend(rawValue: backend) else {
                    throw ValidationError("unknown --backend '\(backend)' (auto, opencl, scalar, simd, avx2, avx512ifma)")
                }
                guard parsed.isSupported else { throw ValidationError("this CPU does not support the \(backend) backend") }
                return parsed
            }
        }

        /// The verifier for --backend. `opencl` without a platform or device, or whose build
        /// fails, exits 3 with the reason; `auto` falls back to the CPU with one notice line.
        func makeVerifier(threads: Int) throws -> any SignatureBatchVerifier {
            if let cpu = try cpuBackend() { return CPUSignatureVerifier(backend: cpu, threads: threads) }
            let choice: BackendChoice = backend == "opencl" ? .opencl : .auto
            do {
                let resolved = try choice.resolve { printError("\(Self.command): \($0)") }
                do {
                    return try SignatureVerifiers.make(resolved, threads: threads)
                } catch where choice == .auto {
                    printError("\(Self.command): OpenCL failed (\(error)); using the CPU backend (simd)")
                    return CPUSignatureVerifier(backend: .auto, threads: threads)
                }
            } catch {
                printError("\(Self.command): \(error)")
                throw ExitStatus.openCLUnavailable.code
            }
        }

        func run() throws {
            _ = try cpuBackend()
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }

            let items: [SignatureItem]
            do {
                items = try parseBatchFile(try readMessage(file))
            } catch let error as BatchParseError {
                printError("\(Self.command): \(file): \(error)")
                throw ExitStatus.malformed.code
            }
            let threadCount = threads ?? activeProcessorCount()
            var verifier = try makeVerifier(threads: threadCount)
            var start = DispatchTime.now().uptimeNanoseconds
            var results: [Bool]
            do {
                results = try verifier.verify(items)
            } catch {
                guard backend == "auto" else {
                    printError("\(Self.command): \(verifier.name): \(error)")
                    throw ExitStatus.openCLUnavailable.code
                }
                printError("\(Self.command): OpenCL failed (\(error)); using the CPU backend (simd)")
                verifier = CPUSignatureVerifier(backend: .auto, threads: threadCount)
                start = DispatchTime.now().uptimeNanoseconds
                results = try verifier.verify(items)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let invalid = results.filter { !$0 }.count
            let rate = seconds > 0 ? Double(items.count) / seconds : 0
            if json {
                try printJSON(VerifyBatchOutput(results: results, count: items.count, valid: items.count - invalid, invalid: invalid,
                                                seconds: seconds, signaturesPerSecond: Int(rate), backend: verifier.name))
            } else {
                var out = ""
                out.reserveCapacity(items.count * 8)
                for result in results { out += result ? "valid\n" : "invalid\n" }
                out += "\(items.count) signatures: \(items.count - invalid) valid, \(invalid) invalid; "
                out += String(format: "%.3f s, %.0f signatures/s (%@)\n", seconds, rate, verifier.name)
                FileHandle.standardOutput.write(Data(out.utf8))
            }
            if let opencl = verifier as? OpenCLSignatureVerifier {
                for share in opencl.lastShares { printError("\(Self.command): \(share)") }
            }
            if invalid > 0 { throw ExitStatus.invalid.code }
        }
    }
}
