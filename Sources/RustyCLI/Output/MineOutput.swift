/// `rusty mine --json`: one line per accepted block...
struct MinedBlockOutput: Codable, Equatable {
    var height: UInt64
    var hash: String
    var nonce: UInt64
    /// Compact target, "0x%08x".
    var bits: String
    var difficulty: Double
    var hashes: UInt64
}

/// ...then one summary line.
struct MineSummaryOutput: Codable, Equatable {
    var blocks: Int
    var height: UInt64
    var hashes: UInt64
    var seconds: Double
    var hashesPerSecond: Double
    var backend: String
    var interrupted: Bool
}
