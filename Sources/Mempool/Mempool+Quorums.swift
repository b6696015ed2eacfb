// Quorum final commitments in the pool (PROTOCOL section 17.6): fee-less, input-less
// transactions kept apart from the fee-ordered pool, at most one per quorum, checked by the
// chain's own rules against the tip, offered to every template, and gone once mined or once
// their mining window has passed.

import ChainState
import Consensus
import Primitives
import Quorums

extension Mempool {
    /// The refusal of a second commitment for a quorum the pool already holds one for.
    public static let quorumCommitmentPendingRule = "quorum-commitment-pending"

    /// Admits a `quorum-commitment` transaction: the shape rule, then the chain's rules at
    /// height tip + 1, then one per (type, quorum hash). `add` false only tests it. Call
    /// holding `admission`.
    func admitQuorumCommitment(_ transaction: Transaction, add: Bool) -> MempoolResult {
        do {
            try TransactionRules.checkContextFree(transaction, isCoinbase: false)
        } catch {
            return .rejected(MempoolRejection(masternode: error))
        }
        let ids = transaction.ids
        let checked: (CheckedQuorumCommitment, UInt64)
        do {
            checked = try chain.withWriter { state in (try state.checkQuorumCommitment(transaction), state.tip.height) }
        } catch let rejection as Rejection {
            return .rejected(MempoolRejection(masternode: rejection))
        } catch {
            return .rejected(MempoolRejection("chain-state-error", "\(error)"))
        }
        let key = QuorumKey(type: checked.0.type.id, quorumHash: checked.0.payload.quorumHash)
        let entry = MempoolEntry(transaction: transaction, txid: ids.txid, wtxid: ids.wtxid, size: transaction.encoded.count, fee: .zero,
                                 time: now(), height: checked.1, depends: [])
        let isNull = checked.0.payload.isNull
        return lock.withLock {
            // A signed commitment takes the place of a pending null one (which anyone can
            // build); nothing else displaces what the pool holds.
            if let held = quorumCommitments[key], isNull || !(((try? QuorumCommitmentPayload(transaction: held.transaction))?.isNull) ?? false) {
                let kind: MempoolRejection.Kind = held.txid == entry.txid ? .alreadyInPool : .invalid
                return .rejected(MempoolRejection(Self.quorumCommitmentPendingRule, "the pool holds \(held.txid.hex) for this quorum", kind: kind))
            }
            if add { quorumCommitments[key] = entry }
            return .accepted(entry)
        }
    }

    /// The fee rate relay reports for a pending commitment: fee-less by rule, it must still
    /// pass every peer's `feefilter`, or a commitment would never leave the node that built it.
    static let commitmentFeeRate = UInt64.max

    /// A pending commitment by txid or wtxid (few: one per quorum). Call holding `lock`.
    func pendingCommitment(txid: Hash256) -> MempoolEntry? { quorumCommitments.values.first { $0.txid == txid } }
    func pendingCommitment(wtxid: Hash256) -> MempoolEntry? { quorumCommitments.values.first { $0.wtxid == wtxid } }

    /// The commitments waiting for a block, by quorum.
    public var pendingQuorumCommitments: [MempoolEntry] {
        lock.withLock { quorumCommitments.sorted { $0.key < $1.key }.map(\.value) }
    }

    /// After a tip change: every pending commitment checked again against the new tip;
    /// those mined (a duplicate now), out of their window or otherwise failing leave.
    /// Call holding `admission`.
    func evictStaleQuorumCommitments() {
        let pending = lock.withLock { quorumCommitments }
        guard !pending.isEmpty else { return }
        let failing = chain.withWriter { state in
            pending.filter { (try? state.checkQuorumCommitment($0.value.transaction)) == nil }.map(\.key)
        }
        lock.withLock { for key in failing { quorumCommitments[key] = nil } }
    }
}
