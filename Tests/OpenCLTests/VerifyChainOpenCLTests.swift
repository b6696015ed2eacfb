import Foundation
import Testing
import TestSupport

/// `rusty verify-chain --backend opencl` verifies on the devices in both modes (the
/// sequential mode once verified on the CPU while asked for OpenCL).
@Suite(.serialized) struct VerifyChainOpenCLTests {
    static func json(_ result: ProcessResult) throws -> [String: Any] {
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
    }

    static func temporary(_ label: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-\(label)-\(UUID().uuidString)")
    }

    @Test("verify-chain --sequential --backend opencl reports the OpenCL verifier as the engine that ran, and gen-chain's digest")
    func sequentialUsesOpenCL() throws {
        let file = Self.temporary("vc-opencl").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: file) }
        let generated = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "110", "--txs-per-block", "4",
                                                                   "--seed", "23", "--out", file.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderrText)")
        let expected = try Self.json(generated)
        for (arguments, openCL) in [(["--sequential", "--backend", "opencl"], true), (["--backend", "opencl"], true),
                                    (["--sequential", "--backend", "scalar"], false)] {
            let datadir = Self.temporary("vc-opencl-data")
            defer { try? FileManager.default.removeItem(at: datadir) }
            let result = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderrText)")
            let report = try Self.json(result)
            #expect(report["utxoDigest"] as? String == expected["utxoDigest"] as? String, "\(arguments)")
            #expect((report["signatures"] as? Int ?? 0) > 0 && report["signatures"] as? Int == expected["signatures"] as? Int)
            let backend = report["backend"] as? String ?? ""
            #expect(backend.hasPrefix("opencl(") == openCL && !backend.contains("+"), "\(arguments): \(backend)")
        }
    }
}
