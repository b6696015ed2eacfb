import Foundation
import Testing
import TestSupport

@Suite(.serialized)
struct MineCommandTests {
    static func temporary() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-mine-\(UUID().uuidString)")
    }

    @Test("rusty mine on regtest with every backend: blocks the chain state accepts, paying the given key",
          arguments: ["scalar", "simd", "opencl", "auto"])
    func mineWithBackend(backend: String) throws {
        let datadir = Self.temporary()
        defer { try? FileManager.default.removeItem(at: datadir) }
        let key = String(repeating: "ab", count: 32)
        let result = try runProcess(TestPaths.rustyExecutable, ["mine", "--datadir", datadir.path, "--blocks", "4", "--backend", backend,
                                                                "--key", key, "--json"])
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n")
        #expect(lines.count == 5, "\(result.stdoutText)")
        let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", datadir.path, "--json"])
        let object = try JSONSerialization.jsonObject(with: info.stdout) as! [String: Any]
        #expect(object["height"] as? Int == 4)
        #expect(object["count"] as? Int == 4)
        // A second run continues the same chain.
        let more = try runProcess(TestPaths.rustyExecutable, ["mine", "--datadir", datadir.path, "--blocks", "2", "--backend", backend, "--key", key])
        #expect(more.status == 0 && more.stdoutText.contains("height 6"), "\(more.stdoutText)")
    }

    @Test("SIGINT stops mining cleanly with the mined blocks kept")
    func interrupt() throws {
        let datadir = Self.temporary()
        defer { try? FileManager.default.removeItem(at: datadir) }
        let process = Process()
        process.executableURL = TestPaths.rustyExecutable
        process.arguments = ["mine", "--datadir", datadir.path, "--backend", "simd", "--key", String(repeating: "cd", count: 32)]
        // A file, not a pipe: regtest blocks come fast and a full pipe would block the miner.
        let outputFile = Self.temporary()
        defer { try? FileManager.default.removeItem(at: outputFile) }
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = FileHandle.nullDevice
        try process.run()
        sleep(2)
        process.interrupt()
        process.waitUntilExit()
        let text = try String(contentsOf: outputFile, encoding: .utf8)
        #expect(process.terminationStatus == 0)
        #expect(text.contains("stopped by signal"), "\(text)")
        let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", datadir.path, "--json"])
        let object = try JSONSerialization.jsonObject(with: info.stdout) as! [String: Any]
        #expect((object["height"] as? Int ?? 0) > 0)
    }

    @Test("bad arguments are usage errors")
    func badArguments() throws {
        for arguments in [["--network", "moonnet"], ["--address", "zz"], ["--blocks", "0"], ["--backend", "gpu"]] {
            let result = try runProcess(TestPaths.rustyExecutable, ["mine", "--datadir", "/tmp/unused"] + arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderrText)")
        }
    }
}
