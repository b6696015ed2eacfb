import ArgumentParser
import Ed25519
import Foundation
import OpenCLRuntime
import Primitives
import SignatureBackends

/// `rusty sig`: Ed25519 keys, signatures and batch verification (ZIP-215 rules).
struct SigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sig",
        abstract: "Ed25519 keys, signing and ZIP-215 verification.",
        subcommands: [Keygen.self, Sign.self, Verify.self, VerifyBatch.self]
    )

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key pair (from --seed, or a fresh random seed).")

        @Option(help: "32-byte seed as 64 hex digits.")
        var seed: String?

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() throws {
            let seedBytes: [UInt8]
            if let seed {
                guard let bytes = HexCoding.decode(seed), bytes.count == 32 else {
                    throw ValidationError("--seed needs 32 bytes as 64 hex digits")
                }
                seedBytes = bytes
            } else {
                var generator = SystemRandomNumberGenerator()
                seedBytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            }
            let publicKey = Ed25519.publicKey(seed: seedBytes)
            if json {
                print("{\"seed\":\"\(HexCoding.encode(seedBytes))\",\"pk\":\"\(HexCoding.encode(publicKey))\"}")
            } else {
                print("seed \(HexCoding.encode(seedBytes))")
                print("pk   \(HexCoding.encode(publicKey))")
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Sign a file (or standard input); prints the 64-byte signature in hex.")

        @Option(help: "32-byte seed (secret key) as 64 hex digits.")
        var key: String

        @Argument(help: "Message file, or '-' for standard input.")
        var file: String = "-"

        func run() throws {
            guard let seed = HexCoding.decode(key), seed.count == 32 else {
                throw ValidationError("--key needs 32 bytes as 64 hex digits")
            }
            let message = try readMessage(file)
            print(HexCoding.encode(Ed25519.sign(message: message, seed: seed)))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify one signature under ZIP-215; prints valid or invalid, exit status 0 or 1.")

        @Option(help: "Public key, 64 hex digits.")
        var pk: String

        @Option(help: "Signature, 128 hex digits.")
        var sig: String

        @Argument(help: "Message file, or '-' for standard input.")
        var file: String = "-"

        func run() throws {
            guard let publicKey = HexCoding.decode(pk), publicKey.count == 32 else {
                throw ValidationError("--pk needs 32 bytes as 64 hex digits")
            }
            guard let signature = HexCoding.decode(sig), signature.count == 64 else {
                throw ValidationError("--sig needs 64 bytes as 128 hex digits")
            }
            let valid = Ed25519.verify(signature: signature, message: try readMessage(file), publicKey: publicKey)
            print(valid ? "valid" : "invalid")
            if !valid { throw ExitCode(1) }
        }
    }

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
                throw ExitCode(3)
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
                throw ExitCode(2)
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
                    throw ExitCode(3)
                }
                printError("\(Self.command): OpenCL failed (\(error)); using the CPU backend (simd)")
                verifier = CPUSignatureVerifier(backend: .auto, threads: threadCount)
                start = DispatchTime.now().uptimeNanoseconds
                results = try verifier.verify(items)
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let invalid = results.filter { !$0 }.count
            let rate = seconds > 0 ? Double(items.count) / seconds : 0
            var out = ""
            out.reserveCapacity(items.count * 8)
            if json {
                out += "{\"results\":[" + results.map { $0 ? "true" : "false" }.joined(separator: ",") + "],"
                out += "\"count\":\(items.count),\"valid\":\(items.count - invalid),\"invalid\":\(invalid),"
                out += "\"seconds\":\(seconds),\"signaturesPerSecond\":\(Int(rate)),\"backend\":\"\(jsonEscaped(verifier.name))\"}\n"
            } else {
                for result in results { out += result ? "valid\n" : "invalid\n" }
                out += "\(items.count) signatures: \(items.count - invalid) valid, \(invalid) invalid; "
                out += String(format: "%.3f s, %.0f signatures/s (%@)\n", seconds, rate, verifier.name)
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            if let opencl = verifier as? OpenCLSignatureVerifier {
                for share in opencl.lastShares { printError("\(Self.command): \(share)") }
            }
            if invalid > 0 { throw ExitCode(1) }
        }
    }
}

/// A string as the inside of a JSON string literal.
func jsonEscaped(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

func readMessage(_ path: String) throws -> [UInt8] {
    do {
        return try InputFile(path: path).readAll()
    } catch {
        printError("rusty: \(error)")
        throw ExitCode(1)
    }
}

struct BatchParseError: Error, CustomStringConvertible {
    var line: Int
    var reason: String
    var description: String { "line \(line): \(reason)" }
}

/// Parses JSONL: one object per non-empty line with hex fields pk (32 bytes), sig (64) and msg.
func parseBatchFile(_ data: [UInt8]) throws(BatchParseError) -> [SignatureItem] {
    var items = [SignatureItem]()
    var lineNumber = 0
    for line in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
        lineNumber += 1
        let trimmed = line.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        if trimmed.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
            throw BatchParseError(line: lineNumber, reason: "not a JSON object")
        }
        func field(_ name: String, length: Int?) throws(BatchParseError) -> [UInt8] {
            guard let text = object[name] as? String else {
                throw BatchParseError(line: lineNumber, reason: "missing string field '\(name)'")
            }
            guard let bytes = HexCoding.decode(text) else {
                throw BatchParseError(line: lineNumber, reason: "field '\(name)' is not hex")
            }
            if let length, bytes.count != length {
                throw BatchParseError(line: lineNumber, reason: "field '\(name)' has \(bytes.count) bytes, expected \(length)")
            }
            return bytes
        }
        items.append(SignatureItem(publicKey: try field("pk", length: 32), signature: try field("sig", length: 64),
                                   message: try field("msg", length: nil)))
    }
    return items
}
