// The governance side of a block template (PROTOCOL section 18): the header commits to the
// governance ledger after the block (proposals opened, votes counted, deadlines tallied),
// computed by the chain's own rules on a copy of the tip's ledger. A transaction the
// governance rules reject is left out instead of making the whole block invalid: proposals
// and locked-collateral spends are checked with the masternode selection (so a dropped one
// takes its descendants), votes (no outputs, nothing depends on them) here.

import ChainState
import Consensus
import Governance
import Masternodes
import Primitives

enum TemplateGovernance {
    /// Whether `transaction` fails the governance rules of a block at `height` on the tip's
    /// ledger, judged against `list` (the masternode list so far). Votes are left to `root`,
    /// which judges them in block order with their signatures deferred (the pool checked them).
    static func check(_ transaction: Transaction, txid: Hash256, on state: ChainState, height: UInt64, list: MasternodeList) throws(Rejection) {
        guard transaction.specialType != .governanceVote else { return }
        guard transaction.specialType == .governanceProposal || state.governance.hasLockedCollateral else { return }
        try GovernanceRules.check(transaction, txid: txid, context: context(on: state, height: height, list: list), ledger: state.governance)
    }

    /// The governance root after a block of `transactions` (after the coinbase) at `height`
    /// whose masternode effects give `list`, with the votes the rules reject removed (their
    /// txids in `dropped`). Anything else rejected throws: the selection checked it already.
    static func root(on state: ChainState, height: UInt64, transactions: inout [Transaction], ids: inout [(txid: Hash256, wtxid: Hash256)],
                     list: MasternodeList, dropped: inout [Hash256]) throws -> Hash256 {
        dropStaleVotes(on: state, transactions: &transactions, ids: &ids, dropped: &dropped)
        let coinbase = Transaction.coinbase(height: height, extraNonce: 0, outputs: [])
        let header = BlockHeader(version: HeaderRules.version, height: height, previousHash: state.tip.hash, merkleRoot: .zero,
                                 stateRoot: .zero, time: 0, bits: 0, nonce: 0)
        while true {
            let block = Block(header: header, transactions: [coinbase] + transactions)
            var ledger = state.governance
            guard GovernanceRules.affects(block, height: height, ledger: ledger) else { return ledger.root() }
            var deferred: PayloadSignatureChecks? = PayloadSignatureChecks()
            do {
                _ = try GovernanceRules.apply(block, txids: [coinbase.txid] + ids.map(\.txid), context: context(on: state, height: height, list: list),
                                              to: &ledger, coin: { try state.utxo.coin($0) }, signatures: &deferred)
                return ledger.root()
            } catch let rejection as Rejection {
                guard let position = rejection.transaction, position >= 1, position <= transactions.count,
                      transactions[position - 1].specialType == .governanceVote else { throw rejection }
                dropped.append(ids[position - 1].txid)
                transactions.remove(at: position - 1)
                ids.remove(at: position - 1)
            }
        }
    }

    /// Drops, up front, the votes that would make the block `gov-vote-sequence` (a sequence not
    /// above the one the ledger counts: the pool may hold a vote a newer mined one overtook) or
    /// `gov-vote-duplicate` (a second vote of one masternode on one proposal; the first stays),
    /// so that a block of many such votes is not re-applied once per vote.
    static func dropStaleVotes(on state: ChainState, transactions: inout [Transaction], ids: inout [(txid: Hash256, wtxid: Hash256)],
                               dropped: inout [Hash256]) {
        var seen = Set<[Hash256]>()
        var kept = [Int]()
        for (index, transaction) in transactions.enumerated() {
            guard transaction.specialType == .governanceVote, let vote = try? GovernanceVotePayload(transaction: transaction) else {
                kept.append(index)
                continue
            }
            let stale = state.governance.vote(of: vote.proTxHash, on: vote.proposalId).map { vote.sequence <= $0.sequence } ?? false
            if stale || !seen.insert([vote.proposalId, vote.proTxHash]).inserted {
                dropped.append(ids[index].txid)
            } else {
                kept.append(index)
            }
        }
        guard kept.count < transactions.count else { return }
        transactions = kept.map { transactions[$0] }
        ids = kept.map { ids[$0] }
    }

    static func context(on state: ChainState, height: UInt64, list: MasternodeList) -> GovernanceRules.Context {
        GovernanceRules.Context(height: height, list: list, parameters: state.governanceParameters, masternodeParameters: state.masternodeParameters)
    }
}
