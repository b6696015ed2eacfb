// The P2P layer's TransactionPool interface: what to fetch, what to serve, relayed batches
// (with orphans), and the fee rates peers filter announcements by.

import ChainState
import Consensus
import Foundation
import Primitives

extension Mempool {
    public func wants(wtxid: Hash256) -> Bool {
        lock.withLock { txidByWtxid[wtxid] == nil && rejectedWtxids[wtxid] == nil }
    }

    public func transaction(wtxid: Hash256) -> Transaction? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0]?.transaction } }
    }

    public func transaction(txid: Hash256) -> Transaction? { lock.withLock { pool[txid]?.transaction } }

    public func accept(_ batch: [RelayedTransaction]) -> PoolBatchAcceptance {
        // While the chain is catching up, coins are missing and checks would be wasted (Core
        // ignores relayed transactions during initial download too); a block or two behind
        // (a header just announced) is not catching up.
        let snapshot = chain.snapshot
        guard snapshot.bestHeaderHeight <= snapshot.tipHeight + Self.syncingLag else {
            return PoolBatchAcceptance(verdicts: batch.map { _ in .ignored })
        }
        let verdicts = batch.map { relayed -> PoolAcceptance in
            switch submit(relayed.transaction, source: relayed.peer) {
            case .accepted(let entry):
                return .accepted(wtxid: entry.wtxid, feeRate: entry.feeRate)
            case .rejected(let rejection):
                switch rejection.kind {
                case .alreadyInPool, .alreadyInChain: return .ignored
                case .missingInputs, .invalid: return .rejected(rule: rejection.rule, penalize: rejection.isConsensusFailure)
                }
            }
        }
        return PoolBatchAcceptance(verdicts: verdicts)
    }

    public func peerDisconnected(_ peerID: Int) {}

    public func inventory(minimumFeeRate: UInt64) -> [Hash256] {
        lock.withLock {
            pool.values.filter { $0.feeRate >= minimumFeeRate }.sorted { arrival[$0.txid]! < arrival[$1.txid]! }.map(\.wtxid)
        }
    }

    public var minimumFeeRate: UInt64 { policy.minRelayFeeRate }

    /// Blocks the tip may lag the best header before relayed transactions are ignored.
    static let syncingLag: UInt64 = 6

    public func feeRate(wtxid: Hash256) -> UInt64? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0]?.feeRate } }
    }
}
