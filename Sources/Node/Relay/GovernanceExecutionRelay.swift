// Governance execution relay (docs/protocol/governance-execution.md section 4): a signed
// execution record (`govexec`) from a peer, or recovered by this masternode's quorum
// service, is judged against this node's chain (the proposal closed with exactly this
// record; a signature by a chain-lock quorum of the set), kept in the archive and sent to
// every peer that does not know it, so every node, not only masternodes, can answer
// `gobject execution` with the quorum's signature. A record whose proposal has not closed
// here yet (this node is behind) waits, bounded, and is judged again at each new tip.

import ChainState
import Consensus
import Governance
import Logging
import Primitives
import QuorumServices
import Quorums
import Wire

/// What this node makes of a signed execution record.
enum GovernanceExecutionVerdict: Equatable {
    /// Matches this chain and verifies: keep it and pass it on.
    case accepted
    /// The proposal is unknown or still open here: judge it again at a later tip.
    case waiting
    /// Not for this chain (another outcome, a quorum this chain does not have): dropped; the
    /// sender may follow another branch, so it is not its fault.
    case notOurs(String)
    /// Provably bad on any chain (wrong quorum type, a signature for another request, or one
    /// that does not verify under the named quorum's key): the sender misbehaved.
    case invalid(String)
}

/// The relay's bookkeeping, on the peer manager's loop.
struct GovernanceExecutionRelayState {
    var archive = GovernanceExecutionArchive(path: nil)
    /// Peers that sent (or were sent) each recent message, by message id.
    var knownBy: [Hash256: Set<Int>] = [:]
    var recent: [Hash256] = []
    /// Records waiting for their proposal to close here, by message id, with their sender.
    var waiting: [Hash256: (execution: SignedGovernanceExecution, from: Int?)] = [:]
    /// The snapshot sequence at the last look at `waiting`.
    var waitingCheckedAt: UInt64?
    let chainLockType: QuorumTypeID?
    /// The governance ledger and quorum set records are judged against: the snapshot's
    /// (in-process tests put their own here).
    var chainView: @Sendable (ChainSnapshot) -> (governance: GovernanceLedger, quorums: QuorumSet) = { ($0.governance, $0.quorums) }

    static let maxRecent = 256
    static let maxWaiting = 32
    /// A new connection is sent the records of proposals closed in this many latest blocks,
    /// at most `maxCatchUp` of them: a node that was away when they spread still gets them.
    static let catchUpBlocks: UInt64 = 1_000
    static let maxCatchUp = 64

    init(parameters: ConsensusParameters) {
        chainLockType = (try? QuorumParameters(parameters.chain))?.chainLockType
    }

    /// The verdict on `execution` at `snapshot`.
    func judge(_ execution: SignedGovernanceExecution, snapshot: ChainSnapshot) -> GovernanceExecutionVerdict {
        let view = chainView(snapshot)
        return Self.judge(execution, governance: view.governance, quorums: view.quorums, chainLockType: chainLockType)
    }

    /// The verdict on `execution` given a chain's governance ledger and quorum set.
    static func judge(_ execution: SignedGovernanceExecution, governance: GovernanceLedger, quorums: QuorumSet,
                      chainLockType: QuorumTypeID?) -> GovernanceExecutionVerdict {
        let signature = execution.signature, record = execution.record
        guard let type = chainLockType else { return .notOurs("this network has no chain-lock quorum type") }
        guard signature.quorumType == type.rawValue else {
            return .invalid("signed by quorum type \(signature.quorumType), not the chain-lock type \(type.rawValue)")
        }
        guard signature.request == record.request(quorumType: type.rawValue) else {
            return .invalid("the signature answers another request than the record of \(record.proposalId.hex)")
        }
        guard let quorum = quorums[QuorumKey(type: type, quorumHash: signature.quorumHash)] else {
            return .notOurs("quorum \(signature.quorumHash.hex) is not in this chain's quorum set")
        }
        // The signature before the proposal: only records a quorum really signed may wait.
        guard execution.verify(groupKey: quorum.groupKey) else {
            return .invalid("the signature does not verify under quorum \(signature.quorumHash.hex)'s key")
        }
        guard let proposal = governance.proposal(record.proposalId), let closed = GovernanceExecution(proposal: proposal) else {
            return .waiting
        }
        guard closed == record else { return .notOurs("this chain closed \(record.proposalId.hex) as \(closed.result)") }
        return .accepted
    }

    /// Records that `peer` knows message `id`; false when it was seen before (from anyone).
    mutating func note(_ id: Hash256, knownBy peer: Int?) -> Bool {
        let isNew = knownBy[id] == nil
        if isNew {
            recent.append(id)
            if recent.count > Self.maxRecent { knownBy[recent.removeFirst()] = nil }
            knownBy[id] = []
        }
        if let peer { knownBy[id, default: []].insert(peer) }
        return isNew
    }
}

extension PeerManager {
    /// Loads DATADIR/governance-executions.dat (a damaged file is reported and set aside: the
    /// node starts with an empty archive and rewrites it at the next record). Call before `start()`.
    public func startGovernanceExecutions(datadir: String) {
        let path = GovernanceExecutionArchive.path(datadir: datadir)
        do {
            governanceExecutions.archive = try GovernanceExecutionArchive.load(path: path)
            let count = governanceExecutions.archive.executions.count
            if count > 0 { logger.info("\(count) signed governance execution records loaded from \(path)") }
        } catch {
            logger.error("\(error); starting without the signed execution records it held")
            governanceExecutions.archive = GovernanceExecutionArchive(path: path)
        }
    }

    func handleGovernanceExecution(_ execution: SignedGovernanceExecution, from peer: Peer) {
        guard governanceExecutions.note(execution.id, knownBy: peer.id) else { return }
        checkGovernanceExecution(execution, from: peer.id)
    }

    /// Judges `execution` (from peer `peerID`, nil: this node's quorum service) and acts on the verdict.
    func checkGovernanceExecution(_ execution: SignedGovernanceExecution, from peerID: Int?) {
        let source = peerID.flatMap { peers[$0] }
        let from = source.map { " from \($0.label)" } ?? ""
        switch governanceExecutions.judge(execution, snapshot: chain.snapshot) {
        case .accepted:
            do {
                guard try governanceExecutions.archive.keep(execution) else { return }
            } catch {
                // Kept in memory; the file catches up at the next record.
                logger.error("governance execution record not saved: \(error)")
            }
            logger.info("signed \(execution)\(from)")
            relayGovernanceExecution(execution)
        case .waiting:
            let id = execution.id
            guard governanceExecutions.waiting[id] == nil else { return }
            if governanceExecutions.waiting.count >= GovernanceExecutionRelayState.maxWaiting,
               let oldest = governanceExecutions.waiting.keys.first {
                governanceExecutions.waiting[oldest] = nil
            }
            governanceExecutions.waiting[id] = (execution, peerID)
            logger.debug("\(execution)\(from) waits for its proposal to close here")
        case .notOurs(let reason):
            logger.debug("\(execution)\(from) not kept: \(reason)")
        case .invalid(let reason):
            if let source { misbehaving(source, "invalid govexec: \(reason)") } else { logger.error("own \(execution) invalid: \(reason)") }
        }
    }

    /// Sends `execution` to every handshaken peer that does not know it.
    func relayGovernanceExecution(_ execution: SignedGovernanceExecution) {
        let id = execution.id
        _ = governanceExecutions.note(id, knownBy: nil)
        let known = governanceExecutions.knownBy[id] ?? []
        for peer in peers.values.sorted(by: { $0.id < $1.id })
        where peer.handshakeDone && !peer.disconnecting && peer.kind != .seed && !known.contains(peer.id) {
            governanceExecutions.knownBy[id, default: []].insert(peer.id)
            send(.govexec(execution), to: peer)
        }
    }

    /// A new connection learns the records of recently closed proposals (this chain's, as kept),
    /// latest deadlines first.
    func sendRecentGovernanceExecutions(to peer: Peer) {
        guard !governanceExecutions.archive.executions.isEmpty else { return }
        let snapshot = chain.snapshot
        let governance = governanceExecutions.chainView(snapshot).governance
        let since = snapshot.tipHeight > GovernanceExecutionRelayState.catchUpBlocks ? snapshot.tipHeight - GovernanceExecutionRelayState.catchUpBlocks : 0
        let recent = governanceExecutions.archive.executions.values.compactMap { execution -> (UInt64, SignedGovernanceExecution)? in
            guard let proposal = governance.proposal(execution.record.proposalId), proposal.payload.deadlineHeight >= since,
                  GovernanceExecution(proposal: proposal) == execution.record else { return nil }
            return (proposal.payload.deadlineHeight, execution)
        }
        for (_, execution) in recent.sorted(by: { ($0.0, $0.1.record.proposalId) > ($1.0, $1.1.record.proposalId) })
            .prefix(GovernanceExecutionRelayState.maxCatchUp) {
            let id = execution.id
            _ = governanceExecutions.note(id, knownBy: nil)
            guard governanceExecutions.knownBy[id]?.contains(peer.id) != true else { continue }
            governanceExecutions.knownBy[id, default: []].insert(peer.id)
            send(.govexec(execution), to: peer)
        }
    }

    /// From the timer: records waiting for their proposal are judged again once per new snapshot.
    func retryWaitingGovernanceExecutions() {
        guard !governanceExecutions.waiting.isEmpty else { return }
        let snapshot = chain.snapshot
        guard governanceExecutions.waitingCheckedAt != snapshot.sequence else { return }
        governanceExecutions.waitingCheckedAt = snapshot.sequence
        let waiting = governanceExecutions.waiting
        governanceExecutions.waiting = [:]
        for (_, entry) in waiting.sorted(by: { $0.key < $1.key }) { checkGovernanceExecution(entry.execution, from: entry.from) }
    }

    /// The signed record this node holds for `proposalId`, if any.
    public func governanceExecution(proposalId: Hash256) async throws -> SignedGovernanceExecution? {
        try await onLoop { self.governanceExecutions.archive.executions[proposalId] }
    }
}
