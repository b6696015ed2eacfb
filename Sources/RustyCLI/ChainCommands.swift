import ArgumentParser
import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

func consensusParameters(_ network: String) throws -> ConsensusParameters {
    do {
        return try ConsensusParameters(ChainParameters.builtIn(network))
    } catch {
        throw ValidationError("\(error)")
    }
}

func jsonLine(_ object: [String: Any]) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
    return String(decoding: data, as: UTF8.self)
}

/// A progress line on standard error, only when it is a terminal, at most a few times a second.
final class ProgressLine {
    private let enabled = isTerminal(2)
    private var last = DispatchTime.now().uptimeNanoseconds
    private var shown = false

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - last > 250_000_000 else { return }
        last = now
        shown = true
        printErrorNoNewline("\r\u{1B}[K" + text())
    }

    func finish() {
        if enabled && shown { printErrorNoNewline("\r\u{1B}[K") }
    }
}

func printErrorNoNewline(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

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

struct VerifyChainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-chain",
        abstract: "Fully validate the blocks of block files into a datadir's chain state (resumes where it stopped).",
        discussion: "Exit status: 0 all blocks valid; 1 a block was rejected (the state stays at the last valid block); 2 a malformed file."
    )

    @Argument(help: "Block files (records: magic | length u32 LE | block).")
    var files: [String]

    @Option(help: "Chain state directory.")
    var datadir: String

    @Option(help: "Network.")
    var network = "regtest"

    @Option(help: "Signature backend: auto, scalar, simd, avx2, avx512ifma.")
    var backend = "auto"

    @Option(help: "Signature verification threads (default: all cores).")
    var threads: Int?

    @Option(help: "UTXO cache size in MiB.")
    var dbcache = 256

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one block file") }
        guard dbcache >= 1 else { throw ValidationError("--dbcache must be at least 1 MiB") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func run() throws {
        let parameters = try consensusParameters(network)
        let signatureBackend: Ed25519.Backend
        if backend == "simd" {
            signatureBackend = Ed25519.Backend.detected
        } else if let parsed = Ed25519.Backend(rawValue: backend), parsed.isSupported {
            signatureBackend = parsed
        } else {
            throw ValidationError("unknown or unsupported --backend '\(backend)' (auto, scalar, simd, avx2, avx512ifma)")
        }
        let state: ChainState
        do {
            state = try ChainState(directory: datadir, parameters: parameters, cacheMiB: dbcache)
        } catch {
            printError("rusty verify-chain: \(error)")
            throw ExitCode(1)
        }
        state.signatureBackend = signatureBackend
        state.signatureThreads = threads ?? activeProcessorCount()
        let startHeight = state.tip.height
        let progress = ProgressLine()
        let start = DispatchTime.now().uptimeNanoseconds
        var blocks = 0, skipped = 0, transactions = 0, inputs = 0, signatures = 0
        var failure: String?
        var malformed = false
        outer: for file in files {
            do {
                try BlockFile.forEachRecord(path: file, magic: parameters.magic) { record in
                    let block: Block
                    do {
                        block = try Block(decoding: record.bytes)
                    } catch {
                        malformed = true
                        failure = "\(file): block record at byte \(record.offset): \(error)"
                        throw CancellationError()
                    }
                    if state.node(block.hash) != nil { skipped += 1; return }
                    do {
                        let result = try state.accept(block, encodedSize: record.bytes.count)
                        if result == .connected {
                            blocks += 1
                            transactions += state.connectedTransactions
                            inputs += state.connectedInputs
                            signatures += state.connectedSignatures
                        }
                    } catch let error as ChainStateError {
                        failure = "\(file): record at byte \(record.offset): \(error)"
                        throw CancellationError()
                    }
                    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    progress.update(String(format: "height %llu  %.0f blocks/s  %.0f tx/s  %.0f inputs/s  %.0f sigs/s  [%@]",
                                           state.tip.height, Double(blocks) / elapsed, Double(transactions) / elapsed,
                                           Double(inputs) / elapsed, Double(signatures) / elapsed, signatureBackend.resolved.rawValue))
                }
            } catch is CancellationError {
                break outer
            } catch {
                malformed = true
                failure = "\(error)"
                break outer
            }
        }
        progress.finish()
        let summary = try state.utxoSummary() // flushes: the state is at the last valid block
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if let failure { printError("rusty verify-chain: \(failure)") }
        if json {
            print(jsonLine(["valid": failure == nil, "blocks": blocks, "skipped": skipped, "startHeight": startHeight,
                            "height": summary.bestHeight, "bestHash": summary.bestHash.hex, "transactions": transactions,
                            "inputs": inputs, "signatures": signatures, "seconds": seconds, "utxoCount": summary.count,
                            "utxoTotal": summary.total.baseUnits, "utxoDigest": summary.digest.hex,
                            "backend": signatureBackend.resolved.rawValue, "error": failure ?? NSNull()]))
        } else {
            print("""
                verified \(blocks) blocks (\(skipped) already known) in \(String(format: "%.2f", seconds)) s: height \(startHeight) -> \(summary.bestHeight)
                transactions \(transactions), inputs \(inputs), signatures \(signatures) (\(signatureBackend.resolved.rawValue))
                \(String(format: "%.0f blocks/s, %.0f signatures/s", Double(blocks) / max(seconds, 1e-9), Double(signatures) / max(seconds, 1e-9)))
                best block \(summary.bestHash.hex)
                UTXO set: \(summary.count) coins, \(summary.total) RUST, digest \(summary.digest.hex)
                """)
        }
        if failure != nil { throw ExitCode(malformed ? 2 : 1) }
    }
}

struct UTXOInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "utxo-info",
        abstract: "Best block, coin count, total amount and canonical digest of a datadir's UTXO set."
    )

    @Option(help: "Chain state directory.")
    var datadir: String

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let summary: UTXOSummary
        do {
            guard let network = try ChainState.storedNetwork(directory: datadir) else {
                printError("rusty utxo-info: \(datadir) holds no chain state")
                throw ExitCode(1)
            }
            summary = try ChainState(directory: datadir, parameters: try consensusParameters(network)).utxoSummary()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            printError("rusty utxo-info: \(error)")
            throw ExitCode(1)
        }
        if json {
            print(jsonLine(["height": summary.bestHeight, "bestHash": summary.bestHash.hex, "count": summary.count,
                            "total": summary.total.baseUnits, "digest": summary.digest.hex]))
        } else {
            print("""
                best block \(summary.bestHash.hex) (height \(summary.bestHeight))
                coins      \(summary.count)
                total      \(summary.total) RUST
                digest     \(summary.digest.hex)
                """)
        }
    }
}
