import Ed25519
import Foundation
import OpenCLRuntime
import Primitives
import SignatureBackends
import Testing
import TestSupport

/// Built once per test process (the PoCL compile of ed25519_verify.cl takes a while).
enum SharedSignature {
    static let openCL: Result<OpenCLSignatureVerifier, Error> = Result {
        try OpenCLSignatureVerifier(devices: OpenCL.computeDevices())
    }
}

/// One vector: the triple and the verdict ZIP-215 gives (loaders in TestSupport).
struct SignatureVector: CustomStringConvertible {
    var source: String
    var item: SignatureItem
    var valid: Bool
    var description: String { source }

    init(_ vector: SignatureVectorCase) {
        source = vector.source
        item = SignatureItem(publicKey: vector.publicKey, signature: vector.signature, message: vector.message)
        valid = vector.valid
    }
}

enum SignatureVectors {
    static func rfc8032() throws -> [SignatureVector] { try Ed25519Vectors.rfc8032().map(SignatureVector.init) }
    static func signInput() throws -> [SignatureVector] { try Ed25519Vectors.signInput().map(SignatureVector.init) }
    static func zip215() throws -> [SignatureVector] { try Ed25519Vectors.zip215().map(SignatureVector.init) }
    static func speccheck() throws -> [SignatureVector] { try Ed25519Vectors.speccheck().map(SignatureVector.init) }
    static func cctv() throws -> [SignatureVector] { try Ed25519Vectors.cctv().map(SignatureVector.init) }
    static func wycheproof() throws -> [SignatureVector] { try Ed25519Vectors.wycheproof().map(SignatureVector.init) }
}

/// l, the group order, little-endian.
let groupOrder: [UInt8] = hexBytes("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010")

/// S + l as a 32-byte little-endian value (S < l, so no carry out of 256 bits).
func addingGroupOrder(_ s: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var carry = 0
    for i in 0..<32 {
        let sum = Int(s[i]) + Int(groupOrder[i]) + carry
        out[i] = UInt8(sum & 0xFF)
        carry = sum >> 8
    }
    return out
}

/// Valid signatures and every kind of corruption, `count` items, messages of `messageLength`
/// bytes (nil: random lengths 0..300).
func randomMix(count: Int, seed: UInt64, messageLength: Int?) -> [SignatureItem] {
    var rng = SeededGenerator(testSeed: seed)
    let seeds = (0..<16).map { _ in rng.bytes(32) }
    let keys = seeds.map { Ed25519.publicKey(seed: $0) }
    var items = [SignatureItem]()
    for index in 0..<count {
        let signer = index % seeds.count
        let length = messageLength ?? Int.random(in: 0...300, using: &rng)
        let message = rng.bytes(length)
        var item = SignatureItem(publicKey: keys[signer], signature: Ed25519.sign(message: message, seed: seeds[signer]),
                                 message: message)
        let bit = UInt8(1) << UInt8(Int.random(in: 0..<8, using: &rng))
        switch Int.random(in: 0..<12, using: &rng) {
        case 0: item.signature[Int.random(in: 0..<32, using: &rng)] ^= bit // R
        case 1: item.signature[32 + Int.random(in: 0..<32, using: &rng)] ^= bit // S
        case 2: item.publicKey[Int.random(in: 0..<32, using: &rng)] ^= bit // A
        case 3 where !message.isEmpty: item.message[Int.random(in: 0..<message.count, using: &rng)] ^= bit // M
        case 4: item.signature.replaceSubrange(32..<64, with: addingGroupOrder(Array(item.signature[32..<64]))) // S + l
        case 5: item.signature.replaceSubrange(32..<64, with: groupOrder) // S = l
        case 6: item.publicKey = keys[(signer + 1) % keys.count] // another key
        default: break // valid
        }
        items.append(item)
    }
    return items
}

@Suite(.serialized) struct SignatureBackendTests {
    func expectSameAsSingle(_ items: [SignatureItem], _ label: String, verifier: any SignatureBatchVerifier) throws {
        let got = try verifier.verify(items)
        #expect(got.count == items.count, "\(label)")
        var mismatches = 0
        for (index, item) in items.enumerated() {
            let single = Ed25519.verify(signature: item.signature, message: item.message, publicKey: item.publicKey)
            if index < got.count && got[index] != single {
                mismatches += 1
                if mismatches <= 10 { Issue.record("\(label) item \(index): \(verifier.name) says \(got[index]), verify says \(single)") }
            }
        }
        #expect(mismatches == 0, "\(label)")
    }

    @Test("every vector file: opencl gives Ed25519.verify's verdict (and the ZIP-215 verdict) per item")
    func vectorFiles() throws {
        let opencl = try SharedSignature.openCL.get()
        let files: [(String, [SignatureVector], Int)] = [
            ("RFC 8032", try SignatureVectors.rfc8032(), 5),
            ("sign.input", try SignatureVectors.signInput(), 1024),
            ("zip215", try SignatureVectors.zip215(), 196),
            ("speccheck", try SignatureVectors.speccheck(), 12),
            ("cctv", try SignatureVectors.cctv(), 914),
            ("wycheproof", try SignatureVectors.wycheproof(), 151),
        ]
        var all = [SignatureVector]()
        for (label, vectors, count) in files {
            #expect(vectors.count == count, "\(label)")
            let got = try opencl.verify(vectors.map(\.item))
            #expect(got.count == vectors.count)
            for (vector, verdict) in zip(vectors, got) {
                let single = Ed25519.verify(signature: vector.item.signature, message: vector.item.message, publicKey: vector.item.publicKey)
                #expect(verdict == single, "\(vector)")
                #expect(verdict == vector.valid, "\(vector)")
            }
            all += vectors
        }
        // The wrong-length Wycheproof signatures are in there, and come back invalid.
        #expect(all.contains { $0.item.signature.count != 64 })
        // All files in one batch (mixed message lengths, several calibrated launches).
        let together = try opencl.verify(all.map(\.item))
        #expect(together == all.map(\.valid))
    }

    @Test("random valid and corrupted signatures over 32-byte messages (fixed-length path) equal single verification")
    func randomFixedLength() throws {
        let opencl = try SharedSignature.openCL.get()
        let items = randomMix(count: 1500, seed: 0x5EED, messageLength: 32)
        try expectSameAsSingle(items, "32-byte mix", verifier: opencl)
        let verdicts = try opencl.verify(items)
        #expect(verdicts.contains(true) && verdicts.contains(false))
        // Every share adds up to the batch.
        #expect(opencl.lastShares.reduce(0) { $0 + $1.signatures } == items.count)
    }

    @Test("random valid and corrupted signatures over 0..300-byte messages (offsets path) equal single verification")
    func randomVariableLength() throws {
        let opencl = try SharedSignature.openCL.get()
        try expectSameAsSingle(randomMix(count: 600, seed: 0xAB, messageLength: nil), "variable-length mix", verifier: opencl)
        try expectSameAsSingle(randomMix(count: 70, seed: 0xAC, messageLength: 0), "empty messages", verifier: opencl)
        try expectSameAsSingle(randomMix(count: 65, seed: 0xAD, messageLength: 1000), "1000-byte messages", verifier: opencl)
    }

    @Test("a per-launch message byte limit: launches split by bytes, longer messages verified on the host")
    func messageByteLimit() throws {
        let limited = try OpenCLSignatureVerifier(devices: OpenCL.computeDevices(), maxLaunchMessageBytes: 600)
        let items = randomMix(count: 200, seed: 0xBEEF, messageLength: nil)
        try expectSameAsSingle(items, "600-byte launches", verifier: limited)
        let launches = limited.lastShares.reduce(0) { $0 + $1.launches }
        #expect(launches >= items.reduce(0) { $0 + $1.message.count } / 600, "\(limited.lastShares)")
        let tight = try OpenCLSignatureVerifier(devices: OpenCL.computeDevices(), maxLaunchMessageBytes: 100)
        try expectSameAsSingle(items, "100-byte launches, long messages on the host", verifier: tight)
        #expect(tight.lastShares.reduce(0) { $0 + $1.signatures } == items.filter { $0.message.count <= 100 }.count)
    }

    @Test("wrong-length keys and signatures are invalid without reaching the device; tiny and empty batches")
    func malformedAndSmall() throws {
        let opencl = try SharedSignature.openCL.get()
        #expect(try opencl.verify([]) == [])
        var items = randomMix(count: 40, seed: 0xCD, messageLength: 32)
        let good = items[7]
        items[3].signature.removeLast()
        items[5].signature.append(0)
        items[9].publicKey.removeLast()
        items[11].publicKey = []
        items[13].signature = []
        try expectSameAsSingle(items, "malformed lengths", verifier: opencl)
        let verdicts = try opencl.verify(items)
        for index in [3, 5, 9, 11, 13] { #expect(verdicts[index] == false) }
        #expect(try opencl.verify([items[3], items[9]]) == [false, false])
        #expect(try opencl.verify([good]) == [Ed25519.verify(signature: good.signature, message: good.message, publicKey: good.publicKey)])
    }

    @Test("a flat SignatureBatch goes to every engine as is: same verdicts as item by item, both launch layouts")
    func flatBatch() throws {
        let items = randomMix(count: 260, seed: 0xF1A7, messageLength: nil) + randomMix(count: 90, seed: 0xF1A8, messageLength: 32)
        var batch = SignatureBatch()
        for item in items {
            let appended = batch.append(publicKey: item.publicKey, signature: item.signature, message: item.message)
            #expect(appended)
        }
        let expected = items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) }
        #expect(expected.contains(true) && expected.contains(false))
        #expect(try SharedSignature.openCL.get().verify(batch) == expected)
        // Consecutive items copied in one run each, and (with messages over 150 bytes on the
        // host) items gathered one by one.
        let limited = try OpenCLSignatureVerifier(devices: OpenCL.computeDevices(), maxLaunchMessageBytes: 150)
        #expect(try limited.verify(batch) == expected)
        #expect(limited.lastShares.reduce(0) { $0 + $1.signatures } == items.filter { $0.message.count <= 150 }.count)
        #expect(try CPUSignatureVerifier(backend: .scalar, threads: 2).verify(batch) == expected)
        #expect(try SharedSignature.openCL.get().verify(SignatureBatch()) == [])
    }

    @Test("the CPU verifiers agree with opencl on the same mix")
    func cpuVerifiers() throws {
        let opencl = try SharedSignature.openCL.get()
        let items = randomMix(count: 300, seed: 0xEF, messageLength: nil)
        let expected = try opencl.verify(items)
        for backend in Ed25519.Backend.allCases where backend.isSupported {
            #expect(try CPUSignatureVerifier(backend: backend, threads: 2).verify(items) == expected, "\(backend)")
        }
        #expect(try SignatureVerifiers.make(.scalar).verify(items) == expected)
        #expect(try SignatureVerifiers.make(.simd, threads: 2).verify(items) == expected)
    }
}

/// `rusty sig verify-batch --backend opencl` against `--backend scalar`.
@Suite(.serialized) struct SignatureCLITests {
    func rusty(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        if environment.isEmpty { return try runProcess(TestPaths.rustyExecutable, arguments) }
        let assignments = environment.map { "\($0.key)=\($0.value)" }
        return try runProcess(URL(fileURLWithPath: "/usr/bin/env"), assignments + [TestPaths.rustyExecutable.path] + arguments)
    }

    /// A JSONL batch file (the CLI takes only 32-byte keys and 64-byte signatures).
    func batchFile(_ items: [SignatureItem], name: String) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-sig-\(name)-\(UUID().uuidString).jsonl")
        let lines = items.map { item in
            "{\"pk\":\"\(HexCoding.encode(item.publicKey))\",\"sig\":\"\(HexCoding.encode(item.signature))\",\"msg\":\"\(HexCoding.encode(item.message))\"}"
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: file)
        return file
    }

    /// The verdict lines (everything but the summary).
    func verdicts(_ result: ProcessResult) -> [String] {
        Array(result.stdoutText.split(separator: "\n").map(String.init).dropLast())
    }

    @Test("verify-batch --backend opencl prints what --backend scalar prints, for both message paths")
    func openclMatchesScalar() throws {
        for (name, items) in [("fixed", randomMix(count: 500, seed: 1, messageLength: 32)),
                              ("variable", randomMix(count: 300, seed: 2, messageLength: nil))] {
            let file = try batchFile(items, name: name)
            defer { try? FileManager.default.removeItem(at: file) }
            let scalar = try rusty(["sig", "verify-batch", file.path, "--backend", "scalar"])
            let opencl = try rusty(["sig", "verify-batch", file.path, "--backend", "opencl"])
            #expect(scalar.status == 1 && opencl.status == 1, "\(opencl.stderrText)")
            #expect(verdicts(opencl).count == items.count)
            #expect(verdicts(opencl) == verdicts(scalar), "\(name)")
            let expected = items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) ? "valid" : "invalid" }
            #expect(verdicts(opencl) == expected)
            #expect(opencl.stdoutText.split(separator: "\n").last?.contains("(opencl(") == true, "\(opencl.stdoutText.suffix(200))")
            #expect(opencl.stderrText.contains("per launch"), "\(opencl.stderrText)")

            let json = try rusty(["sig", "verify-batch", file.path, "--backend", "opencl", "--json"])
            let report = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
            #expect((report["results"] as? [Bool]) == expected.map { $0 == "valid" })
            #expect((report["backend"] as? String)?.hasPrefix("opencl(") == true)
        }
        // All valid: exit 0.
        let valid = randomMix(count: 200, seed: 3, messageLength: 32).filter {
            Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey)
        }
        let file = try batchFile(valid, name: "valid")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try rusty(["sig", "verify-batch", file.path, "--backend", "opencl"])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(verdicts(result) == Array(repeating: "valid", count: valid.count))
    }

    @Test("verify-batch --backend opencl splits a batch across two OpenCL devices (PoCL with two devices)")
    func twoDevices() throws {
        let items = randomMix(count: 1200, seed: 4, messageLength: 32)
        let file = try batchFile(items, name: "two")
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try rusty(["sig", "verify-batch", file.path, "--backend", "opencl"], environment: ["POCL_DEVICES": "pthread pthread"])
        #expect(result.status == 1, "\(result.stderrText)")
        let expected = items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) ? "valid" : "invalid" }
        #expect(verdicts(result) == expected)
        let shares = result.stderrText.split(separator: "\n").filter { $0.contains(" per launch") }
        #expect(shares.count == 2, "\(result.stderrText)")
        let total = shares.compactMap { line in
            line.split(separator: ":").last?.split(separator: " ").first.flatMap { Int($0) }
        }.reduce(0, +)
        #expect(total == items.count, "\(result.stderrText)")
    }

    @Test("no OpenCL platform: verify-batch --backend opencl exits 3 with a clear error, auto uses the CPU")
    func noPlatform() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-no-icd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let environment = ["OCL_ICD_VENDORS": empty.path, "OPENCL_VENDOR_PATH": empty.path]
        let items = randomMix(count: 100, seed: 5, messageLength: 32)
        let file = try batchFile(items, name: "noicd")
        defer { try? FileManager.default.removeItem(at: file) }

        let failed = try rusty(["sig", "verify-batch", file.path, "--backend", "opencl"], environment: environment)
        #expect(failed.status == 3)
        #expect(failed.stderrText.contains("no OpenCL platform or device"), "\(failed.stderrText)")
        #expect(failed.stdout.isEmpty)

        let auto = try rusty(["sig", "verify-batch", file.path, "--backend", "auto"], environment: environment)
        #expect(auto.status == 1, "\(auto.stderrText)")
        let expected = items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) ? "valid" : "invalid" }
        #expect(verdicts(auto) == expected)
        #expect(auto.stderrText.contains("no OpenCL GPU found"))
        #expect(auto.stderrText.split(separator: "\n").count == 1, "\(auto.stderrText)")

        // Malformed input is still exit 2, before any backend is started.
        let bad = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-sig-bad-\(UUID().uuidString).jsonl")
        try Data("not json\n".utf8).write(to: bad)
        defer { try? FileManager.default.removeItem(at: bad) }
        let malformed = try rusty(["sig", "verify-batch", bad.path, "--backend", "opencl"], environment: environment)
        #expect(malformed.status == 2)
    }

    @Test("verify-batch: an unknown --backend is a usage error naming the choices")
    func unknownBackend() throws {
        let result = try rusty(["sig", "verify-batch", "/dev/null", "--backend", "cuda"])
        #expect(result.status == 64)
        #expect(result.stderrText.contains("opencl"), "\(result.stderrText)")
    }
}
