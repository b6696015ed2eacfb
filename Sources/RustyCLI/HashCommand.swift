import ArgumentParser
import BLAKE3
import Dispatch
import Foundation
import Primitives

/// `rusty hash`: BLAKE3 of files, printed in b3sum's format, with b3sum's checking mode.
struct HashCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash",
        abstract: "Print or check BLAKE3 hashes of files, as b3sum does ('HEX  NAME', '-' for standard input).",
        discussion: """
            --check reads lines 'HEX  NAME' (as this command prints them) from each FILE and prints \
            'NAME: OK' or 'NAME: FAILED' per line; exit status 1 if any fails (a mismatch, an unreadable \
            file or a malformed line, which is reported on standard error). Regular files of 16 KiB or \
            more are memory-mapped, not read.
            """
    )

    @Option(name: .customLong("keyed"), help: "Keyed mode with this 32-byte key (64 hex digits).")
    var keyHex: String?

    @Option(name: .customLong("derive-key"), help: "Key derivation mode with this context string.")
    var deriveKeyContext: String?

    @Option(name: [.customShort("l"), .customLong("length")], help: "Output length in bytes (default 32).")
    var length: Int = 32

    @Option(name: .customLong("num-threads"), help: "Threads per file (default, or 0: all cores); 1 hashes strictly on one thread.")
    var numThreads: Int?

    @Option(name: .customLong("level"), help: "SIMD level: auto, avx512, avx2, sse4.1 or scalar.")
    var levelName: String = "auto"

    @Flag(name: [.customShort("c"), .customLong("check")], help: "Read 'HEX  NAME' lines from the FILEs and check them.")
    var check = false

    @Flag(name: .customLong("no-names"), help: "Print only the hashes, without file names.")
    var noNames = false

    @Flag(name: .customLong("raw"), help: "Write the raw output bytes to standard output, not hex (one input only).")
    var raw = false

    @Flag(name: .customLong("quiet"), help: "With --check: do not print OK lines.")
    var quiet = false

    @Argument(help: "Files to hash (or check files with --check); none or '-' reads standard input.")
    var files: [String] = []

    static let maxThreads = 4096
    static let maxLength = 1 << 30

    func validate() throws {
        if keyHex != nil && deriveKeyContext != nil {
            throw ValidationError("--keyed and --derive-key cannot be combined")
        }
        if let keyHex, HexCoding.decode(keyHex)?.count != 32 {
            throw ValidationError("--keyed needs exactly 32 bytes as 64 hex digits")
        }
        try checkRange(length, "--length", 0...Self.maxLength)
        if let numThreads { try checkRange(numThreads, "--num-threads", 0...Self.maxThreads) }
        if levelName != "auto" && BLAKE3Level(name: levelName) == nil {
            throw ValidationError("unknown --level '\(levelName)' (auto, avx512, avx2, sse4.1, scalar)")
        }
        if check {
            // As in b3sum: a check file records 32-byte plain hashes with names.
            let conflicts = [("--keyed", keyHex != nil), ("--derive-key", deriveKeyContext != nil), ("--length", length != 32),
                             ("--no-names", noNames), ("--raw", raw)]
            if let conflict = conflicts.first(where: \.1) { throw ValidationError("--check cannot be combined with \(conflict.0)") }
        } else if quiet {
            throw ValidationError("--quiet only applies to --check")
        }
        if raw && files.count > 1 { throw ValidationError("--raw takes one input (got \(files.count))") }
    }

    func run() throws {
        let level = levelName == "auto" ? BLAKE3Level.default : BLAKE3Level(name: levelName)!
        if level.rawValue > BLAKE3Level.detected.rawValue {
            throw ValidationError("this CPU does not support \(level); best is \(BLAKE3Level.detected)")
        }
        let names = files.isEmpty ? ["-"] : files
        // Like b3sum: one file at a time, each hashed on all threads (BLAKE3's tree lets
        // whole subtrees go to different cores); --num-threads 1 is strictly single-threaded.
        let threads = (numThreads ?? 0) == 0 ? activeProcessorCount() : numThreads!
        if check {
            try runCheck(checkFiles: names, level: level, threads: threads)
            return
        }
        let mode: HashMode
        if let keyHex { mode = .keyed(HexCoding.decode(keyHex)!) } else if let deriveKeyContext { mode = .deriveKey(deriveKeyContext) } else { mode = .plain }

        var failed = false
        for name in names {
            let digest: [UInt8]
            do {
                digest = try hashFile(name, mode: mode, length: length, level: level, threads: threads)
            } catch {
                // The file is named in the message; the others are still hashed (as b3sum does).
                reportError("\(error)")
                failed = true
                continue
            }
            if raw {
                flushOutput()
                try OutputFile.openAll([("--raw", "-")])[0].write(digest)
            } else if noNames {
                print(HexCoding.encode(digest))
            } else {
                print(b3sumLine(digest: digest, name: name))
            }
        }
        if failed { throw ExitStatus.invalid.code }
    }

    /// b3sum's --check: every line of every check file is checked; a check file that cannot
    /// be opened is reported and the others are still checked.
    func runCheck(checkFiles: [String], level: BLAKE3Level, threads: Int) throws {
        var failures = 0
        for checkFile in checkFiles {
            let text: [UInt8]
            do {
                text = try InputFile(path: checkFile).readAll()
            } catch {
                reportError("\(error)")
                failures += 1
                continue
            }
            var lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            if lines.last?.isEmpty == true { lines.removeLast() } // the final newline ends a line, it does not start one
            for (index, line) in lines.enumerated() {
                let entry: CheckLine
                do {
                    entry = try CheckLine(parsing: line)
                } catch {
                    reportError("\(checkFile):\(index + 1): \(error)")
                    failures += 1
                    continue
                }
                do {
                    let digest = try hashFile(entry.path, mode: .plain, length: 32, level: level, threads: threads)
                    if digest == entry.expected {
                        if !quiet { print("\(entry.shownName): OK") }
                    } else {
                        print("\(entry.shownName): FAILED")
                        failures += 1
                    }
                } catch let error as FileError {
                    print("\(entry.shownName): FAILED (\(error.reason))")
                    failures += 1
                }
            }
        }
        if failures > 0 { throw ExitStatus.invalid.code }
    }
}

/// One line of a check file, parsed by b3sum 1.x's rules: 64 lowercase hex digits, two
/// spaces, a non-empty name; a leading backslash means the name has `\\` and `\n` escaped.
struct CheckLine {
    let expected: [UInt8]
    /// The file to hash (unescaped).
    let path: String
    /// The name as printed in results: as written in the check file, backslash included.
    let shownName: String

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    init(parsing line: ArraySlice<UInt8>) throws {
        guard !line.isEmpty else { throw Malformed(description: "empty line") }
        var rest = line
        let escaped = rest.first == UInt8(ascii: "\\")
        if escaped { rest = rest.dropFirst() }
        guard rest.count > 66 else { throw Malformed(description: "short line (expected 64 hex digits, two spaces and a name)") }
        let hex = rest.prefix(64)
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        var index = hex.startIndex
        while index < hex.endIndex {
            guard let high = Self.lowercaseHexValue(hex[index]), let low = Self.lowercaseHexValue(hex[index + 1]) else {
                throw Malformed(description: "invalid hex (expected 64 lowercase hex digits)")
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        let separator = rest.dropFirst(64).prefix(2)
        guard separator.elementsEqual([UInt8(ascii: " "), UInt8(ascii: " ")]) else {
            throw Malformed(description: "invalid separator (expected two spaces after the hash)")
        }
        let nameBytes = Array(rest.dropFirst(66))
        guard let name = String(validating: nameBytes, as: UTF8.self) else { throw Malformed(description: "the name is not UTF-8") }
        guard !name.contains("\0") else { throw Malformed(description: "NUL character in the name") }
        expected = bytes
        shownName = escaped ? "\\" + name : name
        path = escaped ? try Self.unescape(name) : name
    }

    static func lowercaseHexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    /// `\\` and `\n` are the only escapes (what `b3sumLine` writes); anything else is malformed.
    static func unescape(_ name: String) throws -> String {
        var out = ""
        var iterator = name.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else { out.append(character); continue }
            switch iterator.next() {
            case "\\": out.append("\\")
            case "n": out.append("\n")
            default: throw Malformed(description: "invalid backslash escape in the name")
            }
        }
        return out
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
    // A mapped file goes to the hasher in one piece: no copies, and the threaded update
    // can split the whole file into subtrees at once.
    let mapped: Void? = try file.withMapping { contents in
        if threads > 1 { hasher.update(contents, threads: threads) } else { hashMappedPrefaulted(contents, into: &hasher) }
    }
    if mapped == nil {
        if threads > 1 {
            try file.forEachBlock(bufferSize: 1 << 24) { hasher.update($0, threads: threads) }
        } else {
            try file.forEachBlock { hasher.update($0) }
        }
    }
    return hasher.finalize(count: length)
}

/// Bytes of a mapping whose page tables are filled at once before they are hashed. A power
/// of two, so each window is a whole subtree (the digest does not depend on it anyway).
let prefaultWindow = 4 << 20

/// Hashes a file mapping on this thread, window by window, filling each window's page tables
/// (MADV_POPULATE_READ, Linux 5.14+) just before hashing it. Left to demand faults, the
/// kernel maps a few pages per fault, and the AVX-512 kernel's software prefetches into pages
/// not mapped yet are dropped: on a 1 GiB file in the page cache that costs about 40 ms of user
/// time (docs/PERFORMANCE.md, "Bulk hashing, one thread"). On older kernels madvise fails
/// with EINVAL and the pages fault in on demand as before.
func hashMappedPrefaulted(_ contents: UnsafeRawBufferPointer, into hasher: inout BLAKE3Hasher) {
    guard let base = contents.baseAddress else { return }
    var offset = 0
    while offset < contents.count {
        let length = min(prefaultWindow, contents.count - offset)
        let window = UnsafeRawBufferPointer(start: base + offset, count: length)
        _ = madvise(UnsafeMutableRawPointer(mutating: window.baseAddress), length, 22 /* MADV_POPULATE_READ */)
        hasher.update(window)
        offset += length
    }
}

/// One output line in b3sum's format. As in sha256sum, a name containing a backslash or a
/// newline has them escaped and the whole line starts with a backslash.
func b3sumLine(digest: [UInt8], name: String) -> String {
    guard name.contains("\\") || name.contains("\n") else { return "\(HexCoding.encode(digest))  \(name)" }
    let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    return "\\\(HexCoding.encode(digest))  \(escaped)"
}
