import Consensus
import Masternodes
import Primitives

extension GovernanceRules {
    /// The open proposal `transaction` makes at `context.height`, after every proposal rule.
    static func proposal(_ transaction: Transaction, txid: Hash256, context: Context,
                         ledger: GovernanceLedger) throws(Rejection) -> GovernanceProposal {
        let payload = try GovernanceProposalPayload(transaction: transaction)
        guard let parameters = context.parameters else { throw Rejection(.governanceParameter, "this network has no governance") }
        guard let parameter = payload.parameter, let bounds = parameters.bounds[parameter] else {
            throw Rejection(.governanceParameter, "parameter \(payload.parameterId) is not on this network's whitelist")
        }
        let index = Int(payload.collateralIndex)
        guard index < transaction.outputs.count else {
            throw Rejection(.governanceCollateral, "collateral output \(index) of a transaction with \(transaction.outputs.count)")
        }
        let output = transaction.outputs[index]
        guard output.value == parameters.collateral, !output.isUnspendable else {
            throw Rejection(.governanceCollateral, "output \(index) holds \(output.value)\(output.isUnspendable ? " unspendably" : ""), the collateral is \(parameters.collateral)")
        }
        try checkWindow(payload, height: context.height, parameters: parameters)
        if let open = ledger.openProposal(on: payload.parameterId) {
            throw Rejection(.governanceOverlap, "proposal \(open.id.hex) on \(parameter) is open until height \(open.payload.deadlineHeight)")
        }
        // Activation order must equal decision order, so that no approved change is overtaken
        // by a later one and then reinstated, and the step below bounds the value in force.
        let activation = payload.activationHeight ?? UInt64.max
        if let pending = ledger.executedChanges.last(where: { $0.parameter == parameter && $0.activationHeight >= activation }) {
            throw Rejection(.governanceOverlap, "an approved change of \(parameter) activates at \(pending.activationHeight), not before \(activation)")
        }
        let current = ledger.valueBefore(activationHeight: activation, of: parameter, initial: parameters.initialValues[parameter] ?? 0)
        guard payload.newValue != current else {
            throw Rejection(.governanceValue, "\(parameter) is \(current) already before height \(activation): the proposal changes nothing")
        }
        guard bounds.allows(payload.newValue, from: current) else {
            throw Rejection(.governanceValue, "\(parameter) \(payload.newValue): allowed \(bounds.range) within \(bounds.maxStep) of \(current)")
        }
        return GovernanceProposal(id: txid, payload: payload, height: context.height)
    }

    /// Start no earlier than the proposal's block and at most `maxStartDelay` after it; a
    /// voting span (`deadline - start`) and an activation delay within the network's bounds.
    static func checkWindow(_ payload: GovernanceProposalPayload, height: UInt64, parameters: GovernanceParameters) throws(Rejection) {
        guard payload.startHeight >= height, payload.startHeight - height <= parameters.maxStartDelay else {
            throw Rejection(.governanceWindow, "start \(payload.startHeight) must be in \(height)...\(height) + \(parameters.maxStartDelay)")
        }
        guard payload.deadlineHeight >= payload.startHeight, parameters.votingBlocks.contains(payload.deadlineHeight - payload.startHeight) else {
            throw Rejection(.governanceWindow, "voting span \(payload.startHeight)...\(payload.deadlineHeight) must last \(parameters.votingBlocks) blocks")
        }
        guard parameters.activationDelay.contains(payload.activationDelay), payload.activationHeight != nil else {
            throw Rejection(.governanceWindow, "activation delay \(payload.activationDelay) outside \(parameters.activationDelay)")
        }
    }

    /// A vote that passed every rule but its signature, with the key it must verify under.
    struct CheckedVote {
        var payload: GovernanceVotePayload
        var record: GovernanceVoteRecord
        var ownerKey: [UInt8]
    }

    static func vote(_ transaction: Transaction, txid: Hash256, context: Context, ledger: GovernanceLedger) throws(Rejection) -> CheckedVote {
        let payload = try GovernanceVotePayload(transaction: transaction)
        guard let proposal = ledger.proposal(payload.proposalId) else {
            throw Rejection(.governanceProposalUnknown, "no proposal \(payload.proposalId.hex)")
        }
        let height = context.height
        guard proposal.isOpen, proposal.payload.startHeight <= height, height <= proposal.payload.deadlineHeight else {
            throw Rejection(.governanceVoteWindow, "height \(height) outside \(proposal.payload.startHeight)...\(proposal.payload.deadlineHeight)\(proposal.isOpen ? "" : " (closed)")")
        }
        guard let entry = context.list[payload.proTxHash] else { throw Rejection(.governanceVoter, "no masternode \(payload.proTxHash.hex)") }
        guard entry.isValid(at: height, maturity: context.masternodeParameters.registrationMaturity) else {
            throw Rejection(.governanceVoter, "masternode \(payload.proTxHash.hex) is \(entry.isBanned ? "banned" : "not mature") at height \(height)")
        }
        if let earlier = ledger.vote(of: payload.proTxHash, on: payload.proposalId), payload.sequence <= earlier.sequence {
            throw Rejection(.governanceVoteSequence, "sequence \(payload.sequence) does not follow the counted vote's \(earlier.sequence)")
        }
        let record = GovernanceVoteRecord(proposalId: payload.proposalId, proTxHash: payload.proTxHash, outcome: payload.outcome,
                                          sequence: payload.sequence, height: height, txid: txid)
        return CheckedVote(payload: payload, record: record, ownerKey: entry.ownerKey)
    }

    /// Tallies and closes every open proposal whose deadline is `context.height`: approved
    /// records its change, slashed burns its collateral (the coin goes to `undo.burned`).
    static func close(at context: Context, ledger: inout GovernanceLedger, undo: inout GovernanceLedgerUndo,
                      coin: (OutPoint) throws -> Coin?) throws {
        let closing = ledger.openProposals.filter { $0.payload.deadlineHeight == context.height }
        guard !closing.isEmpty else { return }
        let maturity = context.masternodeParameters.registrationMaturity
        let valid = context.list.entries.values.reduce(0) { $0 + ($1.isValid(at: context.height, maturity: maturity) ? 1 : 0) }
        for var proposal in closing {
            let tally = tally(of: proposal.id, ledger: ledger, list: context.list, height: context.height, maturity: maturity, validMasternodes: valid)
            let result = tally.result
            proposal.closing = GovernanceClosing(tally: tally, result: result, activationHeight: result == .approved ? proposal.payload.activationHeight : nil)
            ledger.setProposal(proposal, undo: &undo)
            if result == .slashed, let burned = try coin(proposal.collateral) { undo.burned.append((proposal.collateral, burned)) }
        }
    }

    /// The count of the last vote of each masternode valid at `height`.
    public static func tally(of proposalId: Hash256, ledger: GovernanceLedger, list: MasternodeList, height: UInt64, maturity: UInt64,
                             validMasternodes: Int? = nil) -> GovernanceTally {
        let valid = validMasternodes ?? list.entries.values.reduce(0) { $0 + ($1.isValid(at: height, maturity: maturity) ? 1 : 0) }
        let outcomes = ledger.votesUnordered(of: proposalId).lazy.compactMap { vote in
            list[vote.proTxHash]?.isValid(at: height, maturity: maturity) == true ? vote.outcome : nil
        }
        return GovernanceTally(outcomes: outcomes, validMasternodes: valid)
    }
}
