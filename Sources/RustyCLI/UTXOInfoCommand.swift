import ArgumentParser
import ChainState
import Foundation

/// `rusty utxo-info`: a summary of a datadir's UTXO set, opened read-only.
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
                throw CommandFailure(.invalid, "\(datadir): holds no chain state")
            }
            summary = try ChainState(directory: datadir, parameters: try consensusParameters(network), readOnly: true).utxoSummary()
        } catch let failure as CommandFailure {
            throw failure
        } catch let error as ValidationError {
            throw CommandFailure(.invalid, "\(datadir): \(error.message)")
        } catch {
            throw CommandFailure(.invalid, "\(datadir): \(error)")
        }
        if json {
            try printJSON(UTXOInfoOutput(summary))
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
