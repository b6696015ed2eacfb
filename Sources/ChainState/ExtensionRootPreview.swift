// The extension root a block on top of the tip must commit to, computed without changing
// anything: for block builders (templates, generators, tests) whose blocks carry masternode,
// quorum or governance effects.

import Consensus
import Governance
import Masternodes
import Primitives
import Quorums

extension ChainState {
    /// The extension root after `block` as the next block (height tip + 1): its masternode
    /// rules (signatures verified at once), its quorum commitments and rotations, and its
    /// governance effects, each applied to a copy. Throws the `Rejection` a rule raises.
    public func extensionRoot(after block: Block) throws -> Hash256 {
        let height = tip.height + 1
        let txids = block.transactions.map(\.txid)
        var list = masternodes
        let commitments = try QuorumBlockRules.check(block, context: quorumContext(height: height), parameters: quorumParameters,
                                                     masternodeParameters: masternodeParameters)
        var listUndo = try withCoinsAfter(block, txids: txids, height: height) { coin in
            try MasternodeRules.apply(block, txids: txids, height: height, to: &list, parameters: masternodeParameters(atHeight: height), coin: coin)
        }
        var set = quorums
        _ = QuorumBlockRules.apply(commitments, height: height, to: &set, list: &list, listUndo: &listUndo,
                                   parameters: quorumParameters, masternodeParameters: masternodeParameters)
        return ExtensionRoot.compute(masternodes: list.root(), quorums: set.root(parameters: quorumParameters),
                                     governance: try governanceRoot(after: block, txids: txids, list: list))
    }

    /// The governance root after `block` as the next block, where `list` is the masternode
    /// list after its masternode and quorum effects (what a template builder holds); owner
    /// signatures verified at once. Throws the `Rejection` a governance rule raises.
    public func governanceRoot(after block: Block, txids: [Hash256]? = nil, list: MasternodeList) throws -> Hash256 {
        let height = tip.height + 1
        let ids = txids ?? block.transactions.map(\.txid)
        guard GovernanceRules.affects(block, height: height, ledger: governance) else { return governance.root() }
        var ledger = governance
        var noBatch: PayloadSignatureChecks? = nil
        let context = GovernanceRules.Context(height: height, list: list, parameters: governanceParameters, masternodeParameters: masternodeParameters)
        _ = try withCoinsAfter(block, txids: ids, height: height) { coin in
            try GovernanceRules.apply(block, txids: ids, context: context, to: &ledger, coin: coin, signatures: &noBatch)
        }
        return ledger.root()
    }
}
