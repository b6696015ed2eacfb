import ArgumentParser
import ChainGen
import ChainState
import Foundation
import Governance
import Masternodes
import Primitives

/// `rusty gen-chain`: a deterministic chain from ChainGen as a block file (and its signatures).
struct GenChainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-chain",
        abstract: "Generate a deterministic, realistic chain as a block file, and print the UTXO digest it should end with.",
        discussion: """
            Coinbases mature after 100 blocks, so transactions start at block 101; the first blocks after \
            that fan coins out until there are enough to spend --txs-per-block per block, and the summary \
            says when the mean falls short. With --out - the blocks go to standard output and the summary \
            to standard error. Both outputs are opened (written in place, never replaced) before either \
            is truncated.
            """
    )

    @Option(help: "Network (regtest; its parameters decide difficulty and maturity).")
    var network = "regtest"

    @Option(help: "Number of blocks after genesis (0 to 10,000,000).")
    var blocks: Int

    @Option(name: .customLong("txs-per-block"), help: "Transactions per block once coinbases have matured (0 to 20,000).")
    var transactionsPerBlock = 20

    @Option(help: "Seed of the deterministic generator.")
    var seed: UInt64 = 1

    @Option(help: "Output block file ('-': standard output).")
    var out: String

    @Option(help: ArgumentHelp("Also write every signature of the chain, in order, as verify-batch JSONL ('-': standard output).",
                               discussion: "For comparing `rusty verify-chain` with `rusty sig verify-batch` on the same signatures."))
    var signatures: String?

    @Option(help: ArgumentHelp("Register this many masternodes (0 to 100,000) as soon as coins allow, then keep a steady mix of updates, revokes and collateral spends.",
                               discussion: "Registrations alternate internal and external collateral, at most 250 a block, funded by the largest matured coin."))
    var masternodes = 0

    @Flag(help: ArgumentHelp("With --masternodes: rounds of governance proposals voted on by the masternodes once they are ready.",
                             discussion: "Each round raises the block size limit (approved; a later block uses the new room), lets the masternodes abstain on the finality depth (rejected) and votes down a relay fee change (slashed: its collateral burned)."))
    var governance = false
    @Option(name: .customLong("masternode-activity"),
            help: ArgumentHelp("With --masternodes: 'full' (registrations, then updates, revokes and collateral spends) or 'none' (registrations only).",
                               discussion: "'none' leaves the blocks after the registrations with the ordinary mix alone, the same workload as a chain without masternodes."))
    var masternodeActivity = MasternodeActivityOption.full

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        try checkRange(blocks, "--blocks", 0...10_000_000)
        try checkRange(transactionsPerBlock, "--txs-per-block", 0...20_000)
        try checkRange(masternodes, "--masternodes", 0...100_000)
        if governance && masternodes == 0 { throw ValidationError("--governance needs --masternodes N: masternodes vote on the proposals") }
        if masternodes == 0 && masternodeActivity != .full { throw ValidationError("--masternode-activity needs --masternodes") }
        if out == "-" && signatures == "-" { throw ValidationError("--out and --signatures cannot both be standard output") }
    }

    func run() throws {
        let parameters = try consensusParameters(network)
        var outputs = [(flag: "--out", path: out)]
        if let signatures { outputs.append((flag: "--signatures", path: signatures)) }
        let files = try OutputFile.openAll(outputs)
        let blockFile = files[0]
        let signatureFile = files.count > 1 ? files[1] : nil
        var generator = ChainGenerator(parameters: parameters, seed: seed, transactionsPerBlock: transactionsPerBlock)
        generator.recordsSignatures = signatureFile != nil
        if masternodes > 0 {
            let masternodeParameters: MasternodeParameters
            do { masternodeParameters = try MasternodeParameters(parameters.chain) } catch { throw CommandFailure(.invalid, "\(error)") }
            generator.enableMasternodes(count: masternodes, parameters: masternodeParameters, updates: masternodeActivity == .full)
        }
        if governance {
            do { generator.enableGovernance(parameters: try GovernanceParameters(parameters.chain)) } catch { throw CommandFailure(.invalid, "\(error)") }
        }
        let progress = ProgressLine()
        let start = DispatchTime.now().uptimeNanoseconds
        var bytes = 0
        var pendingOutput = [UInt8]()
        // Sorted keys: without them the encoder's key order changes from run to run.
        let lineEncoder = JSONEncoder()
        lineEncoder.outputFormatting = .sortedKeys
        // Blocks that could carry transactions (a coinbase had matured) and how many they carry.
        let maturity = Int(parameters.coinbaseMaturity)
        var spendingBlocks = 0, spendingTransactions = 0
        for index in 0..<blocks {
            let block = generator.nextBlock()
            if index + 1 > maturity {
                spendingBlocks += 1
                spendingTransactions += block.transactions.count - 1
            }
            let record = BlockFile.encodeRecord(block, magic: parameters.magic)
            bytes += record.count
            pendingOutput += record
            if pendingOutput.count > 1 << 22 {
                try blockFile.write(pendingOutput)
                pendingOutput.removeAll(keepingCapacity: true)
            }
            if let signatureFile {
                var lines = [UInt8]()
                for item in generator.takeSignatures() {
                    lines += try lineEncoder.encode(SignatureLine(item))
                    lines.append(UInt8(ascii: "\n"))
                }
                try signatureFile.write(lines)
            }
            progress.update("gen-chain: block \(index + 1)/\(blocks), \(generator.transactionCount) transactions, \(generator.signatureCount) signatures")
        }
        try blockFile.write(pendingOutput)
        progress.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let (count, total, digest) = generator.utxoDigest()
        let mean = spendingBlocks == 0 ? 0 : Double(spendingTransactions) / Double(spendingBlocks)
        let shortfall = shortfallNote(mean: mean, spendingBlocks: spendingBlocks, maturity: maturity)
        // The summary never mixes into a block or signature stream on standard output.
        let toStandardError = files.contains { $0.isStandardOutput }
        let emit: (String) -> Void = { toStandardError ? printError($0) : print($0) }
        if json {
            emit(try jsonText(GenChainOutput(
                network: network, blocks: blocks, height: generator.height, transactions: generator.transactionCount,
                inputs: generator.inputCount, signatures: generator.signatureCount, bytes: bytes,
                utxoCount: count, utxoTotal: total.baseUnits, utxoDigest: digest.hex, seconds: seconds, file: out,
                txsPerBlockRequested: transactionsPerBlock, spendingBlocks: spendingBlocks,
                meanTxsPerSpendingBlock: (mean * 100).rounded() / 100, note: shortfall,
                masternodes: generator.masternodeActivity, masternodeListSize: masternodes > 0 ? generator.masternodeCount : nil,
                governance: generator.governanceActivity)))
        } else {
            let perBlock = spendingBlocks == 0 ? ""
                : "transactions per block after maturity (block \(maturity + 1) on): \(String(format: "%.1f", mean)) mean, \(transactionsPerBlock) asked\n"
            emit("""
                wrote \(blocks) blocks (height \(generator.height)) to \(out == "-" ? "standard output" : out): \(bytes) bytes
                transactions \(generator.transactionCount), inputs \(generator.inputCount), signatures \(generator.signatureCount)
                \(perBlock)expected UTXO set: \(count) coins, \(total) RUST
                expected UTXO digest: \(digest.hex)
                """)
            if let activity = generator.masternodeActivity {
                emit("""
                    masternode transactions: \(activity.registrations) registrations (\(activity.internalCollateral) internal collateral, \
                    \(activity.externalCollateral) external), \(activity.updateServices) update-service, \(activity.updateRegistrars) update-registrar, \
                    \(activity.revokes) revokes, \(activity.collateralSpends) collateral spends
                    masternode list at the end: \(generator.masternodeCount) entries
                    """)
                if let governed = generator.governanceActivity {
                    emit("""
                        governance: \(governed.proposals) proposals (\(governed.approved) approved, \(governed.rejected) rejected, \(governed.slashed) slashed), \
                        \(governed.votes) votes (\(governed.changedVotes) changed), \(governed.blocksAboveInitialLimit) blocks above the initial size limit
                        """)
                }
                if activity.registrations < masternodes {
                    printError("rusty: gen-chain: note: \(activity.registrations) of \(masternodes) masternodes registered: each needs \(parameters.chain.masternodes.collateralBaseUnits ?? 0) base units of matured coins; ask for more blocks")
                }
            }
            if let shortfall { printError("rusty: gen-chain: note: " + shortfall) }
        }
    }

    /// Says why the chain carries fewer transactions than asked, when it does (over 10% short).
    func shortfallNote(mean: Double, spendingBlocks: Int, maturity: Int) -> String? {
        guard transactionsPerBlock > 0 else { return nil }
        if spendingBlocks == 0 {
            return "no transactions: coinbases mature after \(maturity) blocks, so only blocks from \(maturity + 1) on can spend; ask for more than \(maturity) blocks"
        }
        guard mean < 0.9 * Double(transactionsPerBlock) else { return nil }
        return String(format: "the blocks after maturity carry %.1f transactions on average, not %d: the first of them fan out the few matured coins until there are enough to spend (a few blocks), and a block never exceeds the network's size limit",
                      mean, transactionsPerBlock)
    }
}

/// `gen-chain --masternode-activity`: what masternodes do once registered.
enum MasternodeActivityOption: String, ExpressibleByArgument, CaseIterable {
    case none, full
}
