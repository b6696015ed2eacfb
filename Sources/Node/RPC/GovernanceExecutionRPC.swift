// The signed execution record of a closed proposal as `gobject get` and `gobject execution`
// show it (docs/protocol/governance-execution.md): the record, its request, and, when this
// node holds the chain-lock quorum's signed record (Relay/GovernanceExecutionRelay.swift),
// the signature, the quorum and whether it verifies under that quorum's key.

import Governance
import JSONRPC
import Primitives
import QuorumServices
import Quorums

extension NodeRPCContext {
    /// The execution of a mined proposal: null while it is open (or not mined).
    func governanceExecutionJSON(_ view: ProposalView) async throws -> JSON {
        guard let proposal = view.record, let record = GovernanceExecution(proposal: proposal) else { return .null }
        var object: JSONObject = [
            "record": .string(HexCoding.encode(record.encoded)),
            "result": .string(record.result.description),
            "activationHeight": record.activationHeight.map { .int($0) } ?? .null,
            "requestId": .string(record.requestID.hash.hex),
            "messageHash": .string(record.messageHash.hex),
            "signature": .null, "quorumHash": .null, "verified": .null,
        ]
        guard let type = quorumParameters?.chainLockType else { return .object(object) }
        object["quorumType"] = .int(type.rawValue)
        // The archive holds what the node accepted; a record a reorganisation has changed since is not shown.
        guard let held = try await peers.governanceExecution(proposalId: record.proposalId), held.record == record else {
            return .object(object)
        }
        let signature = held.signature
        object["signature"] = .string(HexCoding.encode(signature.signature))
        object["quorumHash"] = .string(signature.quorumHash.hex)
        // Checked against the mined quorum's key (a quorum no longer in the set cannot be checked here).
        let entry = chain.snapshot.quorums[QuorumKey(type: type, quorumHash: signature.quorumHash)]
        object["verified"] = .bool(entry.map { record.verify(signature, groupKey: $0.groupKey) } ?? false)
        return .object(object)
    }

    /// `gobject get`: the proposal and its execution.
    func gobjectGet(_ id: Hash256) async throws -> JSON {
        let view = try governanceProposal(id)
        var object = try proposalJSON(view)
        object["execution"] = try await governanceExecutionJSON(view)
        return .object(object)
    }

    /// `gobject execution`: the execution alone; an error while the proposal is open.
    func gobjectExecution(_ id: Hash256) async throws -> JSON {
        let execution = try await governanceExecutionJSON(try governanceProposal(id))
        guard execution != .null else { throw RPCError(RPCError.miscError, "proposal \(id.hex) is still open: no execution record yet") }
        return execution
    }
}
