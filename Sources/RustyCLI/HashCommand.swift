import ArgumentParser
import BLAKE3
import Dispatch
import Foundation
import Primitives

/// `rusty hash`: BLAKE3 of files, printed in b3sum's format.
struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print BLAKE3 hashes of files, in b3sum's format ('HEX  NAME', '-' for standard input)."
    )

    @Option(name: .customLong("keyed"), help: "Keyed mode with this 32-byte key (64 hex digits).")
    var keyHex: String?

    @Option(name: .customLong("derive-key"), help: "Key derivation mode with this context string.")
    var deriveKeyContext: String?

    @Option(name: .customLong("length"), help: "Output length in bytes (default 32).")
    var length: Int = 32

    @Option(name: .customLong("num-threads"), help: "Threads per file (default: all cores); 1 hashes strictly on one thread.")
    var numThreads: Int?

    @Option(name: .customLong("level"), help: "SIMD level: auto, avx512, avx2, sse4.1 or scalar.")
    var levelName: String = "auto"

    @Argument(help: "Files to hash; none or '-' reads standard input.")
    var files: [String] = []

    func validate() throws {
        if keyHex != nil && deriveKeyContext != nil {
            throw ValidationError("--keyed and --derive-key cannot be combined")
        }
        if let keyHex, HexCoding.decode(keyHex)?.count != 32 {
            throw ValidationError("--keyed needs exactly 32 bytes as 64 hex digits")
        }
        if length < 0 || length > 1 << 30 { throw ValidationError("--length must be between 0 and 2^30") }
        if let numThreads, numThreads < 1 { throw ValidationError("--num-threads must be at least 1") }
        if levelName != "auto" && BLAKE3Level(name: levelName) == nil {
            throw ValidationError("unknown --level '\(levelName)' (auto, avx512, avx2, sse4.1, scalar)")
        }
    }

    func run() throws {
        let level = levelName == "auto" ? BLAKE3Level.default : BLAKE3Level(name: levelName)!
        if level.rawValue > BLAKE3Level.detected.rawValue {
            throw ValidationError("this CPU does not support \(level); best is \(BLAKE3Level.detected)")
        }
        let names = files.isEmpty ? ["-"] : files
        let mode: HashMode
        if let keyHex { mode = .keyed(HexCoding.decode(keyHex)!) } else if let deriveKeyContext { mode = .deriveKey(deriveKeyContext) } else { mode = .plain }

        // Like b3sum: one file at a time, each hashed on all threads (BLAKE3's tree lets
        // whole subtrees go to different cores); --num-threads 1 is strictly single-threaded.
        let threads = numThreads ?? activeProcessorCount()
        let results = names.map { name in
            Result { try hashFile(name, mode: mode, length: length, level: level, threads: threads) }
        }

        var failed = false
        for (index, name) in names.enumerated() {
            switch results[index] {
            case .success(let digest): print(b3sumLine(digest: digest, name: name))
            case .failure(let error):
                printError("rusty hash: \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

enum HashMode: Sendable {
    case plain
    case keyed([UInt8])
    case deriveKey(String)
}

func hashFile(_ path: String, mode: HashMode, length: Int, level: BLAKE3Level, threads: Int = 1) throws -> [UInt8] {
    let file = try InputFile(path: path)
    var hasher: BLAKE3Hasher
    switch mode {
    case .plain: hasher = BLAKE3Hasher(level: level)
    case .keyed(let key): hasher = BLAKE3Hasher(key: key, level: level)
    case .deriveKey(let context): hasher = BLAKE3Hasher(deriveKeyContext: context, level: level)
    }
    if threads > 1 {
        try file.forEachBlock(bufferSize: 1 << 24) { hasher.update($0, threads: threads) }
    } else {
        try file.forEachBlock { hasher.update($0) }
    }
    return hasher.finalize(count: length)
}

/// One output line in b3sum's format. As in sha256sum, a name containing a backslash or a
/// newline has them escaped and the whole line starts with a backslash.
func b3sumLine(digest: [UInt8], name: String) -> String {
    guard name.contains("\\") || name.contains("\n") else { return "\(HexCoding.encode(digest))  \(name)" }
    let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    return "\\\(HexCoding.encode(digest))  \(escaped)"
}
