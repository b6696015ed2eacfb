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
    func governanceProposals() throws(RPCError) -> [ProposalView] {
        let mined = try governanceRead { $0.governanceProposals() }
        let minedIDs = Set(mined.map(\.id))
        let pending = mempool.pendingGovernanceProposals.compactMap { entry -> ProposalView? in
            guard !minedIDs.contains(entry.txid), let payload = try? GovernanceProposalPayload(transaction: entry.transaction) else { return nil }
            return ProposalView(id: entry.txid, payload: payload, record: nil)
        }
        return mined.sorted { $0.id < $1.id }.map { ProposalView(id: $0.id, payload: $0.payload, record: $0) } + pending.sorted { $0.id < $1.id }
    }

    /// One proposal by id (-5 when neither the chain nor the pool holds it).
    func governanceProposal(_ id: Hash256) throws(RPCError) -> ProposalView {
        if let record = try governanceRead({ $0.governanceProposal(id) }) { return ProposalView(id: id, payload: record.payload, record: record) }
        if let entry = mempool.entry(txid: id), let payload = try? GovernanceProposalPayload(transaction: entry.transaction) {
            return ProposalView(id: id, payload: payload, record: nil)
        }
        throw RPCError.notFound("proposal \(id.hex) is neither on the chain nor in the pool")
    }

    /// The votes of `id` that count at the tip (one per masternode, its last), by masternode.
    func governanceVotes(_ id: Hash256) throws(RPCError) -> [GovernanceVoteRecord] {
        try governanceRead { $0.governanceVotes(proposal: id) }.sorted { $0.proTxHash < $1.proTxHash }
    }

    /// The parameters in force for a block at `height` on the active chain.
    func parametersInForce(atHeight height: UInt64) throws(RPCError) -> GovernedParameters {
        try governanceRead { try $0.parametersInForce(atHeight: height) }
    }

    /// The height of the block after the tip and the parameters in force for it, read together.
    func governedParametersForNextBlock() throws(RPCError) -> (UInt64, GovernedParameters) {
        try governanceRead { state in (state.tip.height + 1, try state.parametersInForce(atHeight: state.tip.height + 1)) }
    }

    /// A sequence above every vote of `masternode` on `proposal` mined or pooled (a vote
    /// counts only above the one it replaces).
    func nextVoteSequence(proposal: Hash256, masternode: Hash256) -> UInt32 {
        let mined = (try? governanceVotes(proposal))?.first { $0.proTxHash == masternode }?.sequence ?? 0
        let pooled = mempool.pendingGovernanceVote(proposal: proposal, masternode: masternode)?.sequence ?? 0
        let (next, overflow) = max(mined, pooled).addingReportingOverflow(1)
        return overflow ? .max : next
    }

    /// Reads the chain's governance state under the writer (a consistent view of one tip).
    func governanceRead<T>(_ body: (ChainState) throws -> T) throws(RPCError) -> T {
        do { return try chain.withWriter { try body($0) } } catch { throw RPCError(RPCError.miscError, "governance state: \(error)") }
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
            let outcomes = view.record == nil ? [] : try governanceVotes(view.id).map(\.outcome)
            tally = GovernanceTally(outcomes: outcomes, validMasternodes: try validMasternodeCount())
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

    func validMasternodeCount() throws(RPCError) -> Int {
        chain.snapshot.masternodes.valid(at: chain.snapshot.tipHeight, parameters: try masternodeParameters).count
    }
}
