import ArgumentParser
import ChainGen
import Consensus
import Foundation
import Primitives

/// `rusty gen-txs`: a stream of valid, standard payments over the coins of a `rusty gen-chain` chain.
struct GenTxsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-txs",
        abstract: "Generate valid, standard transactions spending the coins of a chain made by `rusty gen-chain`.",
        discussion: """
            Give the gen-chain options the chain was made with (--network, --blocks, --txs-per-block, --seed): the \
            generator is deterministic, so it rebuilds the same chain and its keys; the summary prints the tip hash \
            to compare with the node's. Each transaction is a simple payment (one input, two outputs: a payment and \
            the change) at a fee rate drawn from --min-fee-rate..--max-fee-rate (base units per 1,000 bytes). With \
            --chain-depth D each confirmed coin starts a chain of D transactions, each spending the change of the one \
            before (within the pool's ancestor and descendant limits). Every transaction of one output is accepted, \
            in order, by a mempool on that chain's tip. --format hex writes one transaction a line (for \
            `rusty rpc sendrawtransaction`); --format binary writes each as a 4-byte little-endian length and the \
            encoded bytes. The summary goes to standard output, or to standard error when the transactions do.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case hex, binary
    }

    @Option(help: "Network of the chain (regtest).")
    var network = "regtest"

    @Option(help: "The chain's --blocks (0 to 10,000,000).")
    var blocks: Int

    @Option(name: .customLong("txs-per-block"), help: "The chain's --txs-per-block (0 to 20,000).")
    var transactionsPerBlock = 20

    @Option(help: "The chain's --seed.")
    var seed: UInt64 = 1

    @Option(help: "Transactions to write (1 to 10,000,000).")
    var count = 1_000

    @Option(name: .customLong("chain-depth"), help: "Transactions per chain of unconfirmed spends (1: independent payments).")
    var chainDepth = 1

    @Option(name: .customLong("min-fee-rate"), help: "Lowest fee rate, base units per 1,000 bytes (default: the network's relay minimum).")
    var minFeeRate: UInt64?

    @Option(name: .customLong("max-fee-rate"), help: "Highest fee rate, base units per 1,000 bytes (default: 20 times the lowest).")
    var maxFeeRate: UInt64?

    @Option(help: "Output format: hex (one transaction a line) or binary (length-prefixed).")
    var format = Format.hex

    @Option(help: "Output file ('-': standard output).")
    var out = "-"

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        try checkRange(blocks, "--blocks", 0...10_000_000)
        try checkRange(transactionsPerBlock, "--txs-per-block", 0...20_000)
        try checkRange(count, "--count", 1...10_000_000)
        let relay = try consensusParameters(network).chain.relayPolicy
        // A chain of D: its last transaction has D - 1 ancestors, its first D - 1 descendants.
        let depthLimit = min(relay.ancestorLimitCount, relay.descendantLimitCount)
        try checkRange(chainDepth, "--chain-depth", 1...max(1, depthLimit))
        let rates = try feeRates()
        guard rates.lowerBound >= relay.minRelayFeeRate else {
            throw ValidationError("--min-fee-rate: \(rates.lowerBound) is below the network's relay minimum \(relay.minRelayFeeRate); the pool would refuse those transactions")
        }
    }

    /// The fee-rate range asked for (defaults from the network).
    func feeRates() throws -> ClosedRange<UInt64> {
        let relay = try consensusParameters(network).chain.relayPolicy
        let lowest = minFeeRate ?? max(1, relay.minRelayFeeRate)
        let (twenty, overflow) = lowest.multipliedReportingOverflow(by: 20)
        let highest = maxFeeRate ?? (overflow ? UInt64.max : twenty)
        guard lowest > 0 else { throw ValidationError("--min-fee-rate must be above 0") }
        guard highest >= lowest else { throw ValidationError("--max-fee-rate (\(highest)) is below --min-fee-rate (\(lowest))") }
        guard highest <= 100_000_000 else { throw ValidationError("--max-fee-rate: \(highest) is above 100,000,000 base units per 1,000 bytes") }
        return lowest...highest
    }

    func run() throws {
        let parameters = try consensusParameters(network)
        let relay = parameters.chain.relayPolicy
        let rates = try feeRates()
        let start = DispatchTime.now().uptimeNanoseconds
        let progress = ProgressLine()
        var generator = ChainGenerator(parameters: parameters, seed: seed, transactionsPerBlock: transactionsPerBlock)
        var tip = parameters.chain.genesisBlock().header.hash
        for index in 0..<blocks {
            tip = generator.nextBlock().header.hash
            progress.update("gen-txs: rebuilding the chain: block \(index + 1)/\(blocks)")
        }
        let coins = generator.spendableSingleKeyCoins
        var stream: TransactionStream
        do {
            stream = try TransactionStream(coins: coins, options: .init(chainDepth: chainDepth, feeRates: rates,
                                                                         dustThreshold: relay.dustThreshold, seed: seed))
        } catch {
            throw CommandFailure(.invalid, "gen-txs: \(error)")
        }
        guard count <= stream.capacity else {
            throw CommandFailure(.invalid, """
                gen-txs: the chain has \(stream.usableCoinCount) spendable single-key coins large enough for a chain of \(chainDepth) \
                at up to \(rates.upperBound) per 1,000 bytes (of \(coins.count) single-key coins), so at most \(stream.capacity) \
                transactions, not \(count): generate the chain with more --blocks or --txs-per-block, or raise --chain-depth
                """)
        }
        // The ancestor and descendant byte limits bound a chain's bytes too.
        let chainBytes = chainDepth * stream.transactionBytes
        let byteLimit = min(relay.ancestorLimitKilobytes, relay.descendantLimitKilobytes) * 1_000
        guard chainBytes <= byteLimit else {
            throw CommandFailure(.invalid, "gen-txs: a chain of \(chainDepth) is \(chainBytes) bytes, above the pool's package limit of \(byteLimit)")
        }

        let output = try OutputFile.openAll([(flag: "--out", path: out)])[0]
        var pending = [UInt8]()
        var bytes = 0, totalFee: UInt64 = 0, lowestRate = UInt64.max, highestRate: UInt64 = 0, deepest = 0
        for index in 0..<count {
            guard let payment = stream.next() else { break } // capacity was checked: not reached
            let encoded = payment.transaction.encoded
            switch format {
            case .hex:
                pending += Array(HexCoding.encode(encoded).utf8)
                pending.append(UInt8(ascii: "\n"))
            case .binary:
                withUnsafeBytes(of: UInt32(encoded.count).littleEndian) { pending += $0 }
                pending += encoded
            }
            bytes += encoded.count
            totalFee += payment.fee
            let rate = payment.fee * 1_000 / UInt64(payment.size)
            lowestRate = min(lowestRate, rate)
            highestRate = max(highestRate, rate)
            deepest = max(deepest, payment.depth)
            if pending.count > 1 << 22 {
                try output.write(pending)
                pending.removeAll(keepingCapacity: true)
            }
            progress.update("gen-txs: transaction \(index + 1)/\(count)")
        }
        try output.write(pending)
        progress.finish()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let summary = GenTxsOutput(
            network: network, height: generator.height, tipHash: tip.hex, transactions: count, bytes: bytes, totalFee: totalFee,
            chainDepth: chainDepth, deepestChain: deepest, feeRateMin: lowestRate, feeRateMax: highestRate,
            coinsSpent: (count + chainDepth - 1) / chainDepth, coinsAvailable: stream.usableCoinCount, format: format.rawValue,
            file: out, seconds: seconds)
        let emit: (String) -> Void = output.isStandardOutput ? { printError($0) } : { print($0) }
        if json {
            emit(try jsonText(summary))
        } else {
            emit("""
                wrote \(count) transactions (\(bytes) bytes, \(format.rawValue)) to \(out == "-" ? "standard output" : out)
                chain: \(network) height \(generator.height), tip \(tip.hex)
                chains of \(chainDepth) unconfirmed spends (deepest \(deepest)), \(summary.coinsSpent) of \(stream.usableCoinCount) usable coins spent
                fees \(totalFee) base units, fee rates \(lowestRate)..\(highestRate) per 1,000 bytes
                """)
        }
    }
}

/// `rusty gen-txs --json`.
struct GenTxsOutput: Codable, Equatable {
    var network: String
    var height: UInt64
    var tipHash: String
    var transactions: Int
    /// Encoded bytes of the transactions (without hex or length prefixes).
    var bytes: Int
    /// Base units.
    var totalFee: UInt64
    var chainDepth: Int
    var deepestChain: Int
    /// Per 1,000 bytes, as paid (rounded down).
    var feeRateMin: UInt64
    var feeRateMax: UInt64
    /// Confirmed coins spent (one per chain).
    var coinsSpent: Int
    /// Confirmed coins the stream could have spent.
    var coinsAvailable: Int
    var format: String
    var file: String
    var seconds: Double
}
