import BLAKE3
import Consensus
import Primitives

/// The governance state after a block (PROTOCOL section 18.4): every mined proposal (open or
/// closed), the counting vote of each masternode on each, the collateral outputs locked by
/// open proposals and the executed changes. Changes go through `setProposal`/`setVote`, which
/// record the previous value in a `GovernanceLedgerUndo`, so disconnecting a block is exact.
public struct GovernanceLedger: Sendable {
    public private(set) var proposals: [Hash256: GovernanceProposal] = [:]
    private var votesByProposal: [Hash256: [Hash256: GovernanceVoteRecord]] = [:]
    private var locked: [OutPoint: Hash256] = [:]
    private var openByParameter: [UInt16: Hash256] = [:]
    /// Approved changes, in application order.
    public private(set) var executedChanges: [ExecutedChange] = []
    /// Each proposal's vote root, kept until one of its votes changes.
    private var voteRoots: [Hash256: Hash256] = [:]
    private var cachedRoot: Hash256?

    public init() {}

    /// The ledger of stored records (a vote without its proposal is ignored).
    public init(proposals: some Sequence<GovernanceProposal>, votes: some Sequence<GovernanceVoteRecord>) {
        for proposal in proposals { replaceProposal(old: nil, new: proposal) }
        for vote in votes where self.proposals[vote.proposalId] != nil { votesByProposal[vote.proposalId, default: [:]][vote.proTxHash] = vote }
    }

    public var isEmpty: Bool { proposals.isEmpty }
    public func proposal(_ id: Hash256) -> GovernanceProposal? { proposals[id] }

    /// The counting votes on a proposal, ordered by masternode id.
    public func votes(of proposalId: Hash256) -> [GovernanceVoteRecord] {
        (votesByProposal[proposalId] ?? [:]).values.sorted { $0.proTxHash < $1.proTxHash }
    }

    /// The counting votes on a proposal in no particular order (no copy, no sort: the tally's view).
    public func votesUnordered(of proposalId: Hash256) -> Dictionary<Hash256, GovernanceVoteRecord>.Values {
        (votesByProposal[proposalId] ?? [:]).values
    }

    public func vote(of proTxHash: Hash256, on proposalId: Hash256) -> GovernanceVoteRecord? { votesByProposal[proposalId]?[proTxHash] }
    public func voteCount(of proposalId: Hash256) -> Int { votesByProposal[proposalId]?.count ?? 0 }

    /// The open proposal whose collateral is `outpoint`.
    public func lockedCollateral(_ outpoint: OutPoint) -> Hash256? { locked.isEmpty ? nil : locked[outpoint] }
    public var hasLockedCollateral: Bool { !locked.isEmpty }

    /// The open proposal on `parameter` (at most one: section 18.2's overlap rule).
    public func openProposal(on parameterId: UInt16) -> GovernanceProposal? { openByParameter[parameterId].flatMap { proposals[$0] } }
    public var openProposals: [GovernanceProposal] { openByParameter.values.compactMap { proposals[$0] }.sorted { $0.id < $1.id } }

    /// The value `parameter` will have once every executed change is active (the one a new
    /// proposal's step is measured from, since it must activate after all of them).
    public func scheduledValue(_ parameter: GovernanceParameter, initial: UInt64) -> UInt64 {
        executedChanges.last { $0.parameter == parameter }?.value ?? initial
    }

    /// The value of `parameter` in force for the block just before `activationHeight`, as far
    /// as the executed changes go (what a proposal activating there changes).
    public func valueBefore(activationHeight: UInt64, of parameter: GovernanceParameter, initial: UInt64) -> UInt64 {
        executedChanges.last { $0.parameter == parameter && $0.activationHeight < activationHeight }?.value ?? initial
    }

    /// The parameters for a block at `height`: exact up to the height after the ledger's
    /// block (a change executes at a deadline and activates at least a block later).
    public func parametersInForce(atHeight height: UInt64, initial: [GovernanceParameter: UInt64]) -> GovernedParameters {
        GovernedParameters(initial: initial, changes: executedChanges, height: height)
    }

    // MARK: - Changes

    public mutating func setProposal(_ proposal: GovernanceProposal, undo: inout GovernanceLedgerUndo) {
        let old = proposals[proposal.id]
        undo.changes.append(.proposal(id: proposal.id, previous: old))
        replaceProposal(old: old, new: proposal)
    }

    public mutating func setVote(_ vote: GovernanceVoteRecord, undo: inout GovernanceLedgerUndo) {
        let old = votesByProposal[vote.proposalId]?[vote.proTxHash]
        undo.changes.append(.vote(proposalId: vote.proposalId, proTxHash: vote.proTxHash, previous: old))
        replaceVote(proposalId: vote.proposalId, proTxHash: vote.proTxHash, with: vote)
    }

    /// Restores the state before the changes `undo` recorded (newest first).
    public mutating func revert(_ undo: GovernanceLedgerUndo) {
        for change in undo.changes.reversed() {
            switch change {
            case .proposal(let id, let previous):
                replaceProposal(old: proposals[id], new: previous, id: id)
            case .vote(let proposalId, let proTxHash, let previous):
                replaceVote(proposalId: proposalId, proTxHash: proTxHash, with: previous)
            }
        }
    }

    private mutating func replaceProposal(old: GovernanceProposal?, new: GovernanceProposal?, id: Hash256? = nil) {
        guard let id = id ?? new?.id ?? old?.id else { return }
        cachedRoot = nil
        if let old {
            if old.isOpen {
                locked[old.collateral] = nil
                if openByParameter[old.payload.parameterId] == id { openByParameter[old.payload.parameterId] = nil }
            }
            if old.closing?.result == .approved { executedChanges.removeAll { $0.proposalId == id } }
        }
        proposals[id] = new
        guard let new else {
            votesByProposal[id] = nil
            voteRoots[id] = nil
            return
        }
        if new.isOpen {
            locked[new.collateral] = id
            openByParameter[new.payload.parameterId] = id
        }
        if let closing = new.closing, closing.result == .approved, let parameter = new.payload.parameter, let activation = closing.activationHeight {
            let change = ExecutedChange(proposalId: id, parameter: parameter, value: new.payload.newValue, activationHeight: activation,
                                        deadlineHeight: new.payload.deadlineHeight)
            let position = executedChanges.firstIndex { ExecutedChange.precedes(change, $0) } ?? executedChanges.endIndex
            executedChanges.insert(change, at: position)
        }
    }

    private mutating func replaceVote(proposalId: Hash256, proTxHash: Hash256, with vote: GovernanceVoteRecord?) {
        cachedRoot = nil
        voteRoots[proposalId] = nil
        votesByProposal[proposalId, default: [:]][proTxHash] = vote
        if votesByProposal[proposalId]?.isEmpty == true { votesByProposal[proposalId] = nil }
    }

    // MARK: - Commitment

    /// The governance component of the extension root (section 18.7): the Merkle root over
    /// the proposals sorted by id, each leaf keyed_hash(K_governance proposal, record ||
    /// vote root), the vote root being the Merkle root of its votes' leaves sorted by
    /// masternode id; zero when no proposal was ever mined.
    public mutating func root() -> Hash256 {
        if let cachedRoot { return cachedRoot }
        var leaves = [Hash256]()
        leaves.reserveCapacity(proposals.count)
        for id in proposals.keys.sorted() {
            guard let proposal = proposals[id] else { continue }
            let votesRoot = voteRoots[id] ?? Self.voteRoot(votesByProposal[id])
            voteRoots[id] = votesRoot
            leaves.append(Hash256(bytes: BLAKE3.keyedHash(key: GovernanceProposal.leafKey, proposal.encoded + votesRoot.bytes))!)
        }
        let root = leaves.isEmpty ? Hash256.zero : Merkle.root(of: leaves)
        cachedRoot = root
        return root
    }

    /// The root without updating the caches (for a ledger held by a `let`).
    public var computedRoot: Hash256 {
        var copy = self
        return copy.root()
    }

    static func voteRoot(_ votes: [Hash256: GovernanceVoteRecord]?) -> Hash256 {
        guard let votes, !votes.isEmpty else { return .zero }
        return Merkle.root(of: votes.keys.sorted().compactMap { votes[$0]?.leafHash })
    }
}
