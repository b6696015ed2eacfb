// SCAFFOLD (issue #15): the interface of the fee estimator; the implementation replaces this file.

import Primitives

/// A fee rate (base units per 1,000 bytes) expected to confirm within `blocks` blocks.
public struct FeeEstimate: Sendable, Equatable {
    public var feeRate: UInt64
    public var blocks: Int

    public init(feeRate: UInt64, blocks: Int) {
        self.feeRate = feeRate
        self.blocks = blocks
    }
}

/// Learns from the blocks which fee rates confirm how fast (Bitcoin Core's estimator as the
/// anchor). Thread-safe.
public final class FeeEstimator: @unchecked Sendable {
    /// The largest confirmation target answered.
    public static let maxTarget = 1_008

    public init() {}

    /// A transaction entered the pool at chain height `height` (the tip then), with no
    /// unconfirmed parents (only those tell how fast a fee rate confirms on its own).
    public func entered(txid: Hash256, feeRate: UInt64, height: UInt64) {}

    /// It left the pool other than by a block (replaced, expired, evicted, conflicted).
    public func removed(txid: Hash256) {}

    /// A block of the best chain confirmed these transactions.
    public func blockConnected(height: UInt64, txids: [Hash256]) {}

    /// The lowest fee rate expected to confirm within `targetBlocks` (1...maxTarget), and the
    /// target it answers for; nil without enough data.
    public func estimate(targetBlocks: Int, conservative: Bool) -> FeeEstimate? { nil }

    /// fee_estimates.dat in the datadir, written atomically at shutdown and read at start.
    public func save(to path: String) throws {}
    public func load(from path: String) throws {}
}
