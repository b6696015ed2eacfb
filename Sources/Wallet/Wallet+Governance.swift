// Governance from the wallet (PROTOCOL section 18): a `gov-proposal` whose output 0 is the
// collateral, paid to a fresh wallet key and kept out of the wallet's sends until the
// proposal's deadline block (the chain refuses to spend it before; a slashed collateral is
// burned there and never spendable again), and `gov-vote`s signed with an owner key the
// wallet made for a masternode registration. Votes move no coins: no fee, no inputs.

import ChainState
import Consensus
import Foundation
import Governance
import Masternodes
import Primitives

extension Wallet {
    /// Builds, signs and broadcasts a `gov-proposal`: `proposal`'s fields with the collateral
    /// (exactly `collateralAmount`) as output 0 to a fresh wallet key; fee inputs and change from
    /// the wallet. Returns the send; its txid is the proposal's id.
    public func submitProposal(_ proposal: GovernanceProposalPayload, collateralAmount: Amount, feeRate: UInt64,
                               broadcast: (Transaction) throws -> Void) throws -> MasternodeTransaction {
        var payload = proposal
        payload.collateralIndex = 0
        guard Array(payload.url.utf8).count <= GovernanceProposalPayload.maxURLBytes else {
            throw WalletError.invalidParameter("the URL has \(Array(payload.url.utf8).count) bytes, at most \(GovernanceProposalPayload.maxURLBytes)")
        }
        return try sendLock.withLock {
            let (built, draft, collateralRef) = try locked { () throws(WalletError) in
                let seed = try unlockedSeed()
                refillKeys(seed: seed)
                let ref = KeyRef(internal: false, index: document.nextExternal)
                let collateralOutput = TxOut(value: collateralAmount, lockScript: address(ref).lockScript)
                var draft = try draftSpecial(.governanceProposal, payloadLength: payload.encoded.count, outputs: [collateralOutput],
                                             feeRate: feeRate, excluding: lockedCollaterals, seed: seed)
                return (try finish(&draft, payload: payload.encoded, seed: seed), draft, ref)
            }
            try broadcast(built.transaction)
            let collateral = OutPoint(txid: built.txid, index: 0)
            try locked { () throws(WalletError) in
                if collateralRef.index >= document.nextExternal { document.nextExternal = collateralRef.index + 1 }
                let kept = "\(collateral.txid.hex):\(collateral.index)@\(payload.deadlineHeight)"
                document.governanceCollaterals = (document.governanceCollaterals ?? []) + [kept]
                try record(built.transaction, txid: built.txid, changeIndex: draft.changeIndex, comment: "governance proposal")
            }
            return MasternodeTransaction(transaction: built.transaction, txid: built.txid, fee: draft.fee, collateral: collateral)
        }
    }

    /// A signed `gov-vote` of masternode `proTxHash` (whose owner key, `ownerKey`, the wallet
    /// made) on `proposal`. Not broadcast: the caller submits it to the pool.
    public func governanceVote(proposal: Hash256, proTxHash: Hash256, ownerKey: [UInt8], outcome: GovernanceVoteOutcome,
                               sequence: UInt32) throws(WalletError) -> Transaction {
        try locked { () throws(WalletError) in
            let seed = try unlockedSeed()
            guard let ref = keysByHash[StandardScript.keyHash(ownerKey)], !ref.internal,
                  (document.masternodeOwnerKeys ?? []).contains(ref.index) else {
                throw .invalidParameter("the wallet does not hold the owner key \(HexCoding.encode(ownerKey)) of \(proTxHash.hex)")
            }
            var payload = GovernanceVotePayload(proposalId: proposal, proTxHash: proTxHash, outcome: outcome, sequence: sequence)
            signPayload(&payload, ref: ref, seed: seed)
            return payload.transaction
        }
    }

    /// Owner keys the wallet made for masternode registrations (public keys).
    public var masternodeOwnerKeys: [[UInt8]] {
        lock.withLock { (document.masternodeOwnerKeys ?? []).compactMap { publicKeys[KeyRef(internal: false, index: $0)] } }
    }

    /// The collaterals of the wallet's proposals still open at the tip (kept out of sends).
    public var governanceCollaterals: Set<OutPoint> { lock.withLock { lockedGovernanceCollaterals } }

    /// Proposal collaterals the wallet must not spend at the chain's tip: those of mined
    /// proposals still open, and of proposals not mined (in the pool, or dropped) until their
    /// deadline height. (A slashed one is no coin at all: `burnedGovernanceCollaterals`.)
    /// Call holding `lock`.
    var lockedGovernanceCollaterals: Set<OutPoint> {
        guard let records = document.governanceCollaterals, !records.isEmpty else { return [] }
        let snapshot = chain?.snapshot
        var locked = Set<OutPoint>()
        for record in records {
            guard let (outpoint, deadline) = Self.parseGovernanceCollateral(record) else { continue }
            if let proposal = snapshot?.governance.proposal(outpoint.txid) {
                if proposal.isOpen { locked.insert(outpoint) }
            } else if (snapshot?.tipHeight ?? 0) < deadline {
                locked.insert(outpoint)
            }
        }
        return locked
    }

    /// Collaterals of the wallet's proposals that the chain slashed: burned at the deadline
    /// block, so no longer coins at all (no transaction spends them for the scan to see).
    /// A reorganisation that undoes the slash brings them back. Call holding `lock`.
    var burnedGovernanceCollaterals: Set<OutPoint> {
        guard let records = document.governanceCollaterals, !records.isEmpty, let governance = chain?.snapshot.governance else { return [] }
        var burned = Set<OutPoint>()
        for record in records {
            guard let (outpoint, _) = Self.parseGovernanceCollateral(record) else { continue }
            if governance.proposal(outpoint.txid)?.closing?.result == .slashed { burned.insert(outpoint) }
        }
        return burned
    }

    /// "txid:n@deadline" as the wallet file keeps a proposal collateral; nil when malformed.
    static func parseGovernanceCollateral(_ text: String) -> (OutPoint, UInt64)? {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, let outpoint = parseOutPoint(String(parts[0])), let deadline = UInt64(parts[1]) else { return nil }
        return (outpoint, deadline)
    }
}
