import ChainState
import Primitives

/// `rusty utxo-info --json`: the best block and the UTXO set's size, total and digest.
struct UTXOInfoOutput: Codable, Equatable {
    var height: UInt64
    var bestHash: String
    var count: UInt64
    /// Base units.
    var total: UInt64
    var digest: String
}

extension UTXOInfoOutput {
    init(_ summary: UTXOSummary) {
        self.init(height: summary.bestHeight, bestHash: summary.bestHash.hex, count: summary.count,
                  total: summary.total.baseUnits, digest: summary.digest.hex)
    }
}
