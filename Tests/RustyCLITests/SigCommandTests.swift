import Ed25519
import Foundation
import Testing
import TestSupport

/// `rusty sig` end to end: keys, signatures, and the JSONL batch verifier's output and exit codes.
struct SigCommandTests {

    static func temporaryFile(_ contents: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-sig-\(UUID().uuidString).jsonl")
        try Data(contents.utf8).write(to: url)
        return url
    }

    /// A key file of mode 0600 holding `contents`.
    static func keyFile(_ contents: String, mode: Int = 0o600) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-key-\(UUID().uuidString)")
        try Data(contents.utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        return url
    }

    @Test("keygen --seed-file, sign --key-file (file and stdin) and verify agree with the library; a changed message is invalid")
    func signAndVerify() throws {
        let seed = String(repeating: "42", count: 32)
        let seedFile = try Self.keyFile(seed + "\n")
        defer { try? FileManager.default.removeItem(at: seedFile) }
        let keygen = try runProcess(TestPaths.rustyExecutable, ["sig", "keygen", "--seed-file", seedFile.path, "--json"])
        #expect(keygen.status == 0, "\(keygen.stderrText)")
        let keys = try JSONSerialization.jsonObject(with: keygen.stdout) as! [String: String]
        let expectedPublic = Ed25519.publicKey(seed: [UInt8](repeating: 0x42, count: 32))
        #expect(keys["pk"] == HexCoding.encode(expectedPublic))
        #expect(keys["seed"] == seed)
        let fromStdin = try runProcess(TestPaths.rustyExecutable, ["sig", "keygen", "--seed-file", "-"], stdin: Data(seed.utf8))
        #expect(fromStdin.stdoutText == "seed \(seed)\npk   \(HexCoding.encode(expectedPublic))\n")

        let message = Data("pay 5 RUST to bob".utf8)
        let sign = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key-file", seedFile.path, "-"], stdin: message)
        #expect(sign.status == 0, "\(sign.stderrText)")
        #expect(sign.stderrText.isEmpty, "a 0600 key file gets no warning")
        let signature = sign.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(signature == HexCoding.encode(Ed25519.sign(message: Array(message), seed: [UInt8](repeating: 0x42, count: 32))))

        // The key on standard input, the message from a file (upper-case hex, CRLF).
        let messageFile = try Self.temporaryFile("pay 5 RUST to bob")
        defer { try? FileManager.default.removeItem(at: messageFile) }
        let piped = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key-file", "-", messageFile.path],
                                   stdin: Data((seed.uppercased() + "\r\n").utf8))
        #expect(piped.status == 0 && piped.stdoutText == signature + "\n", "\(piped.stderrText)")

        let verify = try runProcess(TestPaths.rustyExecutable, ["sig", "verify", "--pk", keys["pk"]!, "--sig", signature], stdin: message)
        #expect(verify.status == 0 && verify.stdoutText == "valid\n")
        let tampered = try runProcess(TestPaths.rustyExecutable, ["sig", "verify", "--pk", keys["pk"]!, "--sig", signature],
                                      stdin: Data("pay 6 RUST to bob".utf8))
        #expect(tampered.status == 1 && tampered.stdoutText == "invalid\n")
        let badHex = try runProcess(TestPaths.rustyExecutable, ["sig", "verify", "--pk", "zz", "--sig", signature], stdin: message)
        #expect(badHex.status == 64 && badHex.stderrText.contains("--pk"))
    }

    @Test("secrets never come from the command line: --key and --seed are refused with the reason; bad key files are usage errors")
    func secretsNotOnCommandLine() throws {
        let seed = String(repeating: "42", count: 32)
        let oldSign = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key", seed, "-"], stdin: Data("m".utf8))
        #expect(oldSign.status == 64 && oldSign.stdout.isEmpty)
        #expect(oldSign.stderrText.contains("--key was removed") && oldSign.stderrText.contains("--key-file"))
        let oldKeygen = try runProcess(TestPaths.rustyExecutable, ["sig", "keygen", "--seed", seed])
        #expect(oldKeygen.status == 64 && oldKeygen.stdout.isEmpty && oldKeygen.stderrText.contains("--seed-file"))
        let noKey = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "-"], stdin: Data("m".utf8))
        #expect(noKey.status == 64 && noKey.stderrText.contains("missing --key-file"))
        let bothStdin = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key-file", "-"], stdin: Data(seed.utf8))
        #expect(bothStdin.status == 64 && bothStdin.stderrText.contains("standard input"))

        for (label, contents) in [("63 digits", String(seed.dropLast())), ("65 digits", seed + "4"), ("a non-hex digit", "g" + seed.dropFirst()),
                                  ("inner space", String(seed.prefix(10)) + " " + String(seed.dropFirst(10))), ("empty", "")] {
            let file = try Self.keyFile(contents)
            defer { try? FileManager.default.removeItem(at: file) }
            let result = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key-file", file.path, "-"], stdin: Data("m".utf8))
            #expect(result.status == 64 && result.stdout.isEmpty && result.stderrText.contains("64 hex digits"), "\(label): \(result.stderrText)")
        }
        let missing = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key-file", "/nonexistent/key", "-"], stdin: Data("m".utf8))
        #expect(missing.status == 64 && missing.stderrText.contains("/nonexistent/key"))

        let readable = try Self.keyFile(seed, mode: 0o644)
        defer { try? FileManager.default.removeItem(at: readable) }
        let warned = try runProcess(TestPaths.rustyExecutable, ["sig", "sign", "--key-file", readable.path, "-"], stdin: Data("m".utf8))
        #expect(warned.status == 0 && warned.stderrText.contains("can be read by other users (mode 644)"))
    }

    @Test("verify-batch: one verdict per line in order, a summary, exit 1 when any is invalid, every backend")
    func verifyBatch() throws {
        var rng = SeededGenerator(testSeed: 77)
        var lines = [String]()
        var expected = [String]()
        for index in 0..<300 {
            let seed = rng.bytes(32)
            let message = rng.bytes(32)
            var signature = Ed25519.sign(message: message, seed: seed)
            let bad = index % 37 == 5
            if bad { signature[3] ^= 0x40 }
            lines.append("{\"pk\":\"\(HexCoding.encode(Ed25519.publicKey(seed: seed)))\",\"sig\":\"\(HexCoding.encode(signature))\",\"msg\":\"\(HexCoding.encode(message))\"}")
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
