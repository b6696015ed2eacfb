import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

/// Issue #11: a lock script `CHECKMULTISIG` (0xAE) spent with the witness item
/// `ff ff ff ff ff ff ff ff` (n = 2^64 - 1) once trapped converting n to Int, killing the
/// verifier. Now it is a rejection naming the rule, in the pipeline and in `--sequential`.
@Suite(.serialized)
struct ScriptNumberCrashTests {
    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-\(name)-\(UUID().uuidString)")
    }

    static func json(_ result: ProcessResult) throws -> [String: Any] {
        let line = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    /// Blocks 1...101 (coinbases only; block 1's coinbase pays the anyone-can-spend script
    /// OP_1), then block 102: a transaction moving that coinbase to the lock script `0xAE`
    /// and one spending it with the 8-byte witness `ff..ff`.
    static func crashChain() throws -> (blocks: [Block], badTransaction: Int) {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        var generator = ChainGenerator(parameters: parameters, seed: 11, transactionsPerBlock: 0)
        var blocks = (0..<102).map { _ in generator.nextBlock() }
        blocks[0].transactions[0].outputs[0].lockScript = [Opcode.op1.rawValue]
        ChainGenerator.seal(&blocks[0])
        let funding = Transaction(version: 2, inputs: [TxIn(previousOutput: OutPoint(txid: blocks[0].transactions[0].txid, index: 0))],
                                  outputs: [TxOut(value: Amount.coins(10)!, lockScript: [Opcode.checkMultiSig.rawValue])],
                                  witnesses: [[]])
        let crash = Transaction(version: 2, inputs: [TxIn(previousOutput: OutPoint(txid: funding.txid, index: 0))],
                                outputs: [TxOut(value: Amount.coins(9)!, lockScript: [Opcode.op1.rawValue])],
                                witnesses: [[[UInt8](repeating: 0xFF, count: 8)]])
        blocks[101].transactions += [funding, crash]
        // Every later block builds on the altered one (PoW is trivial on regtest).
        for index in 1..<blocks.count {
            blocks[index].header.previousHash = blocks[index - 1].hash
            ChainGenerator.seal(&blocks[index])
        }
        return (blocks, 2)
    }

    @Test("CHECKMULTISIG with n = 2^64 - 1: verify-chain exits 1 naming script-multisig-counts, pipeline and --sequential, state at block 101")
    func multisigCountFromWitness() throws {
        let (blocks, badTransaction) = try Self.crashChain()
        let file = Self.temporary("script-number").appendingPathExtension("blk")
        defer { try? FileManager.default.removeItem(at: file) }
        let magic = try ChainParameters.builtIn("regtest").magicBytes
        try Data(blocks.flatMap { BlockFile.encodeRecord($0, magic: magic) }).write(to: file)
        let bad = blocks[101]
        let expected = "block 102 (\(bad.hash.hex)) rejected: script-multisig-counts (tx \(badTransaction), input 0)"
        for arguments in [[], ["--sequential"]] {
            let datadir = Self.temporary("script-number-data")
            defer { try? FileManager.default.removeItem(at: datadir) }
            let result = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"] + arguments)
            // A trap would end the process by a signal, not with status 1.
            #expect(result.status == 1, "\(arguments): status \(result.status), \(result.stderrText)")
            #expect(result.stderrText.contains(expected), "\(arguments): \(result.stderrText)")
            #expect(result.stderrText.contains("18446744073709551615"), "the message names n: \(result.stderrText)")
            let report = try Self.json(result)
            #expect(report["height"] as? Int == 101 && report["blocks"] as? Int == 101, "\(arguments): \(report)")
            let info = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", datadir.path, "--json"])
            #expect(info.status == 0, "\(info.stderrText)")
            let stored = try Self.json(info)
            #expect(stored["height"] as? Int == 101, "\(arguments): \(stored)")
            #expect(stored["bestHash"] as? String == blocks[100].hash.hex, "\(arguments): \(stored)")
        }
    }
}
