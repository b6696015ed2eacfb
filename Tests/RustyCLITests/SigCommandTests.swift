import Ed25519
import Foundation
import Testing
import TestSupport

/// `rusty sig` end to end: keys, signatures, and the JSONL batch verifier's output and exit codes.
struct SigCommandTests {
    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func temporaryFile(_ contents: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-sig-\(UUID().uuidString).jsonl")
        try Data(contents.utf8).write(to: url)
        return url
    }

    @Test("keygen --seed, sign and verify agree with the library; a changed message is invalid (exit 1)")
    func signAndVerify() throws {
        let seed = String(repeating: "42", count: 32)
        let keygen = try runProcess(TestPaths.rustyExecutable, ["sig", "keygen", "--seed", seed, "--json"])
        #expect(keygen.status == 0)
        let keys = try JSONSerialization.jsonObject(with: keygen.stdout) as! [String: String]
        let expectedPublic = Ed25519.publicKey(seed: [UInt8](repeating: 0x42, count: 32))
        #expect(keys["pk"] == Self.hex(expectedPublic))

        let message = Data("pay 5 RUST to bob".utf8)
        let sign = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key", seed, "-"], stdin: message)
        #expect(sign.status == 0)
        let signature = sign.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(signature == Self.hex(Ed25519.sign(message: Array(message), seed: [UInt8](repeating: 0x42, count: 32))))

        let verify = try runProcess(TestPaths.rustyExecutable, ["sig", "verify", "--pk", keys["pk"]!, "--sig", signature], stdin: message)
        #expect(verify.status == 0 && verify.stdoutText == "valid\n")
        let tampered = try runProcess(TestPaths.rustyExecutable, ["sig", "verify", "--pk", keys["pk"]!, "--sig", signature],
                                      stdin: Data("pay 6 RUST to bob".utf8))
        #expect(tampered.status == 1 && tampered.stdoutText == "invalid\n")
        let badHex = try runProcess(TestPaths.rustyExecutable, ["sig", "verify", "--pk", "zz", "--sig", signature], stdin: message)
        #expect(badHex.status == 64 && badHex.stderrText.contains("--pk"))
    }

    @Test("verify-batch: one verdict per line in order, a summary, exit 1 when any is invalid, every backend")
    func verifyBatch() throws {
        var rng = SeededGenerator(seed: 77)
        var lines = [String]()
        var expected = [String]()
        for index in 0..<300 {
            let seed = rng.bytes(32)
            let message = rng.bytes(32)
            var signature = Ed25519.sign(message: message, seed: seed)
            let bad = index % 37 == 5
            if bad { signature[3] ^= 0x40 }
            lines.append("{\"pk\":\"\(Self.hex(Ed25519.publicKey(seed: seed)))\",\"sig\":\"\(Self.hex(signature))\",\"msg\":\"\(Self.hex(message))\"}")
            expected.append(bad ? "invalid" : "valid")
        }
        let file = try Self.temporaryFile(lines.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(at: file) }
        for backend in ["auto", "scalar", "simd"] {
            for threads in ["1", "2"] {
                let result = try runProcess(TestPaths.rustyExecutable, ["sig", "verify-batch", file.path, "--backend", backend, "--threads", threads])
                #expect(result.status == 1, "\(backend): \(result.stderrText)")
                let output = result.stdoutText.split(separator: "\n").map(String.init)
                #expect(Array(output.prefix(300)) == expected, "\(backend) threads \(threads)")
                #expect(output.count == 301)
                let invalid = expected.filter { $0 == "invalid" }.count
                #expect(output.last?.hasPrefix("300 signatures: \(300 - invalid) valid, \(invalid) invalid") == true, "\(output.last ?? "")")
            }
        }
        let valid = try Self.temporaryFile(lines.enumerated().filter { expected[$0.offset] == "valid" }.map(\.element).joined(separator: "\n"))
        defer { try? FileManager.default.removeItem(at: valid) }
        let allValid = try runProcess(TestPaths.rustyExecutable, ["sig", "verify-batch", valid.path, "--json"])
        #expect(allValid.status == 0)
        let report = try JSONSerialization.jsonObject(with: allValid.stdout) as! [String: Any]
        #expect(report["count"] as? Int == expected.filter { $0 == "valid" }.count && report["invalid"] as? Int == 0)
    }

    @Test("verify-batch: malformed lines exit 2 and name the line")
    func malformedInput() throws {
        let good = "{\"pk\":\"\(String(repeating: "00", count: 32))\",\"sig\":\"\(String(repeating: "00", count: 64))\",\"msg\":\"\"}"
        let cases: [(String, String)] = [
            (good + "\nnot json\n", "line 2: not a JSON object"),
            ("\n" + good.replacingOccurrences(of: "\"pk\":\"00", with: "\"pk\":\"0"), "line 2: field 'pk' is not hex"),
            (good.replacingOccurrences(of: "\"sig\":\"00", with: "\"sig\":\""), "line 1: field 'sig' has 63 bytes, expected 64"),
            ("{\"pk\":\"00\"}", "line 1: field 'pk' has 1 bytes, expected 32"),
            ("{\"sig\":\"00\"}", "line 1: missing string field 'pk'"),
        ]
        for (contents, message) in cases {
            let file = try Self.temporaryFile(contents)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try runProcess(TestPaths.rustyExecutable, ["sig", "verify-batch", file.path])
            #expect(result.status == 2, "\(message)")
            #expect(result.stderrText.contains(message), "\(result.stderrText)")
            #expect(result.stdout.isEmpty)
        }
    }
}
