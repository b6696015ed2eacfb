// Governance execution records (issue 19, docs/protocol/governance-execution.md): when the
// new best block is the deadline of proposals, the members of the chain-lock quorum
// responsible for each proposal's request sign its record through the node's signing
// service, whose recovered signature spreads like any other (`qrecsig`) and, paired with its
// record, to every node as `govexec` (Relay/GovernanceExecutionRelay.swift).

import ChainState
import Governance
import Primitives
import QuorumServices
import Quorums

extension QuorumNodeService {
    /// Called at each tip (after the chain lock): asks the signing service to sign the record
    /// of every proposal the tip closed; returns the records this node started signing.
    @discardableResult
    func signGovernanceExecutions(_ snapshot: ChainSnapshot) -> [GovernanceExecution] {
        guard let typeID = parameters.chainLockType else { return [] }
        let records = Self.executionsClosed(by: snapshot)
        return records.filter { record in
            let request = record.request(quorumType: typeID.rawValue)
            // A different record of this proposal already recovered (a reorganization changed
            // the result): never a second answer to one request.
            if signing.recovered.keys.contains(where: { $0.requestID == request.requestID.hash && $0.messageHash != request.messageHash }) {
                logger.warning("\(record): a different record of this proposal was already signed; not signing")
                return false
            }
            switch sign(request) {
            case .success(let quorum?):
                logger.info("\(record): signing with quorum \(quorum.hex)")
                return true
            case .success(nil): // not a member of the responsible quorum (or none active)
                return false
            case .failure(let refusal): // e.g. this member already signed another message for the request
                logger.warning("\(record): not signing: \(refusal)")
                return false
            }
        }
    }

    /// The record of a proposal closed in `snapshot` that `signature` answers, if any.
    static func executionRecord(answering signature: RecoveredSignature, in snapshot: ChainSnapshot) -> GovernanceExecution? {
        snapshot.governance.proposals.values.lazy.compactMap(GovernanceExecution.init(proposal:))
            .first { $0.requestID == signature.requestID && $0.messageHash == signature.messageHash }
    }

    /// The records of the proposals whose deadline is the snapshot's tip, by proposal id.
    static func executionsClosed(by snapshot: ChainSnapshot) -> [GovernanceExecution] {
        snapshot.governance.proposals.values
            .filter { $0.payload.deadlineHeight == snapshot.tipHeight }
            .compactMap(GovernanceExecution.init(proposal:))
            .sorted { $0.proposalId < $1.proposalId }
    }
}
