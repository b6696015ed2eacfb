/// `rusty verify-chain --json`: the run's counts, rates and final UTXO set. `error` is always
/// present (null when the chain is valid); the pipeline-only fields are absent with
/// `--sequential`.
struct VerifyChainOutput: Codable, Equatable {
    var valid: Bool
    var blocks: Int
    var skipped: Int
    var startHeight: UInt64
    var height: UInt64
    var bestHash: String
    var transactions: Int
    var inputs: Int
    var signatures: Int
    var seconds: Double
    var utxoCount: UInt64
    /// Base units.
    var utxoTotal: UInt64
    var utxoDigest: String
    var backend: String
    var error: Nullable<String>
    /// "pipeline" or "sequential".
    var mode: String
    var threads: Int
    var reindex: Bool
    var unconnected: Int
    var gaps: [String]
    var reorganizations: Int
    var interrupted: Bool
    var knownInvalid: Int
    var passedOver: Int
    var blocksPerSecond: Double
    var transactionsPerSecond: Double
    var inputsPerSecond: Double
    var signaturesPerSecond: Double
    /// Busy seconds per pipeline stage, and the final flush and digest.
    var stages: [String: Double]?
    var batches: Int?
    var batchSize: Int?
    var drains: Int?
}
