import ArgumentParser
import Ed25519
import Foundation
import Primitives

/// `rusty sig keygen`: a key pair from a seed file or fresh randomness.
extension SigCommand {
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
            // The hex of the seed is itself a secret: built in a buffer wiped after writing (the
            // JSON form is KeygenOutput, written by hand here for that reason).
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
}
