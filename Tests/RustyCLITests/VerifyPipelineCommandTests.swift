import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

/// `rusty verify-chain` as a pipeline against `--sequential`: backends, batch sizes,
/// --reindex, and a bad signature placed at random heights.
@Suite(.serialized)
struct VerifyPipelineCommandTests {
    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-\(name)-\(UUID().uuidString)")
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
    }

    @Test("every backend, batch size and --sequential give gen-chain's digest; --reindex rebuilds the same state from the datadir's blocks")
    func backendsAndReindex() throws {
        let file = Self.temporary("pipe").appendingPathExtension("blk")
        let signatures = Self.temporary("pipe-sigs").appendingPathExtension("jsonl")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: signatures) }
        let generated = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "200", "--txs-per-block", "10",
                                                                   "--seed", "17", "--out", file.path, "--signatures", signatures.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderrText)")
        let expected = try Self.json(generated)
        let expectedDigest = expected["utxoDigest"] as! String

        // --signatures wrote every signature of the chain: verify-batch accepts them all.
        let batch = try runProcess(TestPaths.rustyExecutable, ["sig", "verify-batch", signatures.path, "--json"])
        #expect(batch.status == 0, "\(batch.stderrText)")
        let batchSummary = try JSONSerialization.jsonObject(with: Data(batch.stdoutText.utf8)) as? [String: Any]
        #expect(batchSummary?["count"] as? Int == expected["signatures"] as? Int && batchSummary?["invalid"] as? Int == 0)

        let runs: [[String]] = [
            [], ["--sequential"], ["--backend", "scalar", "--batch-size", "100"], ["--backend", "simd", "--threads", "1", "--batch-size", "700"],
            ["--backend", "auto", "--dbcache", "1", "--batch-size", "50"],
            ["--backend", "opencl", "--batch-size", "300"], // the ed25519_verify kernel on PoCL
        ]
        var first: URL?
        defer { if let first { try? FileManager.default.removeItem(at: first) } }
        for arguments in runs {
            let datadir = Self.temporary("pipe-data")
            let result = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderrText)")
            let report = try Self.json(result)
            #expect(report["utxoDigest"] as? String == expectedDigest, "\(arguments)")
            #expect(report["height"] as? Int == 200 && report["blocks"] as? Int == 200)
            #expect(report["signatures"] as? Int == expected["signatures"] as? Int, "\(arguments)")
            #expect(report["mode"] as? String == (arguments.contains("--sequential") ? "sequential" : "pipeline"))
            if !arguments.contains("--sequential") {
                let stages = report["stages"] as? [String: Double] ?? [:]
                #expect(Set(stages.keys).isSuperset(of: ["read", "contextFree", "utxo", "signatures", "commit"]), "\(stages)")
            }
            if first == nil { first = datadir } else { try? FileManager.default.removeItem(at: datadir) }
        }

        // Re-verify from the stored blocks, from scratch.
        let datadir = first!
        let reindexed = try runProcess(TestPaths.rustyExecutable, ["verify-chain", "--reindex", "--datadir", datadir.path, "--json"])
        #expect(reindexed.status == 0, "\(reindexed.stderrText)")
        let report = try Self.json(reindexed)
        #expect(report["utxoDigest"] as? String == expectedDigest)
        #expect(report["blocks"] as? Int == 200 && report["startHeight"] as? Int == 0 && report["reindex"] as? Bool == true)
        #expect(!FileManager.default.fileExists(atPath: datadir.path + ".reindex"))
        #expect(!FileManager.default.fileExists(atPath: datadir.path + ".reindex-old"))
        let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", datadir.path, "--json"])
        #expect(try Self.json(info)["digest"] as? String == expectedDigest)
        let sequentialReindex = try runProcess(TestPaths.rustyExecutable,
                                               ["verify-chain", "--reindex", "--sequential", "--datadir", datadir.path, "--json"])
        #expect(try Self.json(sequentialReindex)["utxoDigest"] as? String == expectedDigest)
        // Resuming with the file afterwards finds every block known.
        let again = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"])
        #expect(try Self.json(again)["skipped"] as? Int == 200)
    }

    @Test("a bad signature at a random height: pipeline and --sequential print the same rejection and stop at the block before")
    func badSignatureAtRandomHeight() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        var generator = ChainGenerator(parameters: parameters, seed: 8, transactionsPerBlock: 6)
        var blocks = (0..<140).map { _ in generator.nextBlock() }
        var rng = SeededGenerator(seed: UInt64(Date().timeIntervalSince1970))
        let index = Int.random(in: 102..<135, using: &rng)
        var location: (Int, Int)?
        search: for t in 1..<blocks[index].transactions.count {
            for (i, witness) in blocks[index].transactions[t].witnesses.enumerated()
            where witness.count == 2 && witness[0].count == 64 && witness[1].count == 32 {
                blocks[index].transactions[t].witnesses[i][0][40] ^= 0x10
                location = (t, i)
                break search
            }
        }
        let (tx, input) = try #require(location)
        ChainGenerator.seal(&blocks[index])
        for later in index + 1..<blocks.count {  // the later blocks build on the bad one
            blocks[later].header.previousHash = blocks[later - 1].hash
            blocks[later].header.nonce = ChainGenerator.mine(blocks[later].header)
        }
        let file = Self.temporary("pipe-bad").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: file) }
        let magic = try ChainParameters.builtIn("regtest").magicBytes
        try Data(blocks.flatMap { BlockFile.encodeRecord($0, magic: magic) }).write(to: file)
        let expected = "block \(index + 1) (\(blocks[index].hash.hex)) rejected: script-signature (tx \(tx), input \(input))"
        var digests = Set<String>()
        for arguments in [["--sequential"], [], ["--backend", "scalar", "--batch-size", "64"], ["--batch-size", "5000"]] {
            let datadir = Self.temporary("pipe-bad-data")
            defer { try? FileManager.default.removeItem(at: datadir) }
            let result = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderrText.contains(expected), "\(arguments): \(result.stderrText)")
            let report = try Self.json(result)
            #expect(report["height"] as? Int == index && report["blocks"] as? Int == index, "\(arguments)")
            let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", datadir.path, "--json"])
            let stored = try Self.json(info)
            #expect(stored["height"] as? Int == index, "\(arguments)")
            digests.insert(stored["digest"] as? String ?? "")
        }
        #expect(digests.count == 1, "\(digests)")
    }
}
