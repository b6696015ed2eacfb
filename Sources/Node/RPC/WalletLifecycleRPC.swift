// The wallet's view of the transaction lifecycle: gettransaction, bumpfee, and the lifecycle
// fields of listtransactions entries.

import JSONRPC
import Mempool
import Primitives
import Wallet

extension NodeRPCContext {
    func registerWalletLifecycle(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "gettransaction", category: "Wallet",
            parameters: [
                RPCParameter("txid", "string", "The transaction id"),
                RPCParameter("include_watchonly", "boolean", required: false, "Ignored: the wallet has no watch-only keys"),
                RPCParameter("verbose", "boolean", required: false, "Also the decoded transaction (\"decoded\")"),
            ],
            help: "One wallet transaction: amount, fee (sends), confirmations, blockhash, blockheight, blockindex, blocktime, "
                + "trusted (unconfirmed), txid, wtxid, walletconflicts, replaced_by_txid, replaces_txid, time, timereceived, "
                + "comment, to, bip125-replaceable, lifecycle, details [listtransactions lines], hex."
        ) { args in
            let wallet = try self.loadedWallet()
            let txid = try Self.hashArgument(args, 0)
            _ = try args.optionalBool(1)
            let verbose = try args.optionalBool(2) ?? false
            guard let detail = wallet.transaction(txid) else {
                throw RPCError.notFound("Invalid or non-wallet transaction id")
            }
            return self.transactionJSON(detail, verbose: verbose)
        })

        registry.register(RPCMethod(
            "bumpfee", category: "Wallet",
            parameters: [
                RPCParameter("txid", "string", "The txid of the wallet's own unconfirmed send to replace"),
                RPCParameter("options", "object", required: false,
                             "{\"fee_rate\": base units per 1,000 bytes, \"conf_target\": blocks (for the estimator), "
                             + "\"estimate_mode\": \"economical\"|\"conservative\", \"replaceable\": ignored (full RBF)}"),
            ],
            help: "Replaces an unconfirmed send of this wallet by the same payment paying a higher fee out of its change "
                + "(default: the old fee plus the incremental relay fee for its size, or the estimator's rate if higher). "
                + "The old send leaves the balance. Result: {\"txid\", \"origfee\", \"fee\", \"errors\": []}. Needs walletpassphrase."
        ) { args in
            let wallet = try self.loadedWallet()
            let txid = try Self.hashArgument(args, 0)
            let options = args.has(1) ? try args.object(1) : JSONObject()
            for key in options.keys where !["fee_rate", "conf_target", "estimate_mode", "replaceable"].contains(key) {
                throw RPCError.invalidParameter("Unexpected key \(key)")
            }
            var feeRate: UInt64?
            if let value = options["fee_rate"] {
                guard let rate = value.int64Value, rate > 0 else {
                    throw RPCError.invalidParameter("fee_rate must be a positive integer (base units per 1,000 bytes)")
                }
                feeRate = UInt64(rate)
            }
            if feeRate != nil && (options["conf_target"] != nil || options["estimate_mode"] != nil) {
                throw RPCError.invalidParameter("Cannot specify both conf_target/estimate_mode and fee_rate. Please provide either a confirmation target in blocks for automatic fee estimation, or an explicit fee rate.")
            }
            var target = 6
            if let value = options["conf_target"] {
                guard let blocks = value.int64Value, (1...Int64(FeeEstimator.maxTarget)).contains(blocks) else {
                    throw RPCError.invalidParameter("Invalid conf_target, must be between 1 and \(FeeEstimator.maxTarget)")
                }
                target = Int(blocks)
            }
            var mode: String?
            if let value = options["estimate_mode"] {
                guard let text = value.stringValue else { throw RPCError(RPCError.typeError, "estimate_mode must be a string") }
                mode = text
            }
            let conservative = try Self.estimateMode(mode)
            let estimated = self.mempool.feeEstimator.estimate(targetBlocks: target, conservative: conservative)?.feeRate ?? 0
            do {
                let bump = try wallet.bumpFee(txid, feeRate: feeRate, defaultFeeRate: estimated,
                                              incrementalFeeRate: self.mempool.policy.incrementalRelayFeeRate) { transaction in
                    // bitcoind's -maxtxfee habit: an absurd fee is refused, not paid.
                    _ = try self.broadcast(transaction, maxFeeRate: Self.defaultMaxFeeRate)
                }
                self.logger.info("wallet replaced \(txid) by \(bump.replacement.txid), fee \(bump.originalFee) -> \(bump.replacement.fee)")
                return .object([
                    "txid": .string(bump.replacement.txid.hex),
                    "origfee": .decimal(bump.originalFee),
                    "fee": .decimal(bump.replacement.fee),
                    "errors": [],
                ])
            } catch let error as RPCError {
                throw error
            } catch let error as WalletError {
                if case .invalidParameter(let detail) = error, detail == "Invalid or non-wallet transaction id" {
                    throw RPCError.notFound(detail)
                }
                throw Self.rpcError(error)
            }
        })
    }

    /// A transaction's lifecycle state as the wallet shows it: by depth (or a chain lock) once
    /// in a block, replaced once the wallet replaced it, else the pool's account (nil: nothing known).
    func walletLifecycle(_ txid: Hash256, confirmations: UInt64, replacedBy: Hash256?, blockHash: Hash256? = nil,
                         blockHeight: UInt64? = nil) -> TransactionStatus.State? {
        if confirmations > 0 {
            let locked = Self.isChainLocked(blockHash, height: blockHeight, in: chain.snapshot)
            return Self.blockState(confirmations: confirmations, finalityDepth: mempool.finalityDepth, chainLocked: locked)
        }
        if replacedBy != nil { return .replaced }
        return (try? lifecycle(of: txid))??.state
    }

    func transactionJSON(_ detail: WalletTransactionDetail, verbose: Bool) -> JSON {
        var result: JSONObject = ["amount": .decimal(detail.amount.magnitude, negative: detail.amount < 0)]
        if let fee = detail.fee { result["fee"] = .decimal(fee.magnitude, negative: fee < 0) }
        result["confirmations"] = .int(detail.confirmations)
        if detail.transaction.isCoinbase { result["generated"] = true }
        if let hash = detail.blockHash, detail.confirmations > 0 {
            result["blockhash"] = .string(hash.hex)
            result["blockheight"] = .int(detail.blockHeight ?? 0)
            result["blockindex"] = .int(detail.blockIndex ?? 0)
            result["blocktime"] = .int(detail.blockTime ?? 0)
        } else {
            result["trusted"] = .bool(detail.trusted)
        }
        result["txid"] = .string(detail.txid.hex)
        result["wtxid"] = .string(detail.transaction.wtxid.hex)
        result["walletconflicts"] = .array([detail.replacedBy, detail.replaces].compactMap { $0.map { .string($0.hex) } })
        if let replacement = detail.replacedBy { result["replaced_by_txid"] = .string(replacement.hex) }
        if let original = detail.replaces { result["replaces_txid"] = .string(original.hex) }
        result["time"] = .int(detail.timeReceived)
        result["timereceived"] = .int(detail.timeReceived)
        if let comment = detail.comment { result["comment"] = .string(comment) }
        if let to = detail.commentTo { result["to"] = .string(to) }
        result["bip125-replaceable"] = .string(detail.confirmations == 0 && detail.replacedBy == nil ? "yes" : "no")
        if let state = walletLifecycle(detail.txid, confirmations: detail.confirmations, replacedBy: detail.replacedBy,
                                       blockHash: detail.blockHash, blockHeight: detail.blockHeight) {
            result["lifecycle"] = .string(state.rawValue)
        }
        result["details"] = .array(detail.entries.map { entry in
            var item = JSONObject()
            if let address = entry.address { item["address"] = .string(address.text) }
            item["category"] = .string(entry.category.rawValue)
            item["amount"] = .decimal(entry.amount.magnitude, negative: entry.amount < 0)
            if let label = entry.label { item["label"] = .string(label) }
            item["vout"] = .int(entry.vout)
            if let fee = entry.fee { item["fee"] = .decimal(fee.magnitude, negative: fee < 0) }
            return .object(item)
        })
        result["hex"] = .string(HexCoding.encode(detail.transaction.encoded))
        if verbose { result["decoded"] = .object(ChainJSON.transaction(detail.transaction, address: addressText)) }
        return .object(result)
    }
}
