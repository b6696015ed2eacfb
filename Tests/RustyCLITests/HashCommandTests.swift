import Foundation
import Testing
import TestSupport

/// `rusty hash` against `b3sum` (Debian package b3sum) on the same files.
@Suite(.serialized)
struct HashCommandTests {
    static let b3sum: URL? = ["/usr/bin/b3sum", "/usr/local/bin/b3sum"].map(URL.init(fileURLWithPath:))
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }

    static func makeFiles() throws -> (URL, [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-hash-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var rng = SeededGenerator(seed: 1234)
        var names = [String]()
        // 8 MiB + 1 and 12 MiB + 1 span several of the one-thread path's 4 MiB mapped windows.
        for length in [0, 1, 64, 1023, 1024, 1025, 4096, 65_537, 3 * 1024 * 1024 + 5, 8 * 1024 * 1024 + 1, 12 * 1024 * 1024 + 1] {
            let name = "file-\(length).bin"
            try Data(rng.bytes(length)).write(to: directory.appendingPathComponent(name))
            names.append(name)
        }
        return (directory, names)
    }

    @Test("equal to b3sum: plain, keyed, derive-key, --length, --num-threads 1, several files")
    func matchesB3sum() throws {
        let b3sum = try #require(Self.b3sum, "b3sum is not installed (apt-get install b3sum)")
        let (directory, names) = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = String(repeating: "ab", count: 32)
        let variants: [([String], [String], Data?)] = [
            ([], [], nil),
            (["--num-threads", "1"], ["--num-threads", "1"], nil),
            (["--length", "100"], ["--length", "100"], nil),
            (["--length", "7"], ["--length", "7"], nil),
            (["--derive-key", "RustyCoin test context"], ["--derive-key", "RustyCoin test context"], nil),
            (["--keyed", key], ["--keyed"], Data(repeating: 0xAB, count: 32)), // b3sum reads the key from stdin
        ]
        for (ours, theirs, stdin) in variants {
            let expected = try runProcess(b3sum, theirs + names, stdin: stdin, currentDirectory: directory)
            #expect(expected.status == 0, "b3sum \(theirs): \(expected.stderrText)")
            let actual = try runProcess(TestPaths.rustyExecutable, ["hash"] + ours + names, currentDirectory: directory)
            #expect(actual.status == 0, "rusty hash \(ours): \(actual.stderrText)")
            #expect(actual.stdoutText == expected.stdoutText, "rusty hash \(ours)")
        }
        for level in ["scalar", "sse4.1", "avx2", "avx512"] {
            let actual = try runProcess(TestPaths.rustyExecutable, ["hash", "--level", level] + names, currentDirectory: directory)
            if actual.status == 0 {
                let expected = try runProcess(b3sum, names, currentDirectory: directory)
                #expect(actual.stdoutText == expected.stdoutText, "level \(level)")
            } else {
                #expect(actual.stderrText.contains("does not support"), "level \(level): \(actual.stderrText)")
            }
        }
    }

    @Test("standard input is '-', and a name with a backslash is escaped as b3sum does")
    func stdinAndEscaping() throws {
        let b3sum = try #require(Self.b3sum, "b3sum is not installed")
        let input = Data((0..<5000).map { UInt8($0 % 251) })
        let ours = try runProcess(TestPaths.rustyExecutable, ["hash"], stdin: input)
        let theirs = try runProcess(b3sum, [], stdin: input)
        #expect(ours.stdoutText == theirs.stdoutText)
        #expect(ours.stdoutText.hasSuffix("  -\n"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-esc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("x".utf8).write(to: directory.appendingPathComponent("a\\b"))
        let oursEscaped = try runProcess(TestPaths.rustyExecutable, ["hash", "a\\b"], currentDirectory: directory)
        let theirsEscaped = try runProcess(b3sum, ["a\\b"], currentDirectory: directory)
        #expect(oursEscaped.stdoutText == theirsEscaped.stdoutText)
    }

    @Test("bad input: missing file, bad key, conflicting modes give clear errors and exit codes")
    func badInput() throws {
        let missing = try runProcess(TestPaths.rustyExecutable, ["hash", "/nonexistent/file"])
        #expect(missing.status == 1)
        #expect(missing.stderrText == "rusty: /nonexistent/file: No such file or directory\n")
        let badKey = try runProcess(TestPaths.rustyExecutable, ["hash", "--keyed", "abcd"])
        #expect(badKey.status == 64)
        #expect(badKey.stderrText.contains("32 bytes"))
        let both = try runProcess(TestPaths.rustyExecutable, ["hash", "--keyed", String(repeating: "0", count: 64), "--derive-key", "x"])
        #expect(both.status == 64)
        let directory = try runProcess(TestPaths.rustyExecutable, ["hash", "/tmp"])
        #expect(directory.status == 1)
        #expect(directory.stderrText == "rusty: /tmp: Is a directory\n")
    }

    /// Runs b3sum and rusty hash with the same flags in `directory`; both outputs and statuses.
    static func both(_ b3sum: URL, _ arguments: [String], in directory: URL, stdin: Data? = nil) throws -> (ProcessResult, ProcessResult) {
        (try runProcess(b3sum, arguments, stdin: stdin, currentDirectory: directory),
         try runProcess(TestPaths.rustyExecutable, ["hash"] + arguments, stdin: stdin, currentDirectory: directory))
    }

    @Test("--check, --quiet, --no-names and --raw: the same standard output and exit status as b3sum")
    func checkModes() throws {
        let b3sum = try #require(Self.b3sum, "b3sum is not installed (apt-get install b3sum)")
        let (directory, names) = try Self.makeFiles()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("odd".utf8).write(to: directory.appendingPathComponent("back\\slash"))
        let all = names + ["back\\slash"]
        let sums = try runProcess(b3sum, all, currentDirectory: directory)
        try sums.stdout.write(to: directory.appendingPathComponent("sums"))

        for flags in [["--check"], ["-c"], ["--check", "--quiet"], ["--no-names"], ["--raw"]] {
            let inputs = flags.contains("--raw") ? [names[5]] : (flags.contains("--no-names") ? all : ["sums"])
            let (theirs, ours) = try Self.both(b3sum, flags + inputs, in: directory)
            #expect(ours.status == theirs.status && ours.status == 0, "\(flags): \(ours.stderrText)")
            #expect(ours.stdout == theirs.stdout, "\(flags)")
        }
        let (theirsStdin, oursStdin) = try Self.both(b3sum, ["--check"], in: directory, stdin: sums.stdout)
        #expect(oursStdin.stdout == theirsStdin.stdout && oursStdin.status == 0, "check file on standard input")

        // One file changed: FAILED for it, OK for the rest (or nothing with --quiet), exit 1.
        try Data("changed".utf8).write(to: directory.appendingPathComponent(names[2]))
        for flags in [["--check"], ["--check", "--quiet"]] {
            let (theirs, ours) = try Self.both(b3sum, flags + ["sums"], in: directory)
            #expect(theirs.status == 1 && ours.status == 1, "\(flags)")
            #expect(ours.stdout == theirs.stdout, "\(flags)")
            #expect(ours.stdoutText.contains("\(names[2]): FAILED\n"))
        }

        // Malformed lines are reported on standard error (file and line named) and fail the check.
        let good = String(sums.stdoutText.split(separator: "\n")[0])
        let malformed = [good, "short line", good.uppercased(), good.replacingOccurrences(of: "  ", with: " x"), ""].joined(separator: "\n") + "\n"
        try Data(malformed.utf8).write(to: directory.appendingPathComponent("bad-sums"))
        let (theirs, ours) = try Self.both(b3sum, ["--check", "bad-sums"], in: directory)
        #expect(theirs.status == 1 && ours.status == 1)
        #expect(ours.stdout == theirs.stdout, "only the good line is checked: \(ours.stdoutText)")
        #expect(ours.stderrText.split(separator: "\n").map { String($0.prefix(17)) }
                == ["rusty: bad-sums:2", "rusty: bad-sums:3", "rusty: bad-sums:4", "rusty: bad-sums:5"], "\(ours.stderrText)")

        // A listed file that is missing: FAILED with the reason (b3sum adds Rust's "(os error 2)").
        try Data((String(repeating: "0", count: 64) + "  gone\n").utf8).write(to: directory.appendingPathComponent("gone-sums"))
        let (theirsGone, oursGone) = try Self.both(b3sum, ["--check", "gone-sums"], in: directory)
        #expect(oursGone.status == 1 && theirsGone.status == 1)
        #expect(oursGone.stdoutText == "gone: FAILED (No such file or directory)\n")
        #expect(theirsGone.stdoutText.hasPrefix("gone: FAILED (No such file or directory"))
    }

    @Test("large standard input (a pipe, not mapped) hashes like b3sum")
    func largeStdin() throws {
        let b3sum = try #require(Self.b3sum, "b3sum is not installed")
        var rng = SeededGenerator(seed: 77)
        let input = Data(rng.bytes(300_000))
        for flags in [[String](), ["--num-threads", "1"]] {
            let ours = try runProcess(TestPaths.rustyExecutable, ["hash"] + flags, stdin: input)
            let theirs = try runProcess(b3sum, flags, stdin: input)
            #expect(ours.stdoutText == theirs.stdoutText && ours.status == 0, "\(flags)")
        }
    }
}

struct OtherCommandTests {
    @Test("rusty --version, devices and chain-params")
    func commands() throws {
        let version = try runProcess(TestPaths.rustyExecutable, ["--version"])
        #expect(version.status == 0 && !version.stdoutText.isEmpty)

        let devices = try runProcess(TestPaths.rustyExecutable, ["devices", "--json"])
        #expect(devices.status == 0)
        let report = try JSONSerialization.jsonObject(with: devices.stdout) as? [String: Any]
        #expect(["scalar", "sse4.1", "avx2", "avx512"].contains(report?["blake3Level"] as? String ?? ""))

        for network in ["mainnet", "testnet", "regtest"] {
            let params = try runProcess(TestPaths.rustyExecutable, ["chain-params", "--network", network, "--json"])
            #expect(params.status == 0, "\(params.stderrText)")
            let object = try JSONSerialization.jsonObject(with: params.stdout) as? [String: Any]
            #expect(object?["name"] as? String == network)
            #expect((object?["genesisBlockHex"] as? String)?.isEmpty == false)
            let human = try runProcess(TestPaths.rustyExecutable, ["chain-params", "--network", network])
            #expect(human.stdoutText.contains("genesis hash:"))
        }
        let unknown = try runProcess(TestPaths.rustyExecutable, ["chain-params", "--network", "moonnet"])
        #expect(unknown.status == 64)
        #expect(unknown.stderrText.contains("unknown network 'moonnet'"))
    }
}
