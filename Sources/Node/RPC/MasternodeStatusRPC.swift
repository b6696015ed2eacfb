// `masternode status`: this node's own registration as the chain's list sees it (Dash's
// `masternode status`), for a node started with --masternode.

import JSONRPC
import Masternodes
import Primitives

extension NodeRPCContext {
    func registerMasternodeStatus(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "masternode", category: "Masternodes",
            parameters: [RPCParameter("command", "string", "'status': this node's masternode state")],
            help: "masternode status: {\"state\": WAITING_FOR_REGISTRATION | PENDING (registered, not yet mature) | READY | "
                + "POSE_BANNED | REVOKED, \"proTxHash\", \"service\", \"operatorKey\", \"registeredHeight\", \"posePenalty\" (at the tip), "
                + "\"height\" (the tip it was evaluated at)}; proTxHash, service and registeredHeight are null without a registration. "
                + "An error when the node was not started with --masternode."
        ) { arguments in
            let command = try arguments.string(0)
            guard command == "status" else {
                throw RPCError.invalidParams("masternode command must be 'status', not '\(command.prefix(40))'")
            }
            guard let status = try await self.peers.masternodeStatus() else {
                throw RPCError(RPCError.internalErrorCode, "This node is not a masternode: start it with --masternode --operator-key-file FILE")
            }
            return Self.statusJSON(status)
        })
    }

    static func statusJSON(_ status: MasternodeStatus) -> JSON {
        let entry = status.entry
        return [
            "state": .string(status.state.rawValue),
            "proTxHash": entry.map { .string($0.proTxHash.hex) } ?? .null,
            "service": entry.map { .string($0.service.description) } ?? .null,
            "operatorKey": .string(HexCoding.encode(status.operatorKey)),
            "registeredHeight": entry.map { .int($0.registeredHeight) } ?? .null,
            "posePenalty": .int(status.penalty),
            "height": .int(status.tipHeight),
        ]
    }
}
