import BLAKE3
import Foundation
import Primitives
import ProofOfWorkSearch
import Testing
import TestSupport

/// `rusty pow search` and `rusty merkle root` against the in-process scalar paths.
@Suite(.serialized) struct OpenCLCLITests {
    static let header: [UInt8] = {
        var rng = SeededGenerator(testSeed: 31337)
        return rng.bytes(128)
    }()
    static let targetHex = "02" + String(repeating: "f", count: 62)

    func rusty(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil) throws -> ProcessResult {
        if environment.isEmpty { return try runProcess(TestPaths.rustyExecutable, arguments, stdin: stdin) }
        let assignments = environment.map { "\($0.key)=\($0.value)" }
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), assignments + [TestPaths.rustyExecutable.path] + arguments,
                              stdin: stdin)
    }

    func expectedLines(start: UInt64, count: UInt64) throws -> String {
        let job = PoWJob(header: Self.header, target: UInt256(hex: Self.targetHex)!)
        return try ScalarPoWSearch().search(job, range: NonceRange(start: start, count: count)!)
            .map { "\($0.nonce) \($0.hash.hex)\n" }.joined()
    }

    func powArguments(start: UInt64, count: UInt64, backend: String) -> [String] {
        ["pow", "search", "--header", HexCoding.encode(Self.header), "--target", Self.targetHex,
         "--start", String(start), "--count", String(count), "--backend", backend]
    }

    @Test("pow search prints NONCE HASHHEX lines, the same on every backend")
    func powSearch() throws {
        for (start, count) in [(UInt64(1 << 32) - 2500, UInt64(5000)), (UInt64.max - 2999, UInt64(3000))] {
            let expected = try expectedLines(start: start, count: count)
            #expect(!expected.isEmpty)
            for backend in ["scalar", "simd", "opencl", "auto"] {
                let result = try rusty(powArguments(start: start, count: count, backend: backend))
                #expect(result.status == 0, "\(backend): \(result.stderrText)")
                #expect(result.stdoutText == expected, "\(backend), start \(start)")
                #expect(result.stderrText.contains("MH/s"))
            }
        }
        let hex = try rusty(["pow", "search", "--header", HexCoding.encode(Self.header), "--target", Self.targetHex,
                             "--start", "0xFFFFFFFFFFFFF000", "--count", "0x1000", "--backend", "opencl"])
        #expect(hex.stdoutText == (try expectedLines(start: 0xFFFF_FFFF_FFFF_F000, count: 0x1000)))
    }

    @Test("pow search splits the range across several OpenCL devices (PoCL with two devices)")
    func twoDevices() throws {
        let start: UInt64 = (1 << 32) - 300_000, count: UInt64 = 1_200_000
        let job = PoWJob(header: Self.header, target: UInt256(hex: Self.targetHex)!)
        let expected = try ThreadedPoWSearch().search(job, range: NonceRange(start: start, count: count)!)
            .map { "\($0.nonce) \($0.hash.hex)\n" }.joined()
        let result = try rusty(powArguments(start: start, count: count, backend: "opencl"),
                               environment: ["POCL_DEVICES": "pthread pthread"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == expected)
        // Both devices took part and report their share (how much each searched depends on
        // scheduling on a loaded machine, so the split itself is not asserted).
        let shares = result.stderrText.split(separator: "\n").filter { $0.contains(" per launch") }
        #expect(shares.count == 2, "\(result.stderrText)")
    }

    @Test("pow search: malformed hex, lengths and ranges exit 64 with a clear message")
    func powUsageErrors() throws {
        let good = HexCoding.encode(Self.header)
        let cases: [([String], String)] = [
            (["--header", String(good.dropLast(2)), "--target", Self.targetHex], "--header"),
            (["--header", String(good.dropLast()) + "g", "--target", Self.targetHex], "--header"),
            (["--header", good, "--target", "ff"], "--target"),
            (["--header", good, "--target", String(Self.targetHex.dropLast()) + "x"], "--target"),
            (["--header", good, "--target", Self.targetHex, "--start", "-1"], "--start"),
            (["--header", good, "--target", Self.targetHex, "--count", "many"], "--count"),
            (["--header", good, "--target", Self.targetHex, "--start", String(UInt64.max), "--count", "2"], "2^64"),
            (["--header", good, "--target", Self.targetHex, "--backend", "cuda"], "--backend"),
        ]
        for (arguments, mention) in cases {
            let result = try rusty(["pow", "search"] + arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderrText.contains(mention), "\(arguments): \(result.stderrText)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("no OpenCL platform: --backend opencl fails clearly, auto falls back to the CPU")
    func noPlatform() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-no-icd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let environment = ["OCL_ICD_VENDORS": empty.path, "OPENCL_VENDOR_PATH": empty.path]
        let failed = try rusty(powArguments(start: 0, count: 2000, backend: "opencl"), environment: environment)
        #expect(failed.status == 3)
        #expect(failed.stderrText.contains("no OpenCL platform or device"), "\(failed.stderrText)")
        #expect(failed.stdout.isEmpty)

        let auto = try rusty(powArguments(start: 0, count: 2000, backend: "auto"), environment: environment)
        #expect(auto.status == 0, "\(auto.stderrText)")
        #expect(auto.stdoutText == (try expectedLines(start: 0, count: 2000)))
        #expect(auto.stderrText.contains("no OpenCL GPU found"))

        let merkle = try rusty(["merkle", "root", "--backend", "opencl"], environment: environment,
                               stdin: Data((String(repeating: "ab", count: 32) + "\n").utf8))
        #expect(merkle.status == 3)
        #expect(merkle.stderrText.contains("no OpenCL platform or device"))

        let devices = try rusty(["devices"], environment: environment)
        #expect(devices.status == 0)
        #expect(devices.stdoutText.contains("OpenCL: no platform found"))
    }

    @Test("merkle root prints the root alone, equal to the scalar path on every backend")
    func merkleRoot() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-merkle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var rng = SeededGenerator(testSeed: 99)
        for count in [0, 1, 2, 3, 1025] {
            let leaves = (0..<count).map { _ in Hash256(bytes: rng.bytes(32))! }
            let file = directory.appendingPathComponent("txids-\(count).txt")
            try Data(leaves.map { $0.hex + "\n" }.joined().utf8).write(to: file)
            let expected = Merkle.root(of: leaves, level: .scalar).hex + "\n"
            for backend in ["scalar", "simd", "opencl", "auto"] {
                let result = try rusty(["merkle", "root", "--backend", backend, file.path])
                #expect(result.status == 0, "\(backend): \(result.stderrText)")
                #expect(result.stdoutText == expected, "\(backend), \(count) leaves")
            }
            let piped = try rusty(["merkle", "root", "--backend", "opencl", "-"], stdin: try Data(contentsOf: file))
            #expect(piped.stdoutText == expected)
        }
    }

    @Test("merkle root names the bad line")
    func merkleBadInput() throws {
        let good = String(repeating: "0a", count: 32)
        let input = "\(good)\n\(good)\n\(good.dropLast())z\n"
        let result = try rusty(["merkle", "root", "--backend", "scalar"], stdin: Data(input.utf8))
        #expect(result.status == 2)
        #expect(result.stderrText.contains("<stdin>:3:"), "\(result.stderrText)")
        #expect(result.stdout.isEmpty)
        let missing = try rusty(["merkle", "root", "/nonexistent/txids.txt"])
        #expect(missing.status == 1)
        #expect(missing.stderrText.contains("/nonexistent/txids.txt"))
    }

    @Test("devices lists the OpenCL platforms and devices, also as JSON")
    func devices() throws {
        let text = try rusty(["devices"])
        #expect(text.status == 0)
        #expect(text.stdoutText.contains("OpenCL platform:"))
        #expect(text.stdoutText.contains("compute units"))
        let json = try rusty(["devices", "--json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
        let platforms = try #require(object["openCL"] as? [[String: Any]])
        #expect(!platforms.isEmpty)
        let devices = try #require(platforms.first?["devices"] as? [[String: Any]])
        #expect(devices.first?["computeUnits"] as? Int ?? 0 >= 1)
        #expect(devices.first?["openCLCVersion"] is String)
        #expect(devices.first?["globalMemoryBytes"] != nil)
    }
}
