import ChainParams
import ChainState
import Consensus
import Foundation
import Mempool
import Primitives
import Testing
import TestSupport

/// `rusty gen-txs` over a `rusty gen-chain` chain loaded by `rusty verify-chain`: every line is
/// accepted, in order, by a mempool on that chain's tip; chain depth, formats, bad arguments.
@Suite(.serialized)
struct GenTxsCommandTests {
    static let chainOptions = ["--blocks", "104", "--txs-per-block", "20", "--seed", "5"]

    /// The chain's block file and a datadir verify-chain built from it (shared by the tests).
    static let chain: Result<(directory: URL, tipHash: String), Error> = Result {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-gen-txs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        let file = base.appendingPathComponent("chain.blk"), datadir = base.appendingPathComponent("datadir")
        let generated = try runProcess(TestPaths.rustyExecutable, ["gen-chain"] + chainOptions + ["--out", file.path])
        guard generated.status == 0 else { throw Failure("gen-chain: \(generated.stderrText)") }
        let verified = try runProcess(TestPaths.rustyExecutable, ["verify-chain", file.path, "--datadir", datadir.path, "--json"])
        guard verified.status == 0 else { throw Failure("verify-chain: \(verified.stderrText)") }
        let state = try ChainState(directory: datadir.path, parameters: parameters, cacheMiB: 16)
        return (datadir, state.tip.hash.hex)
    }

    static let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// A pool on a fresh copy of the chain's datadir (each test's pool starts empty).
    static func pool() throws -> (Mempool, cleanup: () -> Void) {
        let (directory, _) = try chain.get()
        let copy = directory.deletingLastPathComponent().appendingPathComponent("copy-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: directory, to: copy)
        let state = try ChainState(directory: copy.path, parameters: parameters, cacheMiB: 16)
        let pool = Mempool(chain: ChainService(state), parameters: parameters, policy: MempoolPolicy(parameters.chain.relayPolicy))
        return (pool, { try? FileManager.default.removeItem(at: copy) })
    }

    static func genTxs(_ arguments: [String]) throws -> ProcessResult {
        try runProcess(TestPaths.rustyExecutable, ["gen-txs"] + chainOptions + arguments)
    }

    static func summary(_ text: String) throws -> [String: Any] {
        let line = text.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    static func decodeHexLines(_ text: String) throws -> [Transaction] {
        try text.split(separator: "\n").map { line in
            let bytes = try #require(HexCoding.decode(line), "not hex: \(line.prefix(40))")
            return try Transaction(decoding: bytes)
        }
    }

    @Test("every transaction is accepted in file order by a mempool on the chain's tip, with a spread of fee rates")
    func everyLineAccepted() throws {
        let result = try Self.genTxs(["--count", "60", "--json"])
        #expect(result.status == 0, "\(result.stderrText)")
        let summary = try Self.summary(result.stderrText)
        #expect(summary["transactions"] as? Int == 60)
        #expect(summary["tipHash"] as? String == (try Self.chain.get().tipHash), "gen-txs rebuilt another chain than gen-chain wrote")
        let transactions = try Self.decodeHexLines(result.stdoutText)
        #expect(transactions.count == 60)
        let (pool, cleanup) = try Self.pool()
        defer { cleanup() }
        let minimum = Self.parameters.chain.relayPolicy.minRelayFeeRate
        var rates = Set<UInt64>()
        for (index, transaction) in transactions.enumerated() {
            let verdict = pool.submit(transaction, source: "test")
            let entry = try #require(verdict.entry, "line \(index + 1) rejected: \(verdict.rejection.map(\.description) ?? "")")
            #expect(entry.feeRate >= minimum)
            #expect(entry.transaction.inputs.count == 1 && entry.transaction.outputs.count == 2)
            rates.insert(entry.feeRate)
        }
        #expect(pool.count == 60)
        #expect(rates.count > 10, "fee rates do not spread: \(rates.sorted())")
        // Independent payments: nothing spends another pool transaction.
        #expect(pool.entries().allSatisfy { $0.depends.isEmpty })
    }

    @Test("--chain-depth 5: chains of five unconfirmed spends, all accepted, within the ancestor and descendant limits")
    func chainDepth() throws {
        let result = try Self.genTxs(["--count", "23", "--chain-depth", "5", "--out", "-"])
        #expect(result.status == 0, "\(result.stderrText)")
        let transactions = try Self.decodeHexLines(result.stdoutText)
        #expect(transactions.count == 23)
        let (pool, cleanup) = try Self.pool()
        defer { cleanup() }
        for (index, transaction) in transactions.enumerated() {
            let verdict = pool.submit(transaction, source: "test")
            #expect(verdict.entry != nil, "line \(index + 1): \(verdict.rejection.map(\.description) ?? "")")
        }
        let ancestorCounts = transactions.map { pool.ancestors(of: $0.txid).count }
        // Chains of 5, 5, 5, 5 and 3: positions 0-4 then 0-2 unconfirmed ancestors.
        #expect(ancestorCounts == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2])
        #expect(transactions.allSatisfy { pool.descendants(of: $0.txid).count <= 4 })
        #expect(pool.descendants(of: transactions[0].txid).count == 4)
    }

    @Test("--format binary holds the same transactions as hex, length-prefixed; the summary goes to stdout with --out FILE")
    func binaryFormat() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-gen-txs-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        let hex = try Self.genTxs(["--count", "12", "--chain-depth", "3"])
        let binary = try Self.genTxs(["--count", "12", "--chain-depth", "3", "--format", "binary", "--out", file.path, "--json"])
        #expect(hex.status == 0 && binary.status == 0, "\(hex.stderrText) \(binary.stderrText)")
        #expect(try Self.summary(binary.stdoutText)["format"] as? String == "binary")
        let bytes = [UInt8](try Data(contentsOf: file))
        var offset = 0
        var decoded = [Transaction]()
        while offset < bytes.count {
            try #require(offset + 4 <= bytes.count)
            let length = bytes[offset..<offset + 4].reversed().reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            try #require(offset + length <= bytes.count)
            decoded.append(try Transaction(decoding: Array(bytes[offset..<offset + length])))
            offset += length
        }
        #expect(decoded == (try Self.decodeHexLines(hex.stdoutText)))
        #expect(decoded.count == 12)
    }

    @Test("bad arguments exit non-zero with a message naming what is wrong")
    func badArguments() throws {
        let usage: [([String], String)] = [
            (["--chain-depth", "26"], "--chain-depth"),
            (["--chain-depth", "0"], "--chain-depth"),
            (["--count", "0"], "--count"),
            (["--min-fee-rate", "999"], "relay minimum"),
            (["--min-fee-rate", "5000", "--max-fee-rate", "4000"], "--max-fee-rate"),
            (["--format", "json"], "--format"),
            (["--network", "nonet"], "nonet"),
        ]
        for (arguments, message) in usage {
            let result = try Self.genTxs(arguments)
            #expect(result.status == 64, "\(arguments): \(result.status)")
            #expect(result.stderrText.contains(message), "\(arguments): \(result.stderrText)")
        }
        // More transactions than the chain's coins can make: exit 1, nothing written.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-gen-txs-\(UUID().uuidString).hex")
        try Data("keep".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let tooMany = try Self.genTxs(["--count", "100000", "--out", file.path])
        #expect(tooMany.status == 1)
        #expect(tooMany.stderrText.contains("at most") && tooMany.stderrText.contains("not 100000"), "\(tooMany.stderrText)")
        #expect(try String(contentsOf: file, encoding: .utf8) == "keep")
    }
}
