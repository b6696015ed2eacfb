// The quorum side of a block template (PROTOCOL section 17.6): commitments that fail the
// quorum rules on this tip (mined meanwhile, out of their window, a second one for a
// quorum) stay out, and the header commits to the quorum root after the block, with the
// penalties the kept commitments give applied to the list. Commitments have no outputs,
// so dropping one drops nothing else.

import ChainState
import Consensus
import Masternodes
import Primitives
import Quorums

enum TemplateQuorums {
    struct Selection {
        var transactions: [Transaction]
        var ids: [(txid: Hash256, wtxid: Hash256)]?
        var commitments: [CheckedQuorumCommitment] = []
        var dropped: [Hash256] = []
    }

    /// `transactions` without the commitments the chain would reject on top of the tip.
    static func select(on state: ChainState, transactions: [Transaction], ids: [(txid: Hash256, wtxid: Hash256)]?) -> Selection {
        guard transactions.contains(where: { $0.specialType == .quorumCommitment }) else { return Selection(transactions: transactions, ids: ids) }
        var selection = Selection(transactions: [], ids: ids == nil ? nil : [])
        var seen = Set<QuorumKey>()
        for (index, transaction) in transactions.enumerated() {
            if transaction.specialType == .quorumCommitment {
                guard let checked = try? state.checkQuorumCommitment(transaction),
                      seen.insert(QuorumKey(type: checked.type.id, quorumHash: checked.payload.quorumHash)).inserted else {
                    selection.dropped.append(ids?[index].txid ?? transaction.txid)
                    continue
                }
                selection.commitments.append(checked)
            }
            selection.transactions.append(transaction)
            if let ids { selection.ids?.append(ids[index]) }
        }
        return selection
    }

    /// The extension root after the block: `list` is the masternode list after its
    /// masternode rules; the commitments' penalties change it before its root is taken, and
    /// `governance` gets that list (the governance rules judge voters by it) and gives the
    /// governance root.
    static func extensionRoot(on state: ChainState, commitments: [CheckedQuorumCommitment], list: MasternodeList,
                              governance: (MasternodeList) throws -> Hash256) rethrows -> Hash256 {
        var list = list
        let quorumRoot = state.quorumRootAfter(commitments, list: &list)
        return ExtensionRoot.compute(masternodes: list.root(), quorums: quorumRoot, governance: try governance(list))
    }
}
