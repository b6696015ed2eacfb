import Ed25519
import Foundation
@testable import RustyCLI
import Testing
import TestSupport

/// Every `--json` document of the commands cheap to run decodes into the command's Codable
/// output type, and encoding that value again gives the same bytes (keys sorted by the one
/// encoder helper), so the type and the output cannot drift apart.
@Suite(.serialized)
struct JSONOutputTests {
    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-json-\(name)-\(UUID().uuidString)")
    }

    static func run(_ arguments: [String], stdin: Data? = nil, status: Int32 = 0) throws -> String {
        let result = try runProcess(TestPaths.rustyExecutable, arguments, stdin: stdin)
        #expect(result.status == status, "rusty \(arguments.joined(separator: " ")): \(result.stderrText)")
        return result.stdoutText
    }

    /// Decodes `text` (one document and a newline) as `T` and checks it encodes back to `text`.
    @discardableResult
    static func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ text: String, pretty: Bool = false) throws -> T {
        #expect(text.hasSuffix("\n"))
        let value = try JSONDecoder().decode(T.self, from: Data(text.utf8))
        #expect(try jsonText(value, pretty: pretty) + "\n" == text)
        return value
    }

    @Test("devices and chain-params")
    func machineAndParameters() throws {
        let devices = try JSONDecoder().decode(DeviceReport.self, from: Data(try Self.run(["devices", "--json"]).utf8))
        #expect(devices.logicalCores >= 1)
        for network in ["mainnet", "regtest"] {
            let output = try Self.roundTrip(ChainParamsOutput.self, try Self.run(["chain-params", "--network", network, "--json"]),
                                            pretty: true)
            #expect(output.parameters.name == network)
            #expect(output.genesisMerkleRoot.count == 64 && !output.powLimitTarget.isEmpty)
        }
    }

    @Test("sig keygen and verify-batch")
    func signatures() throws {
        let seed = [UInt8](repeating: 7, count: 32)
        let keygen = try JSONDecoder().decode(KeygenOutput.self,
                                              from: Data(try Self.run(["sig", "keygen", "--seed-file", "-", "--json"],
                                                                      stdin: Data(HexCoding.encode(seed).utf8)).utf8))
        let key = Ed25519.SigningKey(seed: seed)
        #expect(keygen == KeygenOutput(seed: HexCoding.encode(seed), pk: HexCoding.encode(key.publicKey)))

        let good = SignatureItem(publicKey: key.publicKey, signature: key.sign(message: [1, 2]), message: [1, 2])
        var bad = good
        bad.message = [1, 3]
        let file = Self.temporary("batch")
        defer { try? FileManager.default.removeItem(at: file) }
        let lines = try [good, bad].map { try jsonText(SignatureLine($0)) }.joined(separator: "\n")
        try Data(lines.utf8).write(to: file)
        let output = try Self.roundTrip(VerifyBatchOutput.self,
                                        try Self.run(["sig", "verify-batch", file.path, "--backend", "scalar", "--json"], status: 1))
        #expect(output.results == [true, false] && output.count == 2 && output.valid == 1 && output.invalid == 1)
        #expect(output.backend.contains("scalar"))
    }

    @Test("gen-chain, verify-chain and utxo-info on 3 blocks")
    func chain() throws {
        let file = Self.temporary("chain"), datadir = Self.temporary("datadir")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: datadir) }
        let generated = try Self.roundTrip(GenChainOutput.self,
                                           try Self.run(["gen-chain", "--blocks", "3", "--out", file.path, "--json"]))
        #expect(generated.blocks == 3 && generated.height == 3 && generated.note != nil)
        for mode in [[], ["--sequential"]] {
            try? FileManager.default.removeItem(at: datadir)
            let verified = try Self.roundTrip(VerifyChainOutput.self,
                                              try Self.run(["verify-chain", file.path, "--datadir", datadir.path, "--json"] + mode))
            #expect(verified.valid && verified.error.value == nil && verified.utxoDigest == generated.utxoDigest)
            #expect((verified.stages == nil) == !mode.isEmpty)
        }
        let info = try Self.roundTrip(UTXOInfoOutput.self, try Self.run(["utxo-info", "--datadir", datadir.path, "--json"]))
        #expect(info.height == 3 && info.digest == generated.utxoDigest && info.count == UInt64(generated.utxoCount))
    }

    @Test("gen-chain --signatures writes verify-batch lines in one stable form that sig verify-batch accepts")
    func signatureLines() throws {
        let file = Self.temporary("chain"), signatures = Self.temporary("signatures")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: signatures) }
        _ = try Self.run(["gen-chain", "--blocks", "102", "--txs-per-block", "2", "--out", file.path, "--signatures", signatures.path])
        let lines = try String(contentsOf: signatures, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(!lines.isEmpty)
        for line in lines {
            let decoded = try JSONDecoder().decode(SignatureLine.self, from: Data(line.utf8))
            #expect(decoded.pk?.count == 64 && decoded.sig?.count == 128 && decoded.msg != nil)
            #expect(try jsonText(decoded) == line)
        }
        let verified = try Self.roundTrip(VerifyBatchOutput.self,
                                          try Self.run(["sig", "verify-batch", signatures.path, "--backend", "scalar", "--json"]))
        #expect(verified.count == lines.count && verified.invalid == 0)
    }
}
