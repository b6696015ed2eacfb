// `quorum` (Dash's shape; docs/protocol/quorum-p2p.md section 4): list, info, sign, verify,
// getrecsig, dkgstatus. list, info and verify read the chain's quorum set; sign, getrecsig
// and dkgstatus need the masternode's quorum service (--masternode).

import ChainState
import JSONRPC
import Primitives
import QuorumServices
import Quorums

extension NodeRPCContext {
    func registerQuorums(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "quorum", category: "Masternodes",
            parameters: [RPCParameter("command", "string", "list | info | sign | verify | getrecsig | dkgstatus"),
                         RPCParameter("arg1", "any", required: false, "quorum type (info, sign, verify, getrecsig)"),
                         RPCParameter("arg2", "string", required: false, "quorum hash (info) or request id"),
                         RPCParameter("arg3", "string", required: false, "message hash"),
                         RPCParameter("arg4", "string", required: false, "signature hex (verify)"),
                         RPCParameter("arg5", "string", required: false, "quorum hash (verify; default: the responsible active quorum)")],
            help: "quorum list: {type name: [active quorum hashes, newest first]}. quorum info TYPE HASH: the mined quorum "
                + "{type, name, quorumHash, quorumHeight, minedHeight, active, members [{proTxHash, valid}], groupKey, "
                + "verificationVectorHash}. quorum sign TYPE ID MSGHASH: starts a threshold signature by the responsible quorum "
                + "(this node must be a member; returns its hash). quorum verify TYPE ID MSGHASH SIG [QUORUMHASH]: whether SIG "
                + "is the quorum's signature (default quorum: the responsible active one). quorum getrecsig TYPE ID MSGHASH: "
                + "the recovered signature this node holds {type, quorumHash, id, msgHash, sig}. quorum dkgstatus: this "
                + "masternode's DKGs {session: [{type, quorumHash, startHeight, member, memberCount, phase, outcome, votes}], "
                + "shares: [{type, quorumHash, member, serving}]}."
        ) { arguments in
            let command = try arguments.string(0)
            switch command {
            case "list": return self.quorumList()
            case "info": return try self.quorumInfo(arguments)
            case "sign": return try await self.quorumSign(arguments)
            case "verify": return try self.quorumVerify(arguments)
            case "getrecsig": return try await self.quorumRecoveredSignature(arguments)
            case "dkgstatus": return try await self.quorumDKGStatus()
            default: throw RPCError.invalidParams("quorum command must be list, info, sign, verify, getrecsig or dkgstatus, not '\(command.prefix(40))'")
            }
        })
    }

    var quorumParameters: QuorumParameters? { try? QuorumParameters(parameters.chain) }

    func quorumType(_ arguments: RPCArguments, _ index: Int) throws(RPCError) -> QuorumType {
        let raw = try arguments.int(index, in: 0...255)
        guard let type = quorumParameters?[QuorumTypeID(rawValue: UInt8(raw))] else {
            throw RPCError.invalidParameter("quorum type \(raw) is not a quorum type of this network")
        }
        return type
    }

    func quorumList() -> JSON {
        let quorums = chain.snapshot.quorums
        let pairs = (quorumParameters?.sorted ?? []).map { type in
            (type.name, JSON.array(quorums.active(type: type).map { .string($0.quorumHash.hex) }))
        }
        return .object(JSONObject(pairs))
    }

    func quorumInfo(_ arguments: RPCArguments) throws(RPCError) -> JSON {
        let type = try quorumType(arguments, 1)
        let hash = Hash256(bytes: try arguments.hash(2))!
        let quorums = chain.snapshot.quorums
        guard let entry = quorums[QuorumKey(type: type.id, quorumHash: hash)] else {
            throw RPCError.invalidParameter("no mined \(type.name) quorum \(hash.hex)")
        }
        let members = entry.members.enumerated().map { index, id in JSON.object(["proTxHash": .string(id.hex), "valid": .bool(entry.validMembers[index])]) }
        return [
            "type": .int(type.id.rawValue), "name": .string(type.name), "quorumHash": .string(hash.hex), "quorumHeight": .int(entry.quorumHeight),
            "minedHeight": .int(entry.minedHeight), "active": .bool(quorums.active(type: type).contains { $0.key == entry.key }),
            "members": .array(members), "groupKey": .string(HexCoding.encode(entry.groupKey)),
            "verificationVectorHash": .string(entry.verificationVectorHash.hex),
        ]
    }

    func signingRequest(_ arguments: RPCArguments) throws(RPCError) -> SigningRequest {
        let type = try quorumType(arguments, 1)
        return SigningRequest(quorumType: type.id.rawValue, requestID: SigningRequestID(Hash256(bytes: try arguments.hash(2))!),
                              messageHash: Hash256(bytes: try arguments.hash(3))!)
    }

    func quorumSign(_ arguments: RPCArguments) async throws -> JSON {
        let request = try signingRequest(arguments)
        guard let outcome = try await peers.withQuorumService({ $0.sign(request) }) else { throw Self.notAMasternode }
        let started: Hash256?
        switch outcome {
        case .success(let quorum): started = quorum
        case .failure(let refusal): throw RPCError(RPCError.miscError, "refused: \(refusal)")
        }
        guard let quorum = started else {
            throw RPCError(RPCError.miscError, "this node is not a member of the active quorum responsible for request \(request.requestID)")
        }
        return ["quorumHash": .string(quorum.hex)]
    }

    func quorumVerify(_ arguments: RPCArguments) throws(RPCError) -> JSON {
        let request = try signingRequest(arguments)
        let signature = try arguments.hexBytes(4)
        guard signature.count == RecoveredSignature.signatureLength else { throw RPCError.invalidParameter("signature must be 64 bytes") }
        let quorums = chain.snapshot.quorums
        let quorumHash: Hash256
        if arguments.has(5) {
            quorumHash = Hash256(bytes: try arguments.hash(5))!
        } else {
            let type = try quorumType(arguments, 1)
            guard let responsible = QuorumChoice.responsible(for: request.requestID, among: quorums.active(type: type).map(\.quorumHash)) else {
                throw RPCError(RPCError.miscError, "no active \(type.name) quorum")
            }
            quorumHash = responsible
        }
        guard let entry = quorums[QuorumKey(type: QuorumTypeID(rawValue: request.quorumType), quorumHash: quorumHash)] else {
            throw RPCError.invalidParameter("no mined quorum \(quorumHash.hex) of type \(request.quorumType)")
        }
        return .bool(RecoveredSignature(request: request, quorumHash: quorumHash, signature: signature).verify(groupKey: entry.groupKey))
    }

    func quorumRecoveredSignature(_ arguments: RPCArguments) async throws -> JSON {
        let request = try signingRequest(arguments)
        let found = try await peers.withQuorumService {
            $0.recoveredSignature(type: request.quorumType, requestID: request.requestID.hash, messageHash: request.messageHash)
        }
        guard let held = found else { throw Self.notAMasternode }
        guard let signature = held else { throw RPCError(RPCError.miscError, "no recovered signature for this request") }
        return [
            "type": .int(signature.topic.quorumType), "quorumHash": .string(signature.topic.quorumHash.hex),
            "id": .string(signature.topic.requestID.hex), "msgHash": .string(signature.topic.messageHash.hex),
            "sig": .string(HexCoding.encode(signature.signature)),
        ]
    }

    func quorumDKGStatus() async throws -> JSON {
        let found = try await peers.withQuorumService { service in (service.dkgStatus, service.shares.map { ($0.key, $0.member, $0.serving) }) }
        guard let (sessions, shares) = found else { throw Self.notAMasternode }
        let sessionJSON = sessions.map { status -> JSON in
            [
                "type": .string(status.type), "quorumHash": .string(status.quorumHash.hex), "startHeight": .int(status.startHeight),
                "member": .int(status.member), "memberCount": .int(status.memberCount), "phase": .string(status.phase),
                "outcome": status.outcome.map { .string($0) } ?? .null, "votes": .array(status.votes.map { .int($0) }),
            ]
        }
        let shareJSON = shares.map { key, member, serving -> JSON in
            ["type": .int(key.type.rawValue), "quorumHash": .string(key.quorumHash.hex), "member": .int(member), "serving": .bool(serving)]
        }
        return ["session": .array(sessionJSON), "shares": .array(shareJSON)]
    }

    static var notAMasternode: RPCError {
        RPCError(RPCError.internalErrorCode, "This node is not a masternode: start it with --masternode --operator-key-file FILE")
    }
}
