// The governance ledger in the chain state (PROTOCOL section 18): each block's proposals and
// votes are applied after its masternode and quorum effects (to a copy, staged until the
// block connects, as the quorum set is), its deadline tallies close proposals and burn the
// collateral of slashed ones from the UTXO set, the ledger's root joins the extension root,
// the block's undo record restores all of it, and the "governance" column family persists it
// in the same batch as the masternode list.

import Consensus
import Foundation
import Governance
import Masternodes
import Primitives
import Storage

extension ChainState {
    static let governanceFamilyName = "governance"
    /// Key of the marker naming the block the stored ledger follows (records have 33- and 65-byte keys).
    static let governanceMarkerKey = Array("ledger-after-block".utf8)

    /// The value of every governed parameter for a block at `height`: the network's values
    /// overlaid by the executed changes active at that height. Exact for every height up to
    /// the one after the tip (a change activates at least a block after the deadline that
    /// executed it); above that, the changes executed so far.
    public func parametersInForce(atHeight height: UInt64) -> GovernedParameters {
        governance.parametersInForce(atHeight: height, initial: governanceInitialValues)
    }

    /// Start values of the governed parameters (the network's file).
    var governanceInitialValues: [GovernanceParameter: UInt64] {
        governanceParameters?.initialValues ?? Dictionary(uniqueKeysWithValues: GovernanceParameter.allCases.map { ($0, $0.initialValue(parameters.chain)) })
    }

    /// The masternode numbers for a block at `height`: the collateral of new registrations is governed.
    public func masternodeParameters(atHeight height: UInt64) -> MasternodeParameters {
        guard governanceParameters?.bounds[.masternodeCollateral] != nil else { return masternodeParameters }
        var governed = masternodeParameters
        governed.collateral = parametersInForce(atHeight: height).masternodeCollateral
        return governed
    }

    /// The mempool's check of a governance transaction (or any spend of a locked collateral)
    /// as the next block would apply it: against the tip, at height tip + 1.
    /// `verifyingSignature`: see `GovernanceRules.check`.
    public func checkGovernanceTransaction(_ transaction: Transaction, txid: Hash256? = nil, verifyingSignature: Bool = true) throws(Rejection) {
        try GovernanceRules.check(transaction, txid: txid ?? transaction.txid, context: governanceContext(height: tip.height + 1), ledger: governance,
                                  verifyingSignature: verifyingSignature)
    }

    /// The count of a proposal: final once closed, otherwise its votes as they would count
    /// against the masternodes valid at the tip.
    public func governanceTally(of proposalId: Hash256) -> GovernanceTally? {
        guard let proposal = governance.proposal(proposalId) else { return nil }
        if let closing = proposal.closing { return closing.tally }
        return GovernanceRules.tally(of: proposalId, ledger: governance, list: masternodes, height: tip.height,
                                     maturity: masternodeParameters.registrationMaturity)
    }

    func governanceContext(height: UInt64) -> GovernanceRules.Context {
        GovernanceRules.Context(height: height, list: masternodes, parameters: governanceParameters, masternodeParameters: masternodeParameters)
    }

    /// Applies `block`'s governance effects to a copy of the ledger (the masternode list
    /// already holds the block's changes) and stages it until the block connects; the owner
    /// signatures join `signatures`. Returns the governance root after the block.
    func stageGovernance(_ block: Block, node: BlockNode, txids: [Hash256], signatures: inout PayloadSignatureChecks) throws -> Hash256 {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { lastGovernanceSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        guard GovernanceRules.affects(block, height: node.height, ledger: governance) else {
            stagedGovernance = nil
            return governance.root()
        }
        var next = governance
        var collected: PayloadSignatureChecks? = signatures
        let undo = try withCoinsAfter(block, txids: txids, height: node.height) { coin in
            try GovernanceRules.apply(block, txids: txids, context: governanceContext(height: node.height), to: &next, coin: coin,
                                      signatures: &collected)
        }
        signatures = collected ?? signatures
        stagedGovernance = (node.hash, next, undo)
        return next.root()
    }

    /// Makes the ledger staged for `hash` the state and burns the slashed collateral; returns the undo.
    func commitStagedGovernance(_ hash: Hash256) -> GovernanceLedgerUndo {
        guard let staged = stagedGovernance, staged.hash == hash else { return GovernanceLedgerUndo() }
        stagedGovernance = nil
        governance = staged.ledger
        noteGovernanceChanges(staged.undo)
        for (outpoint, _) in staged.undo.burned { utxo.spend(outpoint) }
        return staged.undo
    }

    /// Reverts the governance effects of the tip block being disconnected (its burned coins return).
    func disconnectGovernance(_ undo: GovernanceLedgerUndo) {
        guard !undo.isEmpty else { return }
        governance.revert(undo)
        noteGovernanceChanges(undo)
        for (outpoint, coin) in undo.burned { utxo.add(outpoint, coin) }
    }

    func noteGovernanceChanges(_ undo: GovernanceLedgerUndo) {
        for change in undo.changes {
            switch change {
            case .proposal(let id, _): dirtyGovernance.insert(.proposal(id))
            case .vote(let proposalId, let proTxHash, _): dirtyGovernance.insert(.vote(proposalId, proTxHash))
            }
        }
    }

    /// The limit in force at the block's height (section 18.6); the context-free rule checked the ceiling.
    func checkGovernedBlockSize(_ size: @autoclosure () -> Int, node: BlockNode) throws {
        let limit = parametersInForce(atHeight: node.height).maxBlockBytes
        guard limit < parameters.maxBlockBytesCeiling else { return }
        do { try ContextFreeRules.checkBlockSize(size(), limit: limit) } catch {
            throw ChainStateError.rejected(error, height: node.height, hash: node.hash)
        }
    }

    // MARK: - Persistence

    /// A ledger record changed since the last flush.
    enum GovernanceRecordKey: Hashable {
        case proposal(Hash256)
        case vote(Hash256, Hash256)  // proposal id, masternode
    }

    static func proposalKey(_ id: Hash256) -> [UInt8] { [0x70] + id.bytes }
    static func voteKey(_ proposalId: Hash256, _ proTxHash: Hash256) -> [UInt8] { [0x76] + proposalId.bytes + proTxHash.bytes }

    private enum GovernanceRecord {
        case proposal(GovernanceProposal)
        case vote(GovernanceVoteRecord)
    }

    /// Loads the ledger as of the last flush (empty for a datadir from before its family).
    func loadGovernance() throws {
        guard let family = governanceFamily else { return }
        let records = try loadRecordsAtTip(family, markerKey: Self.governanceMarkerKey, state: "governance ledger") { key, value -> GovernanceRecord? in
            if key.count == 33, let proposal = try? GovernanceProposal(decoding: value), Self.proposalKey(proposal.id) == key {
                return .proposal(proposal)
            }
            if key.count == 65, let vote = try? GovernanceVoteRecord(decoding: value), Self.voteKey(vote.proposalId, vote.proTxHash) == key {
                return .vote(vote)
            }
            return nil
        }
        var proposals = [GovernanceProposal](), votes = [GovernanceVoteRecord]()
        for record in records {
            switch record {
            case .proposal(let proposal): proposals.append(proposal)
            case .vote(let vote): votes.append(vote)
            }
        }
        governance = GovernanceLedger(proposals: proposals, votes: votes)
    }

    /// Adds the records changed since the last flush, and the marker, to the flush's batch.
    func writeGovernance(into batch: RocksDB.WriteBatch) {
        guard let family = governanceFamily else { return }
        for record in dirtyGovernance {
            let key: [UInt8], value: [UInt8]?
            switch record {
            case .proposal(let id):
                (key, value) = (Self.proposalKey(id), governance.proposal(id)?.encoded)
            case .vote(let proposalId, let proTxHash):
                (key, value) = (Self.voteKey(proposalId, proTxHash), governance.vote(of: proTxHash, on: proposalId)?.encoded)
            }
            if let value { batch.put(family, key, value) } else { batch.delete(family, key) }
        }
        dirtyGovernance.removeAll(keepingCapacity: true)
        batch.put(family, Self.governanceMarkerKey, tip.hash.bytes)
    }
}
