// SCAFFOLD (issue #15): the interface of the orphan pool; the implementation replaces this file.

import Primitives

/// Relayed transactions whose parents are unknown, kept briefly in case the parents arrive.
public struct OrphanPool: Sendable {
    public struct Entry: Sendable, Equatable {
        public var transaction: Transaction
        public var txid: Hash256
        public var wtxid: Hash256
        public var peerID: Int
        /// Unix seconds it arrived.
        public var time: UInt64
    }

    public let maxCount: Int
    public let maxTransactionBytes: Int
    public let expirySeconds: UInt64

    public init(maxCount: Int, maxTransactionBytes: Int = 100_000, expirySeconds: UInt64) {
        self.maxCount = maxCount
        self.maxTransactionBytes = maxTransactionBytes
        self.expirySeconds = expirySeconds
    }

    /// Keeps `transaction` (evicting a random orphan when full); false when it is not kept
    /// (too large, already held, a limit of 0).
    public mutating func add(_ transaction: Transaction, txid: Hash256, wtxid: Hash256, missingParents: [Hash256], peerID: Int,
                             time: UInt64) -> Bool { false }

    public func contains(wtxid: Hash256) -> Bool { false }

    public func contains(txid: Hash256) -> Bool { false }

    /// Orphans spending an output of `parent`, oldest first (removes nothing).
    public func children(of parent: Hash256) -> [Entry] { [] }

    public mutating func remove(txid: Hash256) {}

    public mutating func removeAll(fromPeer peerID: Int) {}

    /// Drops orphans older than the expiry; returns their txids.
    public mutating func expire(now: UInt64) -> [Hash256] { [] }

    /// Drops orphans the block included or conflicts with (they spend an outpoint it spent).
    public mutating func blockConnected(_ block: Block) {}

    public var count: Int { 0 }
}
