// Governance methods (PROTOCOL section 18; Dash's `gobject` name): `gobject submit` (a
// proposal from the wallet), `gobject list|get|votes` (the chain's governance state at the
// tip, proposals still in the pool marked so), `gobject vote` (signed with an owner key:
// the wallet's, or the key file named), and `getgovernanceinfo`. Owner secrets never travel
// over RPC: a key file is read by the node itself.

import Ed25519
import Foundation
import Governance
import JSONRPC
import Mempool
import Primitives
import Wallet

extension NodeRPCContext {
    func registerGovernance(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "gobject", category: "Governance",
            parameters: [
                RPCParameter("command", "string", "submit, list, get, votes or vote"),
                RPCParameter("arg1", "string", required: false, "The command's first argument (see below)"),
                RPCParameter("arg2", "string", required: false, "..."),
                RPCParameter("arg3", "string", required: false, "..."),
                RPCParameter("arg4", "string", required: false, "..."),
                RPCParameter("arg5", "string", required: false, "..."),
                RPCParameter("arg6", "string", required: false, "..."),
                RPCParameter("arg7", "string", required: false, "..."),
            ],
            help: """
                Governance proposals and votes (special transactions, PROTOCOL section 18).
                  gobject submit parameter value start_height deadline_height activation_delay url text_hash
                      a proposal from the wallet (collateral output 0 to a fresh wallet key, fee from the wallet); returns its id (txid)
                  gobject list ( open|closed|all )               (proposals at the tip, "open" by default; pool ones with status "pending")
                  gobject get proposal_id                        (one proposal: fields, status, tally, activation height)
                  gobject votes proposal_id                      (the vote of each masternode that counts now)
                  gobject vote proposal_id yes|no|abstain ( owner_key_file )
                      votes with every masternode owner key the wallet holds, or with the key in owner_key_file
                      (a file on this node holding the owner key's 32-byte secret seed in hex); returns [{proTxHash, txid}]
                """
        ) { args in
            let command = try args.string(0)
            let rest = CommandArguments(args: args, method: "gobject \(command)")
            switch command {
            case "submit": return try self.gobjectSubmit(rest)
            case "list": return try self.gobjectList(rest)
            case "get": return .object(try self.proposalJSON(try self.governanceProposal(try rest.hash(1, "proposal_id"))))
            case "votes": return try self.gobjectVotes(try rest.hash(1, "proposal_id"))
            case "vote": return try self.gobjectVote(rest)
            default:
                throw RPCError.invalidParameter("unknown gobject command '\(command.prefix(40))': submit, list, get, votes, vote")
            }
        })

        registry.register(RPCMethod(
            "getgovernanceinfo", category: "Governance",
            help: "Governance at the tip: collateral (RUST), votingBlocks {min, max}, maxStartDelay, activationDelay {min, max}, "
                + "parameters [{name, id, value (in force for the next block), initial, min, max, maxStep}], openProposals, "
                + "pendingProposals (in the pool), nextBlockHeight."
        ) { _ in try self.governanceInfo() })
    }

    var governanceParameters: GovernanceParameters {
        get throws(RPCError) {
            do { return try GovernanceParameters(parameters.chain) } catch { throw RPCError(RPCError.miscError, "\(error)") }
        }
    }

    // MARK: Commands

    func gobjectSubmit(_ args: CommandArguments) throws(RPCError) -> JSON {
        let wallet = try loadedWallet()
        let governance = try governanceParameters
        let name = try args.string(1, "parameter")
        guard let parameter = GovernanceParameter(name: name), governance.bounds[parameter] != nil else {
            let known = GovernanceParameter.allCases.filter { governance.bounds[$0] != nil }.map(\.name)
            throw RPCError.invalidParameter("gobject submit: parameter '\(name.prefix(40))' is not on this network's whitelist (\(known.joined(separator: ", ")))")
        }
        let textHash = try args.hash(7, "text_hash")
        let payload = GovernanceProposalPayload(
            parameter: parameter, newValue: try args.unsigned(2, "value"), startHeight: try args.unsigned(3, "start_height"),
            deadlineHeight: try args.unsigned(4, "deadline_height"), activationDelay: try args.unsigned(5, "activation_delay"),
            url: try args.string(6, "url"), textHash: textHash, collateralIndex: 0)
        return try walletSend { broadcast in
            try wallet.submitProposal(payload, collateralAmount: governance.collateral, feeRate: walletFeeRate(), broadcast: broadcast)
        }
    }

    func gobjectList(_ args: CommandArguments) throws(RPCError) -> JSON {
        let which = try args.optionalString(1) ?? "open"
        guard ["open", "closed", "all"].contains(which) else {
            throw RPCError.invalidParameter("gobject list: '\(which.prefix(40))' is not open, closed or all")
        }
        var listed = [JSON]()
        for proposal in governanceProposals() {
            let open = proposal.record?.isOpen ?? true
            if which == "all" || (which == "open") == open { listed.append(.object(try proposalJSON(proposal))) }
        }
        return .array(listed)
    }

    func gobjectVotes(_ id: Hash256) throws(RPCError) -> JSON {
        _ = try governanceProposal(id)
        return .array(chain.snapshot.governance.votes(of: id).map { .object(voteJSON($0)) })
    }

    func gobjectVote(_ args: CommandArguments) throws(RPCError) -> JSON {
        let id = try args.hash(1, "proposal_id")
        let text = try args.string(2, "outcome")
        guard let outcome = GovernanceVoteOutcome(name: text) else {
            throw RPCError.invalidParameter("gobject vote: outcome '\(text.prefix(20))' is not yes, no or abstain")
        }
        let proposal = try governanceProposal(id)
        guard proposal.record?.isOpen ?? true else { throw RPCError.invalidParameter("gobject vote: proposal \(id.hex) is closed") }
        let signers = try voteSigners(keyFile: try args.optionalString(3))
        var results = [JSON]()
        for signer in signers {
            let sequence = nextVoteSequence(proposal: id, masternode: signer.proTxHash)
            let transaction: Transaction
            switch signer.key {
            case .seed(let seed):
                var payload = GovernanceVotePayload(proposalId: id, proTxHash: signer.proTxHash, outcome: outcome, sequence: sequence)
                payload.sign(seed: seed)
                transaction = payload.transaction
            case .wallet(let wallet, let ownerKey):
                transaction = try Self.walletCall { () throws(WalletError) in
                    try wallet.governanceVote(proposal: id, proTxHash: signer.proTxHash, ownerKey: ownerKey, outcome: outcome, sequence: sequence)
                }
            }
            let txid = try broadcast(transaction)
            logger.info("governance vote \(outcome) on \(id) by masternode \(signer.proTxHash): \(txid)")
            results.append(.object(["proTxHash": .string(signer.proTxHash.hex), "txid": .string(txid.hex), "sequence": .int(sequence)]))
        }
        return .array(results)
    }

    enum OwnerKeySource {
        case seed([UInt8])
        case wallet(Wallet, [UInt8])
    }

    /// The masternodes at the tip whose owner key this call can sign with: the one of the key
    /// file, or every one whose owner key the wallet made.
    func voteSigners(keyFile: String?) throws(RPCError) -> [(proTxHash: Hash256, key: OwnerKeySource)] {
        let list = chain.snapshot.masternodes
        if let keyFile {
            let seed = try Self.readOwnerSeed(keyFile)
            let publicKey = Ed25519.publicKey(seed: seed)
            let owned = list.sorted.filter { $0.ownerKey == publicKey }
            guard !owned.isEmpty else {
                throw RPCError.invalidParameter("gobject vote: the key in \(keyFile.prefix(200)) is no masternode's owner key at the tip")
            }
            return owned.map { ($0.proTxHash, .seed(seed)) }
        }
        let wallet = try loadedWallet()
        let keys = Set(wallet.masternodeOwnerKeys)
        let owned = list.sorted.filter { keys.contains($0.ownerKey) }
        guard !owned.isEmpty else {
            throw RPCError.invalidParameter("gobject vote: the wallet holds no owner key of a masternode in the list (name an owner_key_file)")
        }
        return owned.map { ($0.proTxHash, .wallet(wallet, $0.ownerKey)) }
    }

    /// The 32-byte owner seed in `path` (64 hex digits, surrounding whitespace ignored).
    static func readOwnerSeed(_ path: String) throws(RPCError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw RPCError.invalidParameter("gobject vote: cannot read owner key file \(path.prefix(200))")
        }
        guard let seed = HexCoding.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), seed.count == 32 else {
            throw RPCError.invalidParameter("gobject vote: \(path.prefix(200)) does not hold a 32-byte owner key seed in hex")
        }
        return seed
    }

    func governanceInfo() throws(RPCError) -> JSON {
        let governance = try governanceParameters
        let (height, inForce) = governedParametersForNextBlock()
        let proposals = governanceProposals()
        var parameterList = [JSON]()
        for parameter in GovernanceParameter.allCases {
            var entry: JSONObject = ["name": .string(parameter.name), "id": .int(parameter.rawValue), "value": .int(inForce[parameter]),
                                     "initial": .int(governance.initialValues[parameter] ?? 0)]
            if let bounds = governance.bounds[parameter] {
                entry["min"] = .int(bounds.range.lowerBound)
                entry["max"] = .int(bounds.range.upperBound)
                entry["maxStep"] = .int(bounds.maxStep)
            } else {
                entry["whitelisted"] = false
            }
            parameterList.append(.object(entry))
        }
        return .object([
            "collateral": .decimal(governance.collateral.baseUnits),
            "votingBlocks": .object(["min": .int(governance.votingBlocks.lowerBound), "max": .int(governance.votingBlocks.upperBound)]),
            "maxStartDelay": .int(governance.maxStartDelay),
            "activationDelay": .object(["min": .int(governance.activationDelay.lowerBound), "max": .int(governance.activationDelay.upperBound)]),
            "parameters": .array(parameterList),
            "openProposals": .int(proposals.filter { $0.record?.isOpen == true }.count),
            "pendingProposals": .int(proposals.filter { $0.record == nil }.count),
            "nextBlockHeight": .int(height),
        ])
    }
}
