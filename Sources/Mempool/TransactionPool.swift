// What the P2P layer asks of a mempool: `Mempool` implements it; `NoTransactionPool` holds
// nothing and wants nothing (nodes and tests without a pool).

import Primitives

/// The pool's verdict on a relayed transaction.
public enum PoolAcceptance: Sendable, Equatable {
    /// Entered the pool: announce it (by wtxid) to peers that do not know it.
    case accepted(wtxid: Hash256, feeRate: UInt64)
    /// Broke a rule (named, bitcoind's reject-reason habit); `penalize` when it proves the
    /// sender misbehaved (a consensus-invalid transaction) rather than a policy difference.
    case rejected(rule: String, penalize: Bool)
    /// Not taken and not wrong (already known, no pool).
    case ignored
}

public protocol TransactionPool: Sendable {
    /// Whether a transaction announced by `wtxid` is worth fetching.
    func wants(wtxid: Hash256) -> Bool
    /// A pooled transaction, to serve `getdata`.
    func transaction(wtxid: Hash256) -> Transaction?
    /// A transaction a peer sent (`peer` names it in logs and the pool's records).
    func accept(_ transaction: Transaction, from peer: String) -> PoolAcceptance
    /// The wtxids to announce in answer to `mempool`, at or above `minimumFeeRate` (per 1,000 bytes).
    func inventory(minimumFeeRate: UInt64) -> [Hash256]
    /// The pool's minimum fee rate (per 1,000 bytes), sent to peers as `feefilter`.
    var minimumFeeRate: UInt64 { get }
    /// A pooled transaction's fee rate (per 1,000 bytes), to honour peers' `feefilter` when announcing it.
    func feeRate(wtxid: Hash256) -> UInt64?
}

/// No mempool: relayed transactions are ignored, nothing is announced or served.
public struct NoTransactionPool: TransactionPool {
    public init() {}
    public func wants(wtxid: Hash256) -> Bool { false }
    public func transaction(wtxid: Hash256) -> Transaction? { nil }
    public func accept(_ transaction: Transaction, from peer: String) -> PoolAcceptance { .ignored }
    public func inventory(minimumFeeRate: UInt64) -> [Hash256] { [] }
    public var minimumFeeRate: UInt64 { 0 }
    public func feeRate(wtxid: Hash256) -> UInt64? { nil }
}
