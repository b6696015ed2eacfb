import Consensus
import Masternodes
import Primitives

/// The governance rules of PROTOCOL section 18, applied in block order after the block's
/// masternode rules (voters are judged by the list after them): each transaction may not
/// spend (or register a masternode on) a locked collateral; a proposal is checked and
/// opened, locking its collateral; a vote is checked and replaces the masternode's earlier
/// vote. At the end of the block every proposal whose deadline it is gets tallied and closed.
/// The mempool checks single transactions with `check`, through the same functions.
public enum GovernanceRules {
    /// What the rules read besides the ledger.
    public struct Context {
        public var height: UInt64
        /// The masternode list after the block's masternode rules.
        public var list: MasternodeList
        /// Nil: the network has no governance (every proposal is rejected).
        public var parameters: GovernanceParameters?
        public var masternodeParameters: MasternodeParameters

        public init(height: UInt64, list: MasternodeList, parameters: GovernanceParameters?, masternodeParameters: MasternodeParameters) {
            self.height = height
            self.list = list
            self.parameters = parameters
            self.masternodeParameters = masternodeParameters
        }
    }

    /// Whether `block` at `height` can change the ledger at all (most blocks cannot, and pay nothing).
    public static func affects(_ block: Block, height: UInt64, ledger: GovernanceLedger) -> Bool {
        if ledger.openProposals.contains(where: { $0.payload.deadlineHeight == height }) { return true }
        for transaction in block.transactions.dropFirst() {
            if transaction.specialType == .governanceProposal || transaction.specialType == .governanceVote { return true }
            if ledger.hasLockedCollateral && (spentLockedCollateral(transaction, ledger: ledger) != nil
                || transaction.specialType == .masternodeRegister) { return true }
        }
        return false
    }

    /// Applies every governance effect of `block` to `ledger`; returns the undo, whose
    /// `burned` names the collateral coins (`coin` answers as after the block) the caller must
    /// remove from the UTXO set. Owner signatures are appended to `signatures` for the block's
    /// batch (nil: verified at once). On a rejection `ledger` is unchanged.
    public static func apply(_ block: Block, txids: [Hash256], context: Context, to ledger: inout GovernanceLedger,
                             coin: (OutPoint) throws -> Coin?, signatures: inout PayloadSignatureChecks?) throws -> GovernanceLedgerUndo {
        var undo = GovernanceLedgerUndo()
        var votedInBlock = Set<VoteKey>()
        do {
            for (index, transaction) in block.transactions.enumerated() where index > 0 {
                let txid = index < txids.count ? txids[index] : transaction.txid
                do {
                    try checkSpends(transaction, ledger: ledger)
                    switch transaction.specialType {
                    case .governanceProposal:
                        ledger.setProposal(try proposal(transaction, txid: txid, context: context, ledger: ledger), undo: &undo)
                    case .governanceVote:
                        let vote = try vote(transaction, txid: txid, context: context, ledger: ledger)
                        guard votedInBlock.insert(VoteKey(proposal: vote.record.proposalId, masternode: vote.record.proTxHash)).inserted else {
                            throw Rejection(.governanceVoteDuplicate, "a second vote of \(vote.record.proTxHash.hex) on \(vote.record.proposalId.hex) in the block")
                        }
                        if signatures != nil {
                            signatures?.append(SignatureCheck(publicKey: vote.ownerKey, signature: vote.payload.signature, message: vote.payload.signingHash),
                                               transaction: index)
                        } else if !vote.payload.signatureVerifies(publicKey: vote.ownerKey) {
                            throw Rejection(.specialSignature, "gov-vote is not signed by the masternode's owner key")
                        }
                        ledger.setVote(vote.record, undo: &undo)
                    default:
                        break
                    }
                } catch let rejection as Rejection {
                    throw rejection.at(transaction: index)
                }
            }
            try close(at: context, ledger: &ledger, undo: &undo, coin: coin)
        } catch {
            ledger.revert(undo)
            throw error
        }
        return undo
    }

    /// The mempool's check of one transaction as the next block at `context.height` would
    /// apply it (signatures verified at once); mutates nothing.
    /// `verifyingSignature` false skips a vote's owner signature only: for re-checking, against a
    /// new tip, a vote whose signature was verified already: the signed fields cannot change,
    /// and the owner key is fixed by the proTxHash (the registration's txid commits to it).
    public static func check(_ transaction: Transaction, txid: Hash256, context: Context, ledger: GovernanceLedger,
                             verifyingSignature: Bool = true) throws(Rejection) {
        try checkSpends(transaction, ledger: ledger)
        switch transaction.specialType {
        case .governanceProposal:
            _ = try proposal(transaction, txid: txid, context: context, ledger: ledger)
        case .governanceVote:
            let vote = try vote(transaction, txid: txid, context: context, ledger: ledger)
            guard !verifyingSignature || vote.payload.signatureVerifies(publicKey: vote.ownerKey) else {
                throw Rejection(.specialSignature, "gov-vote is not signed by the masternode's owner key")
            }
        default:
            break
        }
    }

    /// The first locked collateral `transaction` spends.
    public static func spentLockedCollateral(_ transaction: Transaction, ledger: GovernanceLedger) -> OutPoint? {
        guard ledger.hasLockedCollateral else { return nil }
        return transaction.inputs.first { ledger.lockedCollateral($0.previousOutput) != nil }?.previousOutput
    }

    /// No spend of a locked collateral, and no masternode registered on one (its burn would
    /// remove a masternode's collateral without a spend).
    static func checkSpends(_ transaction: Transaction, ledger: GovernanceLedger) throws(Rejection) {
        guard ledger.hasLockedCollateral else { return }
        if let outpoint = spentLockedCollateral(transaction, ledger: ledger) {
            throw Rejection(.governanceCollateralLocked, "\(outpoint) is the collateral of open proposal \(ledger.lockedCollateral(outpoint)?.hex ?? "")")
        }
        if transaction.specialType == .masternodeRegister, let payload = try? MasternodeRegisterPayload.decode(payload: transaction.payload),
           payload.collateral.txid != .zero, let holder = ledger.lockedCollateral(payload.collateral) {
            throw Rejection(.governanceCollateralLocked, "\(payload.collateral) is the collateral of open proposal \(holder.hex)")
        }
    }

    struct VoteKey: Hashable {
        var proposal: Hash256
        var masternode: Hash256
    }
}
