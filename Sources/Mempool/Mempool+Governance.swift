// Governance in the pool (PROTOCOL section 18). Votes are fee-less and input-less: kept apart
// from the fee-ordered pool like quorum commitments, one per (proposal, masternode), a vote
// with a higher sequence taking the place of the pending one; checked by the chain's own
// rules against the tip, offered to every template, and gone once mined or failing after a
// block. Proposals pay fees and sit in the ordinary pool, checked by the chain's proposal
// rules, at most one per parameter (a claim, as masternode resources are); no transaction
// may spend a collateral the chain or a pool proposal locks.

import ChainState
import Consensus
import Governance
import Primitives

/// The pool's slot for a vote: one per masternode per proposal.
struct GovernanceVoteKey: Hashable, Comparable, Sendable {
    var proposal: Hash256
    var masternode: Hash256

    static func < (a: GovernanceVoteKey, b: GovernanceVoteKey) -> Bool {
        a.proposal != b.proposal ? a.proposal < b.proposal : a.masternode < b.masternode
    }
}

extension MempoolRejection {
    /// A vote whose sequence does not exceed the pending vote of its masternode on its proposal.
    public static let governanceVotePendingRule = "gov-vote-pending"
    /// A second pool proposal on a parameter a pool proposal already names.
    public static let governanceProposalConflictRule = "gov-proposal-conflict"
}

extension Mempool {
    /// The governed parameters for the block after `state`'s tip.
    static func parametersForNextBlock(on state: ChainState) -> GovernedParameters {
        state.parametersInForce(atHeight: state.tip.height + 1)
    }

    static func parametersForNextBlock(_ chain: ChainService) -> GovernedParameters {
        chain.withWriter { parametersForNextBlock(on: $0) }
    }

    /// The relay minimum under `governed`: the governed rate unless the operator set one.
    func relayFeeRate(_ governed: GovernedParameters) -> UInt64 {
        policy.followsGovernedRelayFee ? governed.minRelayFeeRate : policy.minRelayFeeRate
    }

    /// The relay minimum (per 1,000 bytes) for the next block.
    public var minRelayFeeRate: UInt64 { lock.withLock { relayFeeRate(governed) } }

    /// Confirmations after which the lifecycle says `finalized`: the governed value for the next block.
    public var finalityDepth: UInt64 { fixedFinalityDepth ?? lock.withLock { governed.finalityDepth } }

    /// Every governed parameter in force for the block after the pool's tip.
    public var parametersInForce: GovernedParameters { lock.withLock { governed } }

    /// Reads the values for the new tip (after a tip event). Call holding `admission`, not `lock`.
    func refreshGovernedParameters() {
        let values = Self.parametersForNextBlock(chain)
        lock.withLock { governed = values }
    }

    /// Admits a `gov-vote`: the shape rules, then the chain's vote rules at height tip + 1,
    /// then one per (proposal, masternode), a higher sequence replacing the pending vote.
    /// `add` false only tests it. Call holding `admission`.
    func admitGovernanceVote(_ transaction: Transaction, add: Bool) -> MempoolResult {
        do {
            try TransactionRules.checkContextFree(transaction, isCoinbase: false)
        } catch {
            return .rejected(MempoolRejection(governance: error))
        }
        let ids = transaction.ids
        let checked: (GovernanceVotePayload, UInt64)
        do {
            checked = try chain.withWriter { state in
                try state.checkGovernanceTransaction(transaction, txid: ids.txid)
                return (try GovernanceVotePayload(transaction: transaction), state.tip.height)
            }
        } catch let rejection as Rejection {
            return .rejected(MempoolRejection(governance: rejection))
        } catch {
            return .rejected(MempoolRejection("chain-state-error", "\(error)"))
        }
        let (vote, tipHeight) = checked
        let key = GovernanceVoteKey(proposal: vote.proposalId, masternode: vote.proTxHash)
        let entry = MempoolEntry(transaction: transaction, txid: ids.txid, wtxid: ids.wtxid, size: transaction.encoded.count, fee: .zero,
                                 time: now(), height: tipHeight, depends: [])
        return lock.withLock {
            if let held = governanceVotes[key] {
                let heldSequence = (try? GovernanceVotePayload(transaction: held.transaction))?.sequence ?? 0
                guard vote.sequence > heldSequence else {
                    let kind: MempoolRejection.Kind = held.txid == entry.txid ? .alreadyInPool : .invalid
                    return .rejected(MempoolRejection(MempoolRejection.governanceVotePendingRule,
                                                      "the pool holds \(held.txid.hex) (sequence \(heldSequence)) for this masternode and proposal",
                                                      kind: kind))
                }
            }
            if add { setGovernanceVote(entry, at: key) }
            return .accepted(entry)
        }
    }

    /// The pending vote of `masternode` on `proposal`, if any.
    public func pendingGovernanceVote(proposal: Hash256, masternode: Hash256) -> GovernanceVotePayload? {
        lock.withLock { governanceVotes[GovernanceVoteKey(proposal: proposal, masternode: masternode)] }
            .flatMap { try? GovernanceVotePayload(transaction: $0.transaction) }
    }

    /// The votes waiting for a block, by (proposal, masternode).
    public var pendingGovernanceVotes: [MempoolEntry] {
        lock.withLock { sortedGovernanceVotes }
    }

    /// Call holding `lock`.
    var sortedGovernanceVotes: [MempoolEntry] { governanceVotes.sorted { $0.key < $1.key }.map(\.value) }

    /// Proposals in the pool (ordinary fee-paying entries), by txid.
    public var pendingGovernanceProposals: [MempoolEntry] {
        lock.withLock { pool.values.filter { $0.transaction.specialType == .governanceProposal }.sorted { $0.txid < $1.txid } }
    }

    /// Puts `entry` in the slot `key` (nil: empties it), keeping the txid and wtxid index. Call holding `lock`.
    func setGovernanceVote(_ entry: MempoolEntry?, at key: GovernanceVoteKey) {
        if let held = governanceVotes[key] {
            governanceVoteKeys[held.txid] = nil
            governanceVoteKeys[held.wtxid] = nil
        }
        governanceVotes[key] = entry
        if let entry {
            governanceVoteKeys[entry.txid] = key
            governanceVoteKeys[entry.wtxid] = key
        }
    }

    /// A pending fee-less entry (quorum commitment or vote) by txid or wtxid. Call holding `lock`.
    func pendingFeeless(txid: Hash256) -> MempoolEntry? {
        pendingCommitment(txid: txid) ?? governanceVoteKeys[txid].flatMap { governanceVotes[$0] }
    }

    func pendingFeeless(wtxid: Hash256) -> MempoolEntry? {
        pendingCommitment(wtxid: wtxid) ?? governanceVoteKeys[wtxid].flatMap { governanceVotes[$0] }
    }

    /// Pending votes in slot order, as many as fit in `maxBytes`. Call holding `lock`.
    func governanceVotesFitting(maxBytes: Int) -> [MempoolEntry] {
        var room = maxBytes
        return sortedGovernanceVotes.filter { entry in
            guard entry.size <= room else { return false }
            room -= entry.size
            return true
        }
    }

    /// The governance checks of a pool candidate: no input may spend a collateral the chain
    /// locks or a pool (or staged) proposal's collateral; a proposal must pass the chain's
    /// proposal rules for the next block and claim its parameter. Call holding `admission`
    /// and the chain's writer.
    func checkGovernancePolicy(_ candidate: Submitted, _ judge: Judge) -> SpecialOutcome {
        let transaction = candidate.transaction
        do {
            // The chain's rules for the next block: locked collateral, and a proposal's own rules.
            try judge.state.checkGovernanceTransaction(transaction, txid: candidate.txid)
        } catch {
            return .refused(MempoolRejection(governance: error))
        }
        for input in transaction.inputs where !pool.isEmpty || !judge.staging.items.isEmpty {
            let outpoint = input.previousOutput
            let parent = judge.staging.entry(outpoint.txid) ?? pool[outpoint.txid]
            if let parent, parent.transaction.specialType == .governanceProposal,
               (try? GovernanceProposalPayload(transaction: parent.transaction))?.collateralIndex == outpoint.index {
                return .refused(MempoolRejection(governance: Rejection(.governanceCollateralLocked, "\(outpoint) is the collateral of pool proposal \(outpoint.txid.hex)")))
            }
        }
        guard transaction.specialType == .governanceProposal, let payload = try? GovernanceProposalPayload(transaction: transaction) else {
            return .admitted(SpecialAdmission())
        }
        let claim = MasternodeClaim.governanceParameter(payload.parameterId)
        if judge.staging.claims[claim] != nil { return .cut }
        if let holder = masternodeClaims[claim] {
            return .refused(MempoolRejection(MempoolRejection.governanceProposalConflictRule,
                                             "pool proposal \(holder.hex) already changes \(payload.parameter?.name ?? "parameter \(payload.parameterId)")"))
        }
        return .admitted(SpecialAdmission(claims: [claim]))
    }

    /// After a tip change: pending votes and pool proposals checked again against the new
    /// tip; those mined (a duplicate now), out of their window or otherwise failing leave
    /// (a proposal with its descendants). A vote's owner signature keeps its verdict from
    /// admission: only the rules that move with the tip (window, sequence, voter, proposal
    /// open) run again. Call holding `admission`.
    func evictStaleGovernance(time: UInt64) {
        let (votes, proposals) = lock.withLock {
            (governanceVotes, pool.values.filter { $0.transaction.specialType == .governanceProposal })
        }
        guard !votes.isEmpty || !proposals.isEmpty else { return }
        let (failingVotes, failingProposals) = chain.withWriter { state -> ([GovernanceVoteKey], [(Hash256, String)]) in
            let votes = votes.filter {
                (try? state.checkGovernanceTransaction($0.value.transaction, txid: $0.value.txid, verifyingSignature: false)) == nil
            }.map(\.key)
            var proposalsFailing = [(Hash256, String)]()
            for entry in proposals {
                do throws(Rejection) {
                    try state.checkGovernanceTransaction(entry.transaction, txid: entry.txid)
                } catch {
                    proposalsFailing.append((entry.txid, error.rule.rawValue))
                }
            }
            return (votes, proposalsFailing)
        }
        let removed = lock.withLock {
            for key in failingVotes { setGovernanceVote(nil, at: key) }
            return failingProposals.flatMap { removeWithDescendants($0.0, as: .removed, detail: $0.1, time: time) }
        }
        for entry in removed { feeEstimator.removed(txid: entry.txid) }
    }
}

extension MempoolRejection {
    /// A governance rule's rejection in the pool: the payload's encoding and shape are the
    /// sender's fault whatever the chain; the rest depends on chain state a peer may see
    /// differently (a proposal mined or closed, a masternode banned).
    init(governance rejection: Rejection) {
        let contextFree: Set<RuleName> = [.governancePayload, .governanceVoteShape, .specialPayload, .txSpecialType]
        self.init(rejection.rule.rawValue, rejection.detail, isConsensusFailure: contextFree.contains(rejection.rule))
    }
}
