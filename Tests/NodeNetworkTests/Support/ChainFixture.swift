import ChainState
import Foundation
import Primitives
import TestSupport
import Wire

/// A chain made once per test class: `rusty gen-chain` writes the block file, `rusty
/// verify-chain` imports it into a template datadir (copied into each node that starts
/// with the chain) and gives the reference tip and UTXO digest.
struct ChainFixture: Sendable {
    let directory: URL
    let blockFile: URL
    /// A datadir root: `template/regtest` holds the imported chain.
    let template: URL
    let height: Int
    let tipHash: String
    let utxoDigest: String
    /// Bytes of the block file (the blocks as they go over the wire, plus 8 per block).
    let bytes: Int

    static let regtestMagic: [UInt8] = [0xfa, 0x1c, 0xe0, 0xde]

    static func make(_ label: String, blocks: Int, transactionsPerBlock: Int, seed: UInt64) throws -> ChainFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-chain-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            let blockFile = directory.appendingPathComponent("blocks.dat")
            let generated = try runJSON(["gen-chain", "--network", "regtest", "--blocks", String(blocks),
                                         "--txs-per-block", String(transactionsPerBlock), "--seed", String(seed),
                                         "--out", blockFile.path, "--json"], timeout: 240)
            let template = directory.appendingPathComponent("template")
            let verified = try runJSON(["verify-chain", "--network", "regtest", "--datadir", template.appendingPathComponent("regtest").path,
                                        "--backend", "simd", "--threads", "1", "--json", blockFile.path], timeout: 240)
            guard verified["valid"] as? Bool == true, let height = (verified["height"] as? NSNumber)?.intValue,
                  let tip = verified["bestHash"] as? String, let digest = verified["utxoDigest"] as? String else {
                throw NetworkTestError("verify-chain of the generated chain: \(verified)")
            }
            // Two independent references must agree before either is trusted.
            guard generated["utxoDigest"] as? String == digest, height == blocks else {
                throw NetworkTestError("gen-chain and verify-chain disagree: \(generated) vs \(verified)")
            }
            print("[chain] \(label): \(blocks) blocks, tip \(tip), UTXO digest \(digest)")
            let bytes = (generated["bytes"] as? NSNumber)?.intValue ?? 0
            return ChainFixture(directory: directory, blockFile: blockFile, template: template, height: height, tipHash: tip,
                                utxoDigest: digest, bytes: bytes)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// The headers of blocks 1...height, in order, read back from the block file.
    func headers() throws -> [BlockHeader] {
        var headers = [BlockHeader]()
        try BlockFile.forEachRecord(path: blockFile.path, magic: Self.regtestMagic) { record in
            headers.append(try BlockPayload(bytes: record.bytes).header)
        }
        return headers
    }

    /// The encoded blocks 1...height, by block hash.
    func blocksByHash() throws -> [Hash256: [UInt8]] {
        var blocks = [Hash256: [UInt8]]()
        try BlockFile.forEachRecord(path: blockFile.path, magic: Self.regtestMagic) { record in
            blocks[try BlockPayload(bytes: record.bytes).hash] = record.bytes
        }
        return blocks
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    private static func runJSON(_ arguments: [String], timeout: Double) throws -> [String: Any] {
        let result = try runProcess(TestPaths.rustyExecutable, arguments, timeout: timeout)
        guard result.status == 0, let line = result.stdoutText.split(separator: "\n").last,
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw NetworkTestError("rusty \(arguments[0]) failed (status \(result.status), timed out: \(result.timedOut)): \(result.stderrText.suffix(2000))")
        }
        return object
    }
}
