// A transaction's lifecycle as `gettxstatus` reports it (DESIGN 9): where it is now, read
// from the pool, the last block template and the chain, with the events the pool recorded.

import ChainState
import Foundation
import Primitives

extension Mempool {
    /// Where `txid` stands, or nil when the pool never saw it (or has forgotten it: terminal
    /// states are kept for `policy.lifecycleRetentionSeconds` and a bounded count).
    /// Pooled: `mempool`, or `pending` while in the last block template handed out. In a
    /// block of the active chain: `included` (1 confirmation), `confirmed` (2 or more),
    /// `finalized` (`finalityDepth` or more). Otherwise the last recorded end: rejected (rule),
    /// replaced (by which txid), expired, removed (rule).
    public func status(txid: Hash256) -> TransactionStatus? {
        let snapshot = chain.snapshot
        return lock.withLock { () -> TransactionStatus? in
            let history = recordedHistory(txid) ?? []
            if let entry = pool[txid] {
                let state: TransactionStatus.State = templateTxids.contains(txid) ? .pending : .mempool
                let since = history.last { $0.state == .mempool || $0.state == .pending }?.time ?? entry.time
                return TransactionStatus(state: state, entryTime: entry.time, time: since, history: history)
            }
            // The latest decisive event: `validated` and `disconnected` are steps on the way.
            guard let last = history.last(where: { $0.state != .validated && $0.state != .disconnected }) ?? history.last else { return nil }
            let entryTime = history.last { $0.state == .mempool }?.time
            var status = TransactionStatus(state: .validated, entryTime: entryTime, time: last.time, history: history)
            switch last.state {
            case .included:
                status.state = .included
                guard let block = Hash256(hex: last.detail) else { break }
                status.blockHash = block
                // A block a reorganisation took away (before the pool heard of it): included,
                // with no confirmations.
                guard let height = snapshot.activeHeight(of: block), snapshot.tipHeight >= height else { break }
                status.blockHeight = height
                status.confirmations = snapshot.tipHeight - height + 1
                status.state = confirmationState(status.confirmations)
            case .replaced:
                status.state = .replaced
                status.replacedBy = Hash256(hex: last.detail)
            case .rejected:
                status.state = .rejected
                status.rule = last.detail
            case .removed:
                status.state = .removed
                status.rule = last.detail
            case .expired:
                status.state = .expired
            case .mempool:
                // Recorded in the pool but no longer there without a recorded end (it is about
                // to be: a removal under way). Report what the history says.
                status.state = .mempool
            case .pending:
                status.state = .pending
            case .validated, .disconnected:
                status.state = .validated
            }
            return status
        }
    }

    /// included (the tip block), confirmed (more on top), finalized (`finalityDepth` deep).
    /// Call holding `lock` (or `admission`).
    func confirmationState(_ confirmations: UInt64) -> TransactionStatus.State {
        if confirmations >= max(1, fixedFinalityDepth ?? governed.finalityDepth) { return .finalized }
        return confirmations >= 2 ? .confirmed : .included
    }

    /// Remembers the transactions of the block template just handed out, recording `pending`
    /// for those not in the previous one. Call holding `lock`.
    func noteTemplate(_ entries: [MempoolEntry]) {
        let txids = Set(entries.map(\.txid))
        guard txids != templateTxids else { return }
        let time = now()
        for txid in txids where !templateTxids.contains(txid) {
            record(txid, TransactionEvent(state: .pending, time: time))
        }
        templateTxids = txids
    }

    /// Forgets lifecycles that ended more than `policy.lifecycleRetentionSeconds` before
    /// `time`: rejected, expired, replaced, removed, and included ones now finalized. What
    /// the pool holds is always kept. Call holding `admission`, not `lock`.
    func pruneLifecycle(time: UInt64) {
        guard time > policy.lifecycleRetentionSeconds else { return }
        let cutoff = time - policy.lifecycleRetentionSeconds
        let snapshot = chain.snapshot
        lock.withLock {
            histories.removeAll { txid, history in
                guard let last = history.last, last.time < cutoff, pool[txid] == nil else { return false }
                switch last.state {
                case .rejected, .expired, .replaced, .removed:
                    return true
                case .included:
                    guard let block = Hash256(hex: last.detail), let height = snapshot.activeHeight(of: block),
                          snapshot.tipHeight >= height else { return false }
                    return confirmationState(snapshot.tipHeight - height + 1) == .finalized
                case .validated, .mempool, .pending, .disconnected:
                    return false
                }
            }
            templateTxids.formIntersection(pool.keys)
        }
    }
}
