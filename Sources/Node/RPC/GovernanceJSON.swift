// Governance as the RPC methods show it: proposals (mined, or still in the pool), votes, and
// the chain's governance state read for them.

import ChainState
import Governance
import JSONRPC
import Mempool
import Primitives

/// A proposal as `gobject` shows it: mined (`record` from the chain) or still in the pool.
struct ProposalView {
    let id: Hash256
    let payload: GovernanceProposalPayload
    /// nil while the proposal waits in the pool.
    let record: GovernanceProposal?
}

extension NodeRPCContext {
    /// Mined proposals at the tip, then those in the pool, each group by id.
    func governanceProposals() -> [ProposalView] {
        let ledger = chain.snapshot.governance
        let pending = mempool.pendingGovernanceProposals.compactMap { entry -> ProposalView? in
            guard ledger.proposal(entry.txid) == nil, let payload = try? GovernanceProposalPayload(transaction: entry.transaction) else { return nil }
            return ProposalView(id: entry.txid, payload: payload, record: nil)
        }
        let mined = ledger.proposals.values.sorted { $0.id < $1.id }.map { ProposalView(id: $0.id, payload: $0.payload, record: $0) }
        return mined + pending
    }

    /// One proposal by id (-5 when neither the chain nor the pool holds it).
    func governanceProposal(_ id: Hash256) throws(RPCError) -> ProposalView {
        if let record = chain.snapshot.governance.proposal(id) { return ProposalView(id: id, payload: record.payload, record: record) }
        if let entry = mempool.entry(txid: id), let payload = try? GovernanceProposalPayload(transaction: entry.transaction) {
            return ProposalView(id: id, payload: payload, record: nil)
        }
        throw RPCError.notFound("proposal \(id.hex) is neither on the chain nor in the pool")
    }

    /// The height of the block after the tip and the parameters in force for it, read together.
    func governedParametersForNextBlock() -> (UInt64, GovernedParameters) {
        let snapshot = chain.snapshot
        return (snapshot.tipHeight + 1, snapshot.parametersInForce(atHeight: snapshot.tipHeight + 1))
    }

    /// A sequence above every vote of `masternode` on `proposal` mined or pooled (a vote
    /// counts only above the one it replaces).
    func nextVoteSequence(proposal: Hash256, masternode: Hash256) -> UInt32 {
        let mined = chain.snapshot.governance.vote(of: masternode, on: proposal)?.sequence ?? 0
        let pooled = mempool.pendingGovernanceVote(proposal: proposal, masternode: masternode)?.sequence ?? 0
        let (next, overflow) = max(mined, pooled).addingReportingOverflow(1)
        return overflow ? .max : next
    }

    func proposalJSON(_ view: ProposalView) throws(RPCError) -> JSONObject {
        let payload = view.payload
        var object: JSONObject = [
            "id": .string(view.id.hex),
            "parameter": .string(payload.parameter?.name ?? "unknown-\(payload.parameterId)"),
            "parameterId": .int(payload.parameterId),
            "value": .int(payload.newValue),
            "startHeight": .int(payload.startHeight),
            "deadlineHeight": .int(payload.deadlineHeight),
            "activationDelay": .int(payload.activationDelay),
            "url": .string(payload.url),
            "textHash": .string(payload.textHash.hex),
            "collateral": .string("\(view.id.hex):\(payload.collateralIndex)"),
            "height": view.record.map { .int($0.height) } ?? .null,
        ]
        let tally: GovernanceTally
        if let closing = view.record?.closing {
            object["status"] = .string(closing.result.description)
            tally = closing.tally
            object["activationHeight"] = closing.activationHeight.map { .int($0) } ?? .null
        } else {
            object["status"] = .string(view.record == nil ? "pending" : "open")
            // The count so far: the votes that count now against the masternodes valid now.
            let snapshot = chain.snapshot
            tally = GovernanceRules.tally(of: view.id, ledger: snapshot.governance, list: snapshot.masternodes, height: snapshot.tipHeight,
                                          maturity: try masternodeParameters.registrationMaturity)
            object["activationHeight"] = payload.activationHeight.map { .int($0) } ?? .null
        }
        object["yes"] = .int(tally.yes)
        object["no"] = .int(tally.no)
        object["abstain"] = .int(tally.abstain)
        object["validMasternodes"] = .int(tally.validMasternodes)
        object["threshold"] = .int(tally.threshold)
        return object
    }

    func voteJSON(_ vote: GovernanceVoteRecord) -> JSONObject {
        ["proTxHash": .string(vote.proTxHash.hex), "outcome": .string(vote.outcome.description), "sequence": .int(vote.sequence),
         "height": .int(vote.height), "txid": .string(vote.txid.hex)]
    }
}
