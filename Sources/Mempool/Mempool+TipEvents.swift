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
        switch event {
        case let .connected(_, hash):
            lock.withLock { rejectedWtxids.removeAll() }
            // An empty pool has nothing to remove: no block read (the common case while syncing).
            let needsBlock = !pool.isEmpty || reorganizing
            let block = needsBlock ? try? chain.block(hash).map { try Block(decoding: $0) } : nil
            // A block that does not extend the pool's tip (events lost from a full buffer) or
            // cannot be read: check the whole pool against the chain as it is now.
            if needsBlock && !reorganizing && (block == nil || block?.header.previousHash != syncedTip) {
                revalidate()
                lock.withLock { syncedTip = hash }
                return
            }
            lock.withLock {
                if let block { blockConnected(block, hash: hash) }
                // Mid-reorganisation the pool is not valid on any tip until `revalidate`.
                if !reorganizing { syncedTip = hash }
            }
        case let .disconnected(_, hash):
            let block = try? chain.block(hash).map { try Block(decoding: $0) }
            lock.withLock {
                reorganizing = true
                // Tip first: each lower block's transactions go before the ones collected so far.
                if let block { disconnectedTransactions.insert(contentsOf: block.transactions.dropFirst(), at: 0) }
            }
        case .reorganized(let reorganization):
            revalidate()
            lock.withLock {
                reorganizing = false
                syncedTip = reorganization.newTip
            }
        }
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
                    removeWithDescendants(spender, as: .removed, detail: "conflicts with \(txid.hex) in block \(hash.hex)", time: time)
                }
            }
        }
        if !disconnectedTransactions.isEmpty {
            disconnectedTransactions.removeAll { confirmed.contains($0.txid) }
        }
        changeCount += 1
    }

    /// After a reorganisation: the disconnected blocks' transactions, then the pool's own,
    /// are checked again against the new tip; those that no longer fit are dropped.
    /// Call holding `admission` (not `lock`).
    func revalidate() {
        let time = now()
        let (previous, returning) = lock.withLock { () -> ([MempoolEntry], [Transaction]) in
            let previous = pool.values.sorted { arrival[$0.txid]! < arrival[$1.txid]! }
            let returning = disconnectedTransactions
            disconnectedTransactions = []
            pool = [:]
            arrival = [:]
            txidByWtxid = [:]
            spenders = [:]
            children = [:]
            poolBytes = 0
            poolFees = 0
            changeCount += 1
            return (previous, returning)
        }
        for transaction in returning {
            let result = admit(transaction, time: time, add: true)
            lock.withLock {
                switch result {
                case .accepted(let entry): record(entry.txid, TransactionEvent(state: .disconnected, time: time))
                case .rejected(let rejection): record(transaction.txid, TransactionEvent(state: .removed, time: time, detail: rejection.rule))
                }
            }
        }
        for entry in previous {
            if case .rejected(let rejection) = admit(entry.transaction, time: entry.time, add: true) {
                lock.withLock { record(entry.txid, TransactionEvent(state: .removed, time: time, detail: rejection.rule)) }
            }
        }
    }
}
