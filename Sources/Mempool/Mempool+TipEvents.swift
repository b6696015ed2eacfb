// The pool on tip events: blocks remove what they confirm and what conflicts with them; a
// reorganisation (or a tip the pool missed) checks the whole pool again.

import ChainState
import Consensus
import Foundation
import Primitives

extension Mempool {
    /// Brings the pool up to date with one tip event (what `start()` does for each event;
    /// public so a caller that owns the ordering, e.g. a test, can apply them itself).
    public func apply(_ event: TipEvent) {
        admission.withLock { applyHoldingAdmission(event) }
    }

    func applyHoldingAdmission(_ event: TipEvent) {
        // The new tip is published (`syncedTip`, which templates pair with their entries)
        // only after the checks that depend on it: a template never sees the new tip with
        // votes, commitments or parameters of the old one.
        var newTip: Hash256?
        defer {
            refreshGovernedParameters()
            evictStaleQuorumCommitments()
            evictStaleGovernance(time: now())
            if let newTip { lock.withLock { syncedTip = newTip } }
        }
        switch event {
        case let .connected(height, hash):
            let time = now()
            lock.withLock {
                rejectedWtxids.removeAll()
                // Core's removeForBlock: the rolling minimum fee may decay from now on.
                blockSinceLastRollingFeeBump = true
                lastRollingFeeUpdate = time
            }
            // Nothing pooled, held or remembered needs the block: not read (the common case
            // while syncing).
            let needsBlock = !pool.isEmpty || reorganizing || lock.withLock { orphans.count > 0 || !histories.isEmpty }
            let block = needsBlock ? try? chain.block(hash).map { try Block(decoding: $0) } : nil
            feeEstimator.blockConnected(height: height, txids: block?.transactions.dropFirst().map(\.txid) ?? [])
            // A block that does not extend the pool's tip (events lost from a full buffer) or
            // cannot be read: check the whole pool against the chain as it is now.
            if !pool.isEmpty && !reorganizing && (block == nil || block?.header.previousHash != syncedTip) {
                // What the block confirmed still leaves as included (the lifecycle says so).
                if let block {
                    lock.withLock {
                        blockConnected(block, hash: hash)
                        orphans.blockConnected(block)
                    }
                }
                revalidate()
                newTip = hash
                afterTipChange(time: time)
                return
            }
            lock.withLock {
                if let block {
                    blockConnected(block, hash: hash)
                    orphans.blockConnected(block)
                }
            }
            // Mid-reorganisation the pool is not valid on any tip until `revalidate`.
            if !reorganizing {
                newTip = hash
                evictFailingSpecialTransactions(tip: hash, time: time)
                afterTipChange(time: time)
            }
        case let .disconnected(_, hash):
            let block = try? chain.block(hash).map { try Block(decoding: $0) }
            let time = now()
            lock.withLock {
                reorganizing = true
                guard let block else { return }
                // Past the byte bound the highest blocks' transactions are dropped (Core too).
                for transaction in disconnected.add(blockTransactions: block.transactions.dropFirst()) {
                    let txid = transaction.txid
                    guard recordedHistory(txid) != nil else { continue }
                    record(txid, TransactionEvent(state: .disconnected, time: time))
                    record(txid, TransactionEvent(state: .removed, time: time, detail: Self.reorganisationOverflowReason))
                }
            }
        case .reorganized(let reorganization):
            revalidate()
            lock.withLock { reorganizing = false }
            newTip = reorganization.newTip
            afterTipChange(time: now())
        }
    }

    /// What every new tip brings: expiry, the size limit (a reorganisation may return more
    /// than fits), and forgetting old terminal lifecycle states. Call holding `admission`.
    func afterTipChange(time: UInt64) {
        expire(time: time)
        limitSize(time: time)
        pruneLifecycle(time: time)
    }

    /// Drops what `block` confirmed and whatever conflicts with it (with descendants).
    func blockConnected(_ block: Block, hash: Hash256) {
        let time = now()
        var confirmed = Set<Hash256>()
        for transaction in block.transactions.dropFirst() {
            let txid = transaction.txid
            confirmed.insert(txid)
            let wasPooled = pool[txid] != nil
            if wasPooled { removeEntry(txid) }
            if wasPooled || histories[txid] != nil {
                record(txid, TransactionEvent(state: .included, time: time, detail: hash.hex))
            }
            for input in transaction.inputs {
                if let spender = spenders[input.previousOutput] {
                    let conflicted = removeWithDescendants(spender, as: .removed, detail: "conflicts with \(txid.hex) in block \(hash.hex)",
                                                           time: time)
                    for entry in conflicted { feeEstimator.removed(txid: entry.txid) }
                }
            }
        }
        disconnected.remove(confirmed: confirmed)
        changeCount += 1
    }

    /// The `removed` rule of a disconnected transaction beyond the reorganisation's byte bound
    /// (Core's removal reason "reorg").
    public static let reorganisationOverflowReason = "reorg"

    /// The `mempool` event's detail for a transaction a reorganisation returned.
    public static let returnedByReorganisation = "returned by a reorganisation"

    /// After a reorganisation: the disconnected blocks' transactions, then the pool's own,
    /// are checked again against the new tip; those that no longer fit are dropped.
    /// Call holding `admission` (not `lock`).
    func revalidate() {
        let time = now()
        let (previous, returning) = lock.withLock { () -> ([MempoolEntry], [Transaction]) in
            let previous = pool.values.sorted { arrival[$0.txid]! < arrival[$1.txid]! }
            let returning = disconnected.takeAll()
            pool = [:]
            arrival = [:]
            txidByWtxid = [:]
            spenders = [:]
            children = [:]
            masternodeClaims = [:]
            specialTxids = []
            poolBytes = 0
            poolFees = 0
            resetIndexes()
            changeCount += 1
            return (previous, returning)
        }
        // DESIGN 9: a reorganisation moves included transactions back to the pool, or to
        // rejected when they no longer fit. Checked in batches (one hold of the chain's writer
        // per chunk, signatures verified together), parents before children.
        let returned = admitBatch(returning, times: returning.map { _ in time }, options: .reorganization)
        lock.withLock {
            for (transaction, admission) in zip(returning, returned) {
                let txid = transaction.txid
                record(txid, TransactionEvent(state: .disconnected, time: time))
                switch admission.result {
                case .accepted:
                    record(txid, TransactionEvent(state: .mempool, time: time, detail: Self.returnedByReorganisation))
                case .rejected(let rejection):
                    record(txid, TransactionEvent(state: .rejected, time: time, detail: rejection.rule))
                }
            }
        }
        let kept = admitBatch(previous.map(\.transaction), times: previous.map(\.time), options: .reorganization)
        for (entry, admission) in zip(previous, kept) {
            guard let rejection = admission.result.rejection else { continue }
            lock.withLock { record(entry.txid, TransactionEvent(state: .removed, time: time, detail: rejection.rule)) }
            feeEstimator.removed(txid: entry.txid)
        }
    }
}
