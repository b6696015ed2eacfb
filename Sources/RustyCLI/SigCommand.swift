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
        static let configuration = CommandConfiguration(
            abstract: "Make a key pair (from the seed in --seed-file, or a fresh random seed).",
            discussion: "The seed is printed (for a file of mode 0600 that `sig sign --key-file` reads); secrets are never taken from the command line.")

        @Option(name: .customLong("seed-file"), help: "File holding the 32-byte seed as 64 hex digits, or '-' for standard input.")
        var seedFile: String?

        // Removed: kept hidden only to explain the change to old scripts.
        @Option(name: .customLong("seed"), help: .hidden)
        var seedOnCommandLine: String?

        @Flag(name: .long, help: "Print JSON.")
        var json = false

        func run() throws {
            if seedOnCommandLine != nil { throw ValidationError(secretArgumentRemoved("--seed", replacement: "--seed-file")) }
            let seed: SecretSeed
            if let seedFile {
                seed = try readSeed(seedFile, option: "--seed-file")
            } else {
                seed = SecretSeed()
                var generator = SystemRandomNumberGenerator()
                for index in 0..<Ed25519.seedLength { seed.bytes[index] = UInt8.random(in: 0...255, using: &generator) }
            }
            let key = Ed25519.SigningKey(seed: UnsafeRawBufferPointer(seed.bytes))
            // The hex of the seed is itself a secret: built in a buffer wiped after writing.
            var line = [UInt8]()
            line.reserveCapacity(256)
            line += Array((json ? "{\"seed\":\"" : "seed ").utf8)
            appendHex(seed.bytes, to: &line)
            line += Array((json ? "\",\"pk\":\"\(HexCoding.encode(key.publicKey))\"}\n" : "\npk   \(HexCoding.encode(key.publicKey))\n").utf8)
            defer { Ed25519.wipe(&line) }
            try line.withUnsafeBytes { buffer in
                var written = 0
                while written < buffer.count {
                    let result = write(STDOUT_FILENO, buffer.baseAddress! + written, buffer.count - written)
                    if result < 0 && errno == EINTR { continue }
                    guard result > 0 else { throw ExitStatus.invalid.code }
                    written += result
                }
            }
        }
    }

    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a file (or standard input); prints the 64-byte signature in hex.",
            discussion: """
                The secret key is read from --key-file (64 hex digits; surrounding whitespace is ignored), or from \
                standard input with --key-file -, never from the command line, where any local user can read it \
                (ps, /proc/PID/cmdline) and shell history keeps it. A key file others can read gets a warning.
                """)

        // Optional only so that validate() can explain a leftover --key before asking for this.
        @Option(name: .customLong("key-file"), help: "File holding the 32-byte seed (secret key) as 64 hex digits, or '-' for standard input (required).")
        var keyFile: String?

        // Removed: kept hidden only to explain the change to old scripts.
        @Option(name: .customLong("key"), help: .hidden)
        var keyOnCommandLine: String?

        @Argument(help: "Message file, or '-' for standard input.")
        var file: String = "-"

        func validate() throws {
            if keyOnCommandLine != nil { throw ValidationError(secretArgumentRemoved("--key", replacement: "--key-file")) }
            if keyFile == nil { throw ValidationError("missing --key-file FILE (or --key-file - to read the key from standard input)") }
            if keyFile == "-" && file == "-" {
                throw ValidationError("--key-file - reads the key from standard input, so the message must be a file")
            }
        }

        func run() throws {
            let key: Ed25519.SigningKey
            do {
                let seed = try readSeed(keyFile!, option: "--key-file")
                key = Ed25519.SigningKey(seed: UnsafeRawBufferPointer(seed.bytes))
            } // `seed` is wiped here; the signing key wipes itself when released.
            let message = try readMessage(file)
            print(HexCoding.encode(key.sign(message: message)))
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
            if !valid { throw ExitStatus.invalid.code }
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
            if invalid > 0 { throw ExitStatus.invalid.code }
        }
    }
}

// MARK: - Secret keys

func secretArgumentRemoved(_ option: String, replacement: String) -> String {
    "\(option) was removed: a secret on the command line is visible to every local user (ps, /proc/PID/cmdline) " +
        "and kept in shell history. Put the 64 hex digits in a file only you can read and pass \(replacement) FILE, " +
        "or pipe them with \(replacement) -"
}

/// A 32-byte seed in memory allocated here, never in a Swift array (whose copy-on-write
/// copies could not all be wiped); wiped when released.
final class SecretSeed {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: Ed25519.seedLength, alignment: 8)
    init() { bytes.initializeMemory(as: UInt8.self, repeating: 0) }
    deinit {
        Ed25519.wipe(bytes)
        bytes.deallocate()
    }
}

/// A key file holds 64 hex digits and optional whitespace; anything longer is not one.
let maximumKeyFileSize = 4096

/// Reads the seed from `path` ('-': standard input) with read(2) into a buffer that is
/// wiped before it is freed. Warns when others may read the file.
func readSeed(_ path: String, option: String) throws -> SecretSeed {
    let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw ValidationError("\(option) \(path): \(String(cString: strerror(errno)))") }
    defer { if fd != 0 { close(fd) } }
    var info = stat()
    if fd != 0, fstat(fd, &info) == 0 {
        if (info.st_mode & S_IFMT) == S_IFDIR { throw ValidationError("\(option) \(path): is a directory") }
        if info.st_mode & 0o077 != 0 {
            printError("rusty: warning: key file \(path) can be read by other users (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
    }
    let raw = UnsafeMutableRawBufferPointer.allocate(byteCount: maximumKeyFileSize + 1, alignment: 8)
    defer {
        Ed25519.wipe(raw)
        raw.deallocate()
    }
    var length = 0
    while length < raw.count {
        let got = read(fd, raw.baseAddress! + length, raw.count - length)
        if got < 0 && errno == EINTR { continue }
        guard got >= 0 else { throw ValidationError("\(option) \(path): \(String(cString: strerror(errno)))") }
        if got == 0 { break }
        length += got
    }
    guard length <= maximumKeyFileSize else { throw ValidationError("\(option) \(path): not a key file (more than \(maximumKeyFileSize) bytes)") }
    let seed = SecretSeed()
    guard decodeSeedHex(UnsafeRawBufferPointer(rebasing: raw[0..<length]), into: seed.bytes) else {
        throw ValidationError("\(option) \(path): expected the 32-byte seed as 64 hex digits")
    }
    return seed
}

/// Decodes exactly 64 hex digits (surrounded by optional ASCII whitespace) into `out`.
/// The digits are secret, so they are decoded without branches or table look-ups on
/// their values; only the final verdict and the whitespace trim branch.
func decodeSeedHex(_ text: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Bool {
    func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }
    var start = 0, end = text.count
    while start < end && isSpace(text[start]) { start += 1 }
    while end > start && isSpace(text[end - 1]) { end -= 1 }
    guard end - start == 2 * Ed25519.seedLength else { return false }
    // Per character: a mask of all ones when it is a digit / a letter a-f (either case).
    var invalid: UInt8 = 0
    func nibble(_ c: UInt8) -> UInt8 {
        let digit = c ^ 0x30 // 0...9 for '0'...'9'
        let digitMask = UInt8(truncatingIfNeeded: (UInt16(digit) &- 10) >> 8)
        let letter = (c | 0x20) &- 0x61 // 0...5 for 'a'...'f'
        let letterMask = UInt8(truncatingIfNeeded: (UInt16(letter) &- 6) >> 8)
        invalid |= ~(digitMask | letterMask)
        return (digit & digitMask) | ((letter &+ 10) & letterMask)
    }
    for index in 0..<Ed25519.seedLength {
        out[index] = nibble(text[start + 2 * index]) << 4 | nibble(text[start + 2 * index + 1])
    }
    return invalid == 0
}

/// Lower-case hex of `bytes`, appended without an intermediate String.
func appendHex(_ bytes: UnsafeMutableRawBufferPointer, to out: inout [UInt8]) {
    // Branch-free digit: '0' + n, plus 39 more for n >= 10 (to reach 'a').
    func digit(_ nibble: UInt8) -> UInt8 { 0x30 &+ nibble &+ (39 & UInt8(truncatingIfNeeded: (9 &- Int16(nibble)) >> 8)) }
    for byte in bytes {
        out.append(digit(byte >> 4))
        out.append(digit(byte & 15))
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
        throw CommandFailure(.invalid, "\(error)")
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
