import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

/// gen-chain, verify-chain and utxo-info as a user runs them, including SIGKILL at random moments.
@Suite(.serialized)
struct ChainCommandTests {
    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-\(name)-\(UUID().uuidString)")
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
    }

    @Test("SIGKILL at random moments, then resuming, gives the uninterrupted run's digest and gen-chain's")
    func crashSafety() throws {
        let file = Self.temporary("chain").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: file) }
        let generated = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "260", "--txs-per-block", "12",
                                                                   "--seed", "99", "--out", file.path, "--json"])
        #expect(generated.status == 0, "\(generated.stderrText)")
        let expectedDigest = try Self.json(generated)["utxoDigest"] as! String

        let clean = Self.temporary("clean"), crashed = Self.temporary("crashed")
        defer { try? FileManager.default.removeItem(at: clean); try? FileManager.default.removeItem(at: crashed) }
        let uninterrupted = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", clean.path, "--json"])
        #expect(uninterrupted.status == 0, "\(uninterrupted.stderrText)")
        #expect(try Self.json(uninterrupted)["utxoDigest"] as? String == expectedDigest)

        var rng = SeededGenerator(seed: UInt64(Date().timeIntervalSince1970))
        var heights = [Int]()
        for _ in 0..<6 {
            let process = Process()
            process.executableURL = TestPaths.rustyExecutable
            process.arguments = ["verify-chain", file.path, "--datadir", crashed.path, "--dbcache", "1"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            usleep(UInt32.random(in: 30_000...900_000, using: &rng))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            // The state after each kill is consistent and readable.
            let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", crashed.path, "--json"])
            if info.status == 0 {
                heights.append(try Self.json(info)["height"] as! Int)
            } else {
                // Only possible when killed before the genesis state was first committed.
                #expect(heights.isEmpty && info.stderrText.contains("holds no chain state"), "\(info.stderrText)")
            }
        }
        #expect(heights == heights.sorted(), "the committed height never goes backwards: \(heights)")
        let resumed = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", crashed.path, "--json"])
        #expect(resumed.status == 0, "\(resumed.stderrText)")
        let report = try Self.json(resumed)
        #expect(report["utxoDigest"] as? String == expectedDigest)
        #expect(report["height"] as? Int == 260)
        let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", crashed.path, "--json"])
        #expect(try Self.json(info)["digest"] as? String == expectedDigest)
    }

    static func writeBlocks(_ blocks: [Block], to url: URL) throws {
        let magic = try ChainParameters.builtIn("regtest").magicBytes
        try Data(blocks.flatMap { BlockFile.encodeRecord($0, magic: magic) }).write(to: url)
    }

    @Test("a flipped signature byte: exit 1, the message names height, hash, transaction, input and rule; state at the block before")
    func badSignature() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        var generator = ChainGenerator(parameters: parameters, seed: 4, transactionsPerBlock: 5)
        var blocks = (0..<106).map { _ in generator.nextBlock() }
        let badIndex = 104
        // The first transaction after the first whose input 0 is signed by a single key (a
        // 64-byte signature first in its witness): the message names exactly it.
        let badTransaction = try #require(blocks[badIndex].transactions.indices.dropFirst(2).first {
            blocks[badIndex].transactions[$0].witnesses[0].first?.count == 64
        })
        blocks[badIndex].transactions[badTransaction].witnesses[0][0][10] ^= 0x20
        ChainGenerator.seal(&blocks[badIndex])
        let file = Self.temporary("bad").appendingPathExtension("blk"), datadir = Self.temporary("bad-data")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: datadir) }
        try Self.writeBlocks(blocks, to: file)
        let result = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path])
        #expect(result.status == 1)
        let message = result.stderrText
        #expect(message.contains("block 105 (\(blocks[badIndex].hash.hex)) rejected: script-signature (tx \(badTransaction), input 0)"), "\(message)")
        let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", datadir.path, "--json"])
        #expect(try Self.json(info)["height"] as? Int == 104)
    }

    @Test("a spend of a missing coin, a truncated file and a corrupted record: clear errors, state at the last valid block")
    func badFiles() throws {
        let parameters = try ChainParameters.builtIn("regtest")
        let consensus = try ConsensusParameters(parameters)
        var generator = ChainGenerator(parameters: consensus, seed: 6, transactionsPerBlock: 4)
        var blocks = (0..<104).map { _ in generator.nextBlock() }
        let file = Self.temporary("files").appendingPathExtension("blk"), datadir = Self.temporary("files-data")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: datadir) }

        // Missing coin.
        var missing = blocks
        missing[103].transactions[1].inputs[0].previousOutput = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 3, count: 32))!, index: 1)
        ChainGenerator.seal(&missing[103])
        try Self.writeBlocks(missing, to: file)
        let missingRun = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path])
        #expect(missingRun.status == 1)
        #expect(missingRun.stderrText.contains("block 104"), "\(missingRun.stderrText)")
        #expect(missingRun.stderrText.contains("tx-missing-input (tx 1, input 0)"), "\(missingRun.stderrText)")
        try FileManager.default.removeItem(at: datadir)

        // Truncated in the middle of the last record.
        try Self.writeBlocks(blocks, to: file)
        let full = try Data(contentsOf: file)
        try full.prefix(full.count - 10).write(to: file)
        let truncated = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path])
        #expect(truncated.status == 2)
        #expect(truncated.stderrText.contains("truncated"), "\(truncated.stderrText)")
        let afterTruncation = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", datadir.path, "--json"])
        #expect(try Self.json(afterTruncation)["height"] as? Int == 103)

        // A record whose bytes are not a block: the file offset is named.
        blocks = Array(blocks.prefix(2))
        var bytes = [UInt8](try Data(contentsOf: file).prefix(0))
        bytes += BlockFile.encodeRecord(blocks[0], magic: parameters.magicBytes)
        let secondOffset = bytes.count
        bytes += parameters.magicBytes + [5, 0, 0, 0] + [1, 2, 3, 4, 5]
        try Data(bytes).write(to: file)
        try? FileManager.default.removeItem(at: datadir)
        let corrupt = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path])
        #expect(corrupt.status == 2)
        #expect(corrupt.stderrText.contains("block record at byte \(secondOffset)"), "\(corrupt.stderrText)")
        let wrongMagic = Self.temporary("magic")
        defer { try? FileManager.default.removeItem(at: wrongMagic) }
        try Data([0, 1, 2, 3, 0, 0, 0, 0]).write(to: wrongMagic)
        let magicRun = try runProcess(TestPaths.rustyExecutable, ["verify-chain", wrongMagic.path, "--datadir", datadir.path])
        #expect(magicRun.status == 2 && magicRun.stderrText.contains("magic"), "\(magicRun.stderrText)")
    }

    @Test("gen-chain --txs-per-block 400: every block from the second after maturity carries 400; the mean says so; verify-chain agrees")
    func transactionsPerBlock() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        var generator = ChainGenerator(parameters: parameters, seed: 5, transactionsPerBlock: 400)
        let blocks = (0..<108).map { _ in generator.nextBlock() }
        let counts = blocks.dropFirst(100).map { $0.transactions.count - 1 }
        #expect(counts.first == 1, "block 101 fans the one matured coinbase out: \(counts)")
        #expect(counts.dropFirst().allSatisfy { $0 == 400 }, "\(counts)")

        let file = Self.temporary("wide").appendingPathExtension("blk"), datadir = Self.temporary("wide-data")
        defer { try? FileManager.default.removeItem(at: file); try? FileManager.default.removeItem(at: datadir) }
        let result = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "108", "--txs-per-block", "400", "--seed", "5",
                                                                "--out", file.path, "--json"])
        #expect(result.status == 0, "\(result.stderrText)")
        let summary = try Self.json(result)
        let mean = try #require(summary["meanTxsPerSpendingBlock"] as? Double)
        #expect(abs(mean - Double(1 + 7 * 400) / 8) < 0.01, "mean \(mean)")
        #expect(summary["spendingBlocks"] as? Int == 8)
        // 350 is under 90% of 400 (block 101 has one coin to spend): the summary says why.
        #expect((summary["note"] as? String)?.contains("fan out the few matured coins") == true, "\(summary)")
        #expect(summary["utxoDigest"] as? String == generator.utxoDigest().digest.hex, "the command and the library agree")
        let verified = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"])
        #expect(verified.status == 0, "\(verified.stderrText)")
        #expect(try Self.json(verified)["utxoDigest"] as? String == summary["utxoDigest"] as? String)

        // Too few blocks for any coin to mature: no transactions, and the summary says why.
        let short = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "20", "--txs-per-block", "400", "--out", "-"])
        #expect(short.status == 0)
        #expect(short.stderrText.contains("rusty: gen-chain: note: no transactions: coinbases mature after 100 blocks"), "\(short.stderrText)")
        #expect(short.stderrText.contains("wrote 20 blocks"), "with --out - the summary goes to standard error")
        #expect(!short.stdoutText.contains("wrote"), "standard output holds only the blocks")
    }

    @Test("gen-chain and utxo-info: out-of-range counts are usage errors that name the flag and range and show gen-chain's usage")
    func badArguments() throws {
        for (arguments, expected) in [(["--blocks=-1"], "--blocks must be between 0 and 10000000 (got -1)"),
                                      (["--blocks", "5", "--txs-per-block", "20001"], "--txs-per-block must be between 0 and 20000 (got 20001)"),
                                      (["--blocks", "5", "--txs-per-block=-3"], "--txs-per-block must be between 0 and 20000 (got -3)")] {
            let result = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--out", "/dev/null"] + arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderrText.hasPrefix("rusty: \(expected)\nUsage: rusty gen-chain "), "\(result.stderrText)")
        }
        let missing = Self.temporary("no-state")
        let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", missing.path])
        #expect(info.status == 1)
        #expect(info.stderrText == "rusty: \(missing.path): holds no chain state\n")
    }
}
