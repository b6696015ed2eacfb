// A transaction's place in its lifecycle (DESIGN 9), as `gettxstatus` and the wallet report it.

import Primitives

/// Where a transaction is now, with what the pool saw of it.
public struct TransactionStatus: Sendable, Equatable {
    /// DESIGN 9's states: validated -> mempool -> pending (in the current block template) ->
    /// included (in the best chain's tip block) -> confirmed (more blocks on top) -> finalized
    /// (`finalityDepth` confirmations); and the ends rejected, expired, replaced.
    public enum State: String, Sendable {
        case validated, mempool, pending, included, confirmed, finalized, rejected, expired, replaced
        /// Left the pool for another reason (evicted at the size limit, conflicts with a
        /// block, invalid after a reorganisation); `rule` says which.
        case removed
    }

    public var state: State
    /// For included, confirmed and finalized: the block and its depth (1 at the tip).
    public var blockHash: Hash256?
    public var blockHeight: UInt64?
    public var confirmations: UInt64
    /// For replaced: the transaction that replaced it.
    public var replacedBy: Hash256?
    /// For rejected and removed: the rule (bitcoind's reject-reason style).
    public var rule: String?
    /// Unix seconds it entered the pool (the latest entry), when it did.
    public var entryTime: UInt64?
    /// Unix seconds of the event that put it in this state (for rejected: when it was refused).
    public var time: UInt64?
    /// Oldest first, bounded.
    public var history: [TransactionEvent]

    public init(state: State, blockHash: Hash256? = nil, blockHeight: UInt64? = nil, confirmations: UInt64 = 0,
                replacedBy: Hash256? = nil, rule: String? = nil, entryTime: UInt64? = nil, time: UInt64? = nil,
                history: [TransactionEvent] = []) {
        self.state = state
        self.blockHash = blockHash
        self.blockHeight = blockHeight
        self.confirmations = confirmations
        self.replacedBy = replacedBy
        self.rule = rule
        self.entryTime = entryTime
        self.time = time
        self.history = history
    }
}
