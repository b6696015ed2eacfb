import ArgumentParser
import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import OpenCLRuntime
import Primitives
import SignatureBackends

struct GenChainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-chain",
        abstract: "Generate a deterministic, realistic chain as a block file, and print the UTXO digest it should end with."
    )

    @Option(help: "Network (regtest; its parameters decide difficulty and maturity).")
    var network = "regtest"

    @Option(help: "Number of blocks after genesis.")
    var blocks: Int

    @Option(name: .customLong("txs-per-block"), help: "Transactions per block once coinbases have matured.")
    var transactionsPerBlock = 20

    @Option(help: "Seed of the deterministic generator.")
    var seed: UInt64 = 1

    @Option(help: "Output block file.")
    var out: String

    @Option(help: ArgumentHelp("Also write every signature of the chain, in order, as verify-batch JSONL.",
                               discussion: "For comparing `rusty verify-chain` with `rusty sig verify-batch` on the same signatures."))
    var signatures: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard blocks >= 0 && blocks <= 10_000_000 else { throw ValidationError("--blocks must be between 0 and 10,000,000") }
        guard transactionsPerBlock >= 0 && transactionsPerBlock <= 20_000 else { throw ValidationError("--txs-per-block must be between 0 and 20,000") }
    }

    func run() throws {
        let parameters = try consensusParameters(network)
        guard FileManager.default.createFile(atPath: out, contents: nil), let handle = FileHandle(forWritingAtPath: out) else {
            printError("rusty gen-chain: cannot create \(out)")
            throw ExitCode(1)
        }
        defer { try? handle.close() }
        var generator = ChainGenerator(parameters: parameters, seed: seed, transactionsPerBlock: transactionsPerBlock)
        var signatureHandle: FileHandle?
        if let signatures {
            guard FileManager.default.createFile(atPath: signatures, contents: nil), let opened = FileHandle(forWritingAtPath: signatures) else {
                printError("rusty gen-chain: cannot create \(signatures)")
                throw ExitCode(1)
            }
            signatureHandle = opened
            generator.recordsSignatures = true
        }
        defer { try? signatureHandle?.close() }
        let progress = ProgressLine()
        let start = DispatchTime.now().uptimeNanoseconds
        var bytes = 0
        var pendingOutput = [UInt8]()
        for index in 0..<blocks {
            let block = generator.nextBlock()
            let record = BlockFile.encodeRecord(block, magic: parameters.magic)
            bytes += record.count
            pendingOutput += record
            if pendingOutput.count > 1 << 22 { handle.write(Data(pendingOutput)); pendingOutput.removeAll(keepingCapacity: true) }
            if let signatureHandle {
                var lines = ""
                for item in generator.takeSignatures() {
                    lines += "{\"pk\":\"\(HexCoding.encode(item.publicKey))\",\"sig\":\"\(HexCoding.encode(item.signature))\",\"msg\":\"\(HexCoding.encode(item.message))\"}\n"
                }
                signatureHandle.write(Data(lines.utf8))
            }
            progress.update("gen-chain: block \(index + 1)/\(blocks), \(generator.transactionCount) transactions, \(generator.signatureCount) signatures")
        }
        handle.write(Data(pendingOutput))
        progress.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let (count, total, digest) = generator.utxoDigest()
        if json {
            print(jsonLine(["network": network, "blocks": blocks, "height": generator.height, "transactions": generator.transactionCount,
                            "inputs": generator.inputCount, "signatures": generator.signatureCount, "bytes": bytes,
                            "utxoCount": count, "utxoTotal": total.baseUnits, "utxoDigest": digest.hex, "seconds": seconds,
                            "file": out]))
        } else {
            print("""
                wrote \(blocks) blocks (height \(generator.height)) to \(out): \(bytes) bytes
                transactions \(generator.transactionCount), inputs \(generator.inputCount), signatures \(generator.signatureCount)
                expected UTXO set: \(count) coins, \(total) RUST
                expected UTXO digest: \(digest.hex)
                """)
        }
    }
}

