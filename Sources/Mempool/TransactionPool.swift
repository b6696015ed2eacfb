// What the P2P layer asks of a mempool: `Mempool` implements it; `NoTransactionPool` holds
// nothing and wants nothing (nodes and tests without a pool).

import Primitives

/// The pool's verdict on a relayed transaction.
public enum PoolAcceptance: Sendable, Equatable {
    /// Entered the pool: announce it (by wtxid) to peers that do not know it.
    case accepted(wtxid: Hash256, feeRate: UInt64)
    /// Held as an orphan: these parents (txids) are neither in the chain nor in the pool; ask
    /// the sender for them.
    case orphan(missingParents: [Hash256])
    /// Broke a rule (named, bitcoind's reject-reason habit); `penalize` when it proves the
    /// sender misbehaved (a consensus-invalid transaction) rather than a policy difference.
    case rejected(rule: String, penalize: Bool)
    /// Not taken and not wrong (already known, no pool).
    case ignored
}

/// A transaction as relayed: the peer's id (for orphans kept per peer) and its label (logs).
public struct RelayedTransaction: Sendable {
    public var transaction: Transaction
    public var peerID: Int
    public var peer: String

    public init(transaction: Transaction, peerID: Int, peer: String) {
        self.transaction = transaction
        self.peerID = peerID
        self.peer = peer
    }
}

/// A pooled transaction to announce.
public struct PoolAnnouncement: Sendable, Equatable {
    public var wtxid: Hash256
    public var feeRate: UInt64

    public init(wtxid: Hash256, feeRate: UInt64) {
        self.wtxid = wtxid
        self.feeRate = feeRate
    }
}

/// The verdicts on a batch of relayed transactions.
public struct PoolBatchAcceptance: Sendable, Equatable {
    /// One per transaction of the batch, in order.
    public var verdicts: [PoolAcceptance]
    /// Orphans (from any peer) that the batch's transactions made acceptable and that entered
    /// the pool: announce them too.
    public var resolvedOrphans: [PoolAnnouncement]

    public init(verdicts: [PoolAcceptance], resolvedOrphans: [PoolAnnouncement] = []) {
        self.verdicts = verdicts
        self.resolvedOrphans = resolvedOrphans
    }
}

public protocol TransactionPool: Sendable {
    /// Whether a transaction announced by `wtxid` is worth fetching.
    func wants(wtxid: Hash256) -> Bool
    /// A pooled transaction, to serve `getdata`.
    func transaction(wtxid: Hash256) -> Transaction?
    /// A pooled transaction by txid (an orphan's parent asked for by txid).
    func transaction(txid: Hash256) -> Transaction?
    /// Transactions relayed close together, checked in order with their signatures verified
    /// as one batch (a bad signature names its transaction; the rest are judged on their own).
    func accept(_ batch: [RelayedTransaction]) -> PoolBatchAcceptance
    /// The peer went away: its orphans are dropped.
    func peerDisconnected(_ peerID: Int)
    /// The wtxids to announce in answer to `mempool`, at or above `minimumFeeRate` (per 1,000 bytes).
    func inventory(minimumFeeRate: UInt64) -> [Hash256]
    /// The pool's minimum fee rate now (per 1,000 bytes): the relay minimum, raised while
    /// the pool is full. Sent to peers as `feefilter`.
    var minimumFeeRate: UInt64 { get }
    /// A pooled transaction's fee rate (per 1,000 bytes), to honour peers' `feefilter` when
    /// announcing it; nil once it left the pool.
    func feeRate(wtxid: Hash256) -> UInt64?
    /// When a pooled transaction entered the pool (the pool's clock, unix seconds); nil when
    /// it is not pooled. `getdata` after a `mempool` answer may fetch only what entered before.
    func entryTime(wtxid: Hash256) -> UInt64?
    /// The pool's clock now (unix seconds; the clock entry times are stamped with).
    var poolTime: UInt64 { get }
}

/// No mempool: relayed transactions are ignored, nothing is announced or served.
public struct NoTransactionPool: TransactionPool {
    public init() {}
    public func wants(wtxid: Hash256) -> Bool { false }
    public func transaction(wtxid: Hash256) -> Transaction? { nil }
    public func transaction(txid: Hash256) -> Transaction? { nil }
    public func accept(_ batch: [RelayedTransaction]) -> PoolBatchAcceptance {
        PoolBatchAcceptance(verdicts: batch.map { _ in .ignored })
    }
    public func peerDisconnected(_ peerID: Int) {}
    public func inventory(minimumFeeRate: UInt64) -> [Hash256] { [] }
    public var minimumFeeRate: UInt64 { 0 }
    public func feeRate(wtxid: Hash256) -> UInt64? { nil }
    public func entryTime(wtxid: Hash256) -> UInt64? { nil }
    public var poolTime: UInt64 { 0 }
}
