// The P2P layer's TransactionPool interface: what to fetch, what to serve, relayed batches
// (orphans held and resolved), and the fee rates peers filter announcements by.

import ChainState
import Consensus
import Foundation
import Primitives

extension Mempool {
    public func wants(wtxid: Hash256) -> Bool {
        lock.withLock {
            txidByWtxid[wtxid] == nil && rejectedWtxids[wtxid] == nil && !orphans.contains(wtxid: wtxid) && pendingFeeless(wtxid: wtxid) == nil
        }
    }

    public func transaction(wtxid: Hash256) -> Transaction? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0]?.transaction } ?? pendingFeeless(wtxid: wtxid)?.transaction }
    }

    public func transaction(txid: Hash256) -> Transaction? {
        lock.withLock { pool[txid]?.transaction ?? pendingFeeless(txid: txid)?.transaction }
    }

    /// Checks a relayed batch as one (see `submit(batch:source:)`). A transaction missing
    /// inputs is held as an orphan (unless a missing parent is known to be invalid); orphans
    /// spending what entered the pool are tried again, and those that enter are reported.
    public func accept(_ batch: [RelayedTransaction]) -> PoolBatchAcceptance {
        // While the chain is catching up, coins are missing and checks would be wasted (Core
        // ignores relayed transactions during initial download too); a block or two behind
        // (a header just announced) is not catching up.
        let snapshot = chain.snapshot
        guard snapshot.bestHeaderHeight <= snapshot.tipHeight + Self.syncingLag else {
            return PoolBatchAcceptance(verdicts: batch.map { _ in .ignored })
        }
        return admission.withLock {
            let time = now()
            lock.withLock { _ = orphans.expire(now: time) }
            let admissions = admitBatch(batch.map(\.transaction), times: nil, options: .relay)
            var verdicts = [PoolAcceptance]()
            verdicts.reserveCapacity(batch.count)
            var entered = [Hash256]()
            for (relayed, admission) in zip(batch, admissions) {
                switch admission.result {
                case .accepted(let entry):
                    entered.append(entry.txid)
                    verdicts.append(.accepted(wtxid: entry.wtxid, feeRate: entry.feeRate))
                case .rejected(let rejection) where rejection.kind == .missingInputs:
                    verdicts.append(holdOrphan(relayed, rejection, missingParents: admission.missingParents, time: time))
                case .rejected(let rejection):
                    switch rejection.kind {
                    case .alreadyInPool, .alreadyInChain: verdicts.append(.ignored)
                    case .missingInputs, .invalid: verdicts.append(.rejected(rule: rejection.rule, penalize: rejection.isConsensusFailure))
                    }
                }
            }
            return PoolBatchAcceptance(verdicts: verdicts, resolvedOrphans: resolveOrphans(spending: entered, time: time))
        }
    }

    /// Keeps a relayed transaction missing inputs as an orphan, or refuses it when one of its
    /// missing parents was refused as invalid (it can never be valid) or it is not kept.
    /// Call holding `admission` (not `lock`).
    private func holdOrphan(_ relayed: RelayedTransaction, _ rejection: MempoolRejection, missingParents: [Hash256],
                            time: UInt64) -> PoolAcceptance {
        let (txid, wtxid) = relayed.transaction.ids
        return lock.withLock {
            let parentRefused = missingParents.contains { invalidTxids[$0] != nil }
            if !parentRefused && !missingParents.isEmpty {
                _ = orphans.add(relayed.transaction, txid: txid, wtxid: wtxid, missingParents: missingParents, peerID: relayed.peerID,
                                time: time)
                if orphans.contains(wtxid: wtxid) { return .orphan(missingParents: missingParents) }
            }
            recordRejection(txid: txid, wtxid: wtxid, rejection, time: time)
            // A child of an invalid transaction can never be valid: not fetched again (Core too).
            if parentRefused { rejectedWtxids.set(wtxid, true) }
            return .rejected(rule: rejection.rule, penalize: false)
        }
    }

    /// Tries the orphans spending `parents` (txids that just entered the pool) again, as one
    /// batch, then those spending what entered from them, and so on; returns the orphans that
    /// entered. Bounded: every round but the last takes at least one orphan out of a bounded
    /// orphan pool. Call holding `admission` (not `lock`).
    private func resolveOrphans(spending parents: [Hash256], time: UInt64) -> [PoolAnnouncement] {
        var announcements = [PoolAnnouncement]()
        var parents = parents
        while !parents.isEmpty {
            let candidates = lock.withLock { () -> [OrphanPool.Entry] in
                var seen = Set<Hash256>()
                return parents.flatMap { orphans.children(of: $0) }.filter { seen.insert($0.txid).inserted }
            }
            guard !candidates.isEmpty else { break }
            let admissions = admitBatch(candidates.map(\.transaction), times: nil, options: .relay)
            parents = []
            lock.withLock {
                for (orphan, admission) in zip(candidates, admissions) {
                    switch admission.result {
                    case .accepted(let entry):
                        orphans.remove(txid: orphan.txid)
                        parents.append(entry.txid)
                        announcements.append(PoolAnnouncement(wtxid: entry.wtxid, feeRate: entry.feeRate))
                    case .rejected(let rejection) where rejection.kind == .missingInputs:
                        // Still waiting for another parent, unless that one is known invalid.
                        if admission.missingParents.isEmpty || admission.missingParents.contains(where: { invalidTxids[$0] != nil }) {
                            orphans.remove(txid: orphan.txid)
                            recordRejection(txid: orphan.txid, wtxid: orphan.wtxid, rejection, time: time)
                        }
                    case .rejected:
                        // Recorded by `admitBatch`.
                        orphans.remove(txid: orphan.txid)
                    }
                }
            }
        }
        return announcements
    }

    public func peerDisconnected(_ peerID: Int) {
        lock.withLock { orphans.removeAll(fromPeer: peerID) }
    }

    public func inventory(minimumFeeRate: UInt64) -> [Hash256] {
        lock.withLock {
            pool.values.filter { $0.feeRate >= minimumFeeRate }.sorted { arrival[$0.txid]! < arrival[$1.txid]! }.map(\.wtxid)
                + quorumCommitments.sorted { $0.key < $1.key }.map(\.value.wtxid) + sortedGovernanceVotes.map(\.wtxid)
        }
    }

    /// The relay minimum, raised while the pool is full (Mempool+Limits.swift).
    public var minimumFeeRate: UInt64 { mempoolMinimumFeeRate() }

    /// Blocks the tip may lag the best header before relayed transactions are ignored.
    static let syncingLag: UInt64 = 6

    public func feeRate(wtxid: Hash256) -> UInt64? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0]?.feeRate } ?? (pendingFeeless(wtxid: wtxid) == nil ? nil : Self.commitmentFeeRate) }
    }

    public func entryTime(wtxid: Hash256) -> UInt64? {
        lock.withLock { txidByWtxid[wtxid].flatMap { pool[$0]?.time } ?? pendingFeeless(wtxid: wtxid)?.time }
    }

    public var poolTime: UInt64 { now() }
}
