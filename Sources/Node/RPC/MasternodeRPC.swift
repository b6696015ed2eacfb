// Masternode methods (Dash's names): `protx` (register, register_fund, update_service,
// update_registrar, revoke, list, info), `masternodelist`, `getmasternodecount`. The list is
// read from the published chain snapshot; registrations and the owner's updates are built by
// the wallet; update_service and revoke are signed with the operator keys the node was started
// with (`--masternode --operator-key-file`), never with secrets sent over RPC.

import Foundation
import JSONRPC
import Masternodes
import Primitives
import Wallet

extension NodeRPCContext {
    func registerMasternodes(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "protx", category: "Masternodes",
            parameters: [
                RPCParameter("command", "string", "register, register_fund, update_service, update_registrar, revoke, list or info"),
                RPCParameter("arg1", "string", required: false, "The command's first argument (see below)"),
                RPCParameter("arg2", "string", required: false, "..."),
                RPCParameter("arg3", "string", required: false, "..."),
                RPCParameter("arg4", "string", required: false, "..."),
                RPCParameter("arg5", "string", required: false, "..."),
            ],
            help: """
                Masternode registration and updates (special transactions, PROTOCOL section 16). Returns the txid where a transaction is made.
                  protx register "collateral_txid:n" service payout_address operator_pubkey encryption_pubkey
                      register with a wallet coin of exactly the collateral amount (see `rusty masternode keygen` for the keys)
                  protx register_fund service payout_address operator_pubkey encryption_pubkey
                      register, the transaction itself creating the collateral (output 0, to a fresh wallet key)
                  protx update_service pro_tx_hash service        (signed with this node's operator keys; revives a banned masternode)
                  protx update_registrar pro_tx_hash operator_pubkey encryption_pubkey payout_address
                      (owner-signed by the wallet; "" keeps a current value)
                  protx revoke pro_tx_hash ( reason )            (signed with this node's operator keys; reason 0-3)
                  protx list ( registered|valid )                (the ids; "registered" is the default)
                  protx info pro_tx_hash                         (one masternode, as masternodelist json shows it)
                """
        ) { args in
            let command = try args.string(0)
            let rest = CommandArguments(args: args, method: "protx \(command)")
            switch command {
            case "register": return try self.protxRegister(rest, fund: false)
            case "register_fund": return try self.protxRegister(rest, fund: true)
            case "update_service": return try self.protxUpdateService(rest)
            case "update_registrar": return try self.protxUpdateRegistrar(rest)
            case "revoke": return try self.protxRevoke(rest)
            case "list": return try self.protxList(rest)
            case "info":
                let entry = try self.masternode(try rest.hash(1, "pro_tx_hash"))
                return .object(self.masternodeJSON(entry))
            default:
                throw RPCError.invalidParameter("unknown protx command '\(command.prefix(40))': register, register_fund, update_service, update_registrar, revoke, list, info")
            }
        })

        registry.register(RPCMethod(
            "masternodelist", category: "Masternodes",
            parameters: [
                RPCParameter("mode", "string", required: false, "json (default), status, addr, payee, owner or operator"),
                RPCParameter("filter", "string", required: false, "Only masternodes whose id or shown value contains this text"),
            ],
            help: "The deterministic masternode list at the tip, keyed by proTxHash: whole entries (json) or one field per masternode."
        ) { args in
            let mode = try args.optionalString(0) ?? "json"
            let filter = (try args.optionalString(1))?.lowercased()
            guard Self.masternodeListModes.contains(mode) else {
                throw RPCError.invalidParameter("mode '\(mode.prefix(40))' is not one of \(Self.masternodeListModes.joined(separator: ", "))")
            }
            var members = [(String, JSON)]()
            for entry in self.chain.snapshot.masternodes.sorted {
                let json = self.masternodeJSON(entry)
                let value: JSON = mode == "json" ? .object(json) : json[Self.masternodeListField[mode]!] ?? .null
                if let filter {
                    let shown = mode == "json" ? [json["service"], json["payoutAddress"], json["status"]] : [value]
                    let texts = [entry.proTxHash.hex] + shown.compactMap { $0?.stringValue }
                    guard texts.contains(where: { $0.lowercased().contains(filter) }) else { continue }
                }
                members.append((entry.proTxHash.hex, value))
            }
            return .object(JSONObject(uniqueKeysWithValues: members))
        })

        registry.register(RPCMethod(
            "getmasternodecount", category: "Masternodes",
            help: "Masternode counts at the tip: {\"total\", \"enabled\", \"pending\", \"banned\", \"revoked\"}."
        ) { _ in
            var counts = ["ENABLED": 0, "PENDING": 0, "POSE_BANNED": 0, "REVOKED": 0]
            let entries = self.chain.snapshot.masternodes.entries.values
            for entry in entries { counts[self.masternodeStatus(entry), default: 0] += 1 }
            return .object(["total": .int(entries.count), "enabled": .int(counts["ENABLED"]!), "pending": .int(counts["PENDING"]!),
                            "banned": .int(counts["POSE_BANNED"]!), "revoked": .int(counts["REVOKED"]!)])
        })
    }

    static let masternodeListModes = ["json", "status", "addr", "payee", "owner", "operator"]
    static let masternodeListField = ["status": "status", "addr": "service", "payee": "payoutAddress", "owner": "ownerKey", "operator": "operatorKey"]

    // MARK: The list as JSON

    var masternodeParameters: MasternodeParameters {
        get throws(RPCError) {
            do { return try MasternodeParameters(parameters.chain) } catch { throw RPCError(RPCError.miscError, "\(error)") }
        }
    }

    func masternode(_ id: Hash256) throws(RPCError) -> MasternodeEntry {
        guard let entry = chain.snapshot.masternodes[id] else { throw RPCError.notFound("masternode \(id.hex) is not in the list at the tip") }
        return entry
    }

    /// ENABLED, POSE_BANNED, REVOKED, or PENDING before the registration matures.
    func masternodeStatus(_ entry: MasternodeEntry) -> String {
        if entry.isRevoked { return "REVOKED" }
        if entry.isBanned { return "POSE_BANNED" }
        let maturity = (try? masternodeParameters.registrationMaturity) ?? 0
        return entry.isValid(at: chain.snapshot.tipHeight, maturity: maturity) ? "ENABLED" : "PENDING"
    }

    func masternodeJSON(_ entry: MasternodeEntry) -> JSONObject {
        let decay = (try? masternodeParameters.penaltyDecayPerBlock) ?? 0
        let payout: JSON
        if let keyHash = Address.keyHash(lockScript: entry.payoutScript) {
            payout = .string(Address(keyHash: keyHash, network: network).text)
        } else {
            payout = .string(HexCoding.encode(entry.payoutScript))
        }
        return [
            "proTxHash": .string(entry.proTxHash.hex),
            "collateralHash": .string(entry.collateral.txid.hex),
            "collateralIndex": .int(entry.collateral.index),
            "service": .string(entry.service.description),
            "ownerKey": .string(HexCoding.encode(entry.ownerKey)),
            "operatorKey": .string(HexCoding.encode(entry.operatorKey)),
            "operatorEncryptionKey": .string(HexCoding.encode(entry.operatorEncryptionKey)),
            "payoutAddress": payout,
            "registeredHeight": .int(entry.registeredHeight),
            "updatedHeight": .int(entry.updatedHeight),
            "posePenalty": .int(entry.penalty(at: chain.snapshot.tipHeight, decayPerBlock: decay)),
            "poseBanHeight": entry.bannedHeight.map { .int($0) } ?? .int(-1),
            "revocationReason": .int(entry.revocationReason),
            "status": .string(masternodeStatus(entry)),
        ]
    }

    // MARK: Commands

    func protxList(_ args: CommandArguments) throws(RPCError) -> JSON {
        let which = try args.optionalString(1) ?? "registered"
        let list = chain.snapshot.masternodes
        switch which {
        case "registered": return .array(list.sorted.map { .string($0.proTxHash.hex) })
        case "valid":
            let tip = chain.snapshot.tipHeight
            return .array(list.valid(at: tip, parameters: try masternodeParameters).map { .string($0.proTxHash.hex) })
        default: throw RPCError.invalidParameter("protx list: type '\(which.prefix(40))' is not registered or valid")
        }
    }

    func protxRegister(_ args: CommandArguments, fund: Bool) throws(RPCError) -> JSON {
        let wallet = try loadedWallet()
        var position = 1
        var collateral: OutPoint?
        if !fund {
            let text = try args.string(1, "collateral")
            guard let outpoint = Wallet.parseOutPoint(text) else {
                throw RPCError.invalidParameter("protx register: collateral '\(text.prefix(100))' is not \"txid:n\"")
            }
            collateral = outpoint
            position = 2
        }
        let service = try args.service(position, "service")
        let payout = try parseAddress(try args.string(position + 1, "payout_address"))
        let operatorKey = try args.key(position + 2, "operator_pubkey")
        let encryptionKey = try args.key(position + 3, "encryption_pubkey")
        let parameters = try masternodeParameters
        return try walletSend { broadcast in
            try wallet.registerMasternode(collateral: collateral, collateralAmount: parameters.collateral, service: service,
                                          payoutScript: payout.lockScript, operatorKey: operatorKey, operatorEncryptionKey: encryptionKey,
                                          feeRate: walletFeeRate(), broadcast: broadcast)
        }
    }

    func protxUpdateRegistrar(_ args: CommandArguments) throws(RPCError) -> JSON {
        let wallet = try loadedWallet()
        let entry = try masternode(try args.hash(1, "pro_tx_hash"))
        let operatorKey = try args.string(2, "operator_pubkey").isEmpty ? entry.operatorKey : try args.key(2, "operator_pubkey")
        let encryptionKey = try args.string(3, "encryption_pubkey").isEmpty ? entry.operatorEncryptionKey : try args.key(3, "encryption_pubkey")
        let payoutText = try args.string(4, "payout_address")
        let payoutScript = payoutText.isEmpty ? entry.payoutScript : try parseAddress(payoutText).lockScript
        guard wallet.holdsOwnerKey(entry.ownerKey) else {
            throw RPCError.invalidParameter("protx update_registrar: this wallet does not hold the owner key of \(entry.proTxHash.hex)")
        }
        return try walletSend { broadcast in
            try wallet.updateMasternodeRegistrar(entry, operatorKey: operatorKey, operatorEncryptionKey: encryptionKey,
                                                 payoutScript: payoutScript, feeRate: walletFeeRate(), broadcast: broadcast)
        }
    }

    func protxUpdateService(_ args: CommandArguments) throws(RPCError) -> JSON {
        let wallet = try loadedWallet()
        let entry = try masternode(try args.hash(1, "pro_tx_hash"))
        let service = try args.service(2, "service")
        let keys = try operatorKeys(for: entry, command: "update_service")
        return try walletSend { broadcast in
            try wallet.updateMasternodeService(entry.proTxHash, service: service, operatorKeys: keys, feeRate: walletFeeRate(), broadcast: broadcast)
        }
    }

    func protxRevoke(_ args: CommandArguments) throws(RPCError) -> JSON {
        let wallet = try loadedWallet()
        let entry = try masternode(try args.hash(1, "pro_tx_hash"))
        let reason = try args.optionalString(2).map { text throws(RPCError) -> UInt16 in
            guard let value = UInt16(text), value <= MasternodeRevokePayload.maxReason else {
                throw RPCError.invalidParameter("protx revoke: reason '\(text.prefix(20))' is not 0 to \(MasternodeRevokePayload.maxReason)")
            }
            return value
        } ?? 0
        let keys = try operatorKeys(for: entry, command: "revoke")
        return try walletSend { broadcast in
            try wallet.revokeMasternode(entry.proTxHash, reason: reason, operatorKeys: keys, feeRate: walletFeeRate(), broadcast: broadcast)
        }
    }

    /// The node's operator keys, when they are `entry`'s.
    func operatorKeys(for entry: MasternodeEntry, command: String) throws(RPCError) -> OperatorKeys {
        guard let keys = operatorKeys else {
            throw RPCError(RPCError.miscError, "protx \(command): this node has no operator keys (start it with --masternode --operator-key-file FILE)")
        }
        guard keys.operatorKey == entry.operatorKey else {
            throw RPCError.invalidParameter("protx \(command): \(entry.proTxHash.hex)'s operator key is not this node's")
        }
        return keys
    }

    /// Runs a wallet build-and-broadcast; returns the txid. Pool rejections keep their codes (-26 with the rule).
    func walletSend(_ body: (_ broadcast: (Transaction) throws -> Void) throws -> MasternodeTransaction) throws(RPCError) -> JSON {
        do {
            let sent = try body { transaction in _ = try self.broadcast(transaction) }
            logger.info("wallet sent masternode transaction \(sent.txid), fee \(sent.fee)")
            return .string(sent.txid.hex)
        } catch let error as RPCError {
            throw error
        } catch let error as WalletError {
            throw Self.rpcError(error)
        } catch {
            throw RPCError(RPCError.walletError, "\(error)")
        }
    }
}
