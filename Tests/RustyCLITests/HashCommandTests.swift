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
        for length in [0, 1, 64, 1023, 1024, 1025, 4096, 65_537, 3 * 1024 * 1024 + 5] {
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
        #expect(missing.stderrText.contains("/nonexistent/file"))
        let badKey = try runProcess(TestPaths.rustyExecutable, ["hash", "--keyed", "abcd"])
        #expect(badKey.status == 64)
        #expect(badKey.stderrText.contains("32 bytes"))
        let both = try runProcess(TestPaths.rustyExecutable, ["hash", "--keyed", String(repeating: "0", count: 64), "--derive-key", "x"])
        #expect(both.status == 64)
        let directory = try runProcess(TestPaths.rustyExecutable, ["hash", "/tmp"])
        #expect(directory.status == 1)
        #expect(directory.stderrText.contains("directory"))
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
        #expect(unknown.status == 1)
        #expect(unknown.stderrText.contains("unknown network 'moonnet'"))
    }
}
