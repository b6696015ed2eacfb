// Wallet methods: getnewaddress, getbalance, getbalances, listunspent, sendtoaddress,
// listtransactions, walletpassphrase, walletlock, dumpprivkey, getwalletinfo (gettransaction
// and bumpfee in WalletLifecycleRPC.swift).

import Foundation
import JSONRPC
import Mempool
import Primitives
import Wallet

extension NodeRPCContext {
    /// The loaded wallet, or bitcoind's -18.
    func loadedWallet() throws(RPCError) -> Wallet {
        guard let wallet else {
            throw RPCError(RPCError.walletNotFound,
                           "No wallet is loaded. Create one with `rusty wallet create` and restart the node (or run it without -disablewallet).")
        }
        return wallet
    }

    /// bitcoind's codes for wallet failures.
    static func rpcError(_ error: WalletError) -> RPCError {
        switch error {
        case .incorrectPassphrase: return RPCError(RPCError.walletPassphraseIncorrect, "Error: The wallet passphrase entered was incorrect.")
        case .locked: return RPCError(RPCError.walletUnlockNeeded, "Error: Please enter the wallet passphrase with walletpassphrase first.")
        case .keypoolExhausted: return RPCError(-12, error.description)
        case .insufficientFunds: return RPCError(RPCError.walletInsufficientFunds, "Insufficient funds")
        case .invalidAmount(let detail): return RPCError(RPCError.typeError, detail)
        case .invalidParameter(let detail): return RPCError.invalidParameter(detail)
        default: return RPCError(RPCError.walletError, error.description)
        }
    }

    static func walletCall<T>(_ body: () throws(WalletError) -> T) throws(RPCError) -> T {
        do { return try body() } catch { throw rpcError(error) }
    }

    func parseAddress(_ text: String) throws(RPCError) -> Address {
        do {
            return try Address(parsing: text, network: network)
        } catch {
            throw RPCError(RPCError.invalidAddressOrKey, "Invalid address '\(text.prefix(100))': \(error)")
        }
    }

    /// The default fee rate for sends (base units per 1,000 bytes): the estimator's for
    /// `target` blocks, or without an estimate twice the pool's minimum; never below the minimum.
    func walletFeeRate(target: Int = 6, conservative: Bool = true) -> UInt64 {
        let minimum = max(mempool.minimumFeeRate, 1_000)
        guard let estimate = mempool.feeEstimator.estimate(targetBlocks: target, conservative: conservative) else { return minimum * 2 }
        return max(estimate.feeRate, minimum)
    }

    func registerWallet(in registry: RPCRegistry) {
        registerWalletLifecycle(in: registry)
        registry.register(RPCMethod(
            "getnewaddress", category: "Wallet",
            parameters: [
                RPCParameter("label", "string", required: false, "A label for the address"),
                RPCParameter("address_type", "string", required: false, "Only \"bech32m\" (P2KH key hash) exists"),
            ],
            help: "Returns a new address for receiving payments (from the key pool: works while the wallet is locked)."
        ) { args in
            let wallet = try self.loadedWallet()
            let label = try args.optionalString(0)
            if let kind = try args.optionalString(1), kind != "bech32m" {
                throw RPCError(RPCError.invalidAddressOrKey, "Unknown address type '\(kind)'")
            }
            return .string(try Self.walletCall { () throws(WalletError) in try wallet.newAddress(label: label).text })
        })

        registry.register(RPCMethod(
            "getbalance", category: "Wallet",
            parameters: [
                RPCParameter("dummy", "string", required: false, "Must be \"*\" when given"),
                RPCParameter("minconf", "number", required: false, "Ignored: the trusted balance counts confirmed coins and own change"),
            ],
            help: "Returns the trusted balance: confirmed, mature coins and the change of the wallet's own unconfirmed sends."
        ) { args in
            let wallet = try self.loadedWallet()
            if let dummy = try args.optionalString(0), dummy != "*" {
                throw RPCError(-32, "dummy first argument must be excluded or set to \"*\".")
            }
            _ = try args.optionalInt(1, in: 0...Int64(Int32.max))
            return .decimal(wallet.balances.trusted)
        })

        registry.register(RPCMethod(
            "getbalances", category: "Wallet",
            help: "Balances: {\"mine\": {\"trusted\", \"untrusted_pending\", \"immature\"}, \"lastprocessedblock\": {\"hash\", \"height\"}}."
        ) { _ in
            let wallet = try self.loadedWallet()
            let balances = wallet.balances
            var result: JSONObject = ["mine": .object([
                "trusted": .decimal(balances.trusted),
                "untrusted_pending": .decimal(balances.untrustedPending),
                "immature": .decimal(balances.immature),
            ])]
            result["lastprocessedblock"] = Self.lastProcessed(wallet.summary)
            return .object(result)
        })

        registry.register(RPCMethod(
            "listunspent", category: "Wallet",
            parameters: [
                RPCParameter("minconf", "number", required: false, "Minimum confirmations (default 1)"),
                RPCParameter("maxconf", "number", required: false, "Maximum confirmations (default 9999999)"),
                RPCParameter("addresses", "array", required: false, "Only coins paying these addresses"),
            ],
            help: "Spendable coins: [{\"txid\", \"vout\", \"address\", \"label\", \"scriptPubKey\", \"amount\", \"confirmations\", "
                + "\"spendable\", \"solvable\", \"safe\"}]. Unconfirmed (minconf 0) coins are the change of the wallet's own sends."
        ) { args in
            let wallet = try self.loadedWallet()
            let minimum = try args.optionalInt(0, in: 0...9_999_999) ?? 1
            let maximum = try args.optionalInt(1, in: 0...9_999_999) ?? 9_999_999
            var filter: Set<Address>?
            if args.has(2) {
                var addresses = Set<Address>()
                for item in try args.array(2) {
                    guard let text = item.stringValue else { throw RPCError.invalidParameter("addresses must be strings") }
                    let address = try self.parseAddress(text)
                    guard addresses.insert(address).inserted else {
                        throw RPCError.invalidParameter("Invalid parameter, duplicated address: \(text)")
                    }
                }
                filter = addresses
            }
            let coins = wallet.unspent(minimumConfirmations: UInt64(minimum), maximumConfirmations: UInt64(maximum), addresses: filter)
            return .array(coins.map { coin in
                var item: JSONObject = ["txid": .string(coin.outpoint.txid.hex), "vout": .int(coin.outpoint.index),
                                        "address": .string(coin.address.text)]
                if let label = coin.label { item["label"] = .string(label) }
                item["scriptPubKey"] = .string(HexCoding.encode(coin.output.lockScript))
                item["amount"] = .decimal(coin.output.value.baseUnits)
                item["confirmations"] = .int(coin.confirmations)
                item["spendable"] = true
                item["solvable"] = true
                item["safe"] = .bool(coin.spendable)
                return .object(item)
            })
        })

        registry.register(RPCMethod(
            "sendtoaddress", category: "Wallet",
            parameters: [
                RPCParameter("address", "string", "The address to send to"),
                RPCParameter("amount", "amount", "The amount in coins, e.g. 0.1"),
                RPCParameter("comment", "string", required: false, "A comment stored in the wallet (not in the transaction)"),
                RPCParameter("comment_to", "string", required: false, "Who the payment is to, stored in the wallet"),
                RPCParameter("subtractfeefromamount", "boolean", required: false, "The recipient pays the fee out of the amount (default false)"),
                RPCParameter("replaceable", "boolean", required: false, "Ignored: the pool replaces by fee without signalling"),
                RPCParameter("conf_target", "number", required: false, "Confirmation target in blocks for the fee estimator (default 6)"),
                RPCParameter("estimate_mode", "string", required: false, "\"economical\" or \"conservative\" (default)"),
                RPCParameter("avoid_reuse", "boolean", required: false, "Ignored"),
                RPCParameter("fee_rate", "number", required: false,
                             "Fee rate in base units per 1,000 bytes (default: the estimator's for conf_target, or twice the pool's minimum)"),
            ],
            help: "Sends an amount to an address, change to a fresh key of the wallet. Returns the txid. Needs walletpassphrase first."
        ) { args in
            let wallet = try self.loadedWallet()
            let address = try self.parseAddress(try args.string(0))
            let units = try args.amount(1)
            guard units > 0 else { throw RPCError(RPCError.typeError, "Invalid amount for send") }
            guard let amount = Amount(baseUnits: units) else { throw RPCError(RPCError.typeError, "Amount out of range") }
            let comment = try args.optionalString(2)
            let commentTo = try args.optionalString(3)
            let subtract = try args.optionalBool(4) ?? false
            _ = try args.optionalBool(5)
            let target = try args.optionalInt(6, in: 1...Int64(FeeEstimator.maxTarget)) ?? 6
            let conservative = try Self.estimateMode(try args.optionalString(7))
            _ = try args.optionalBool(8)
            let minimum = self.mempool.minimumFeeRate
            let feeRate = try args.optionalInt(9, in: 0...100_000_000).map(UInt64.init)
                ?? self.walletFeeRate(target: Int(target), conservative: conservative)
            guard feeRate >= minimum, feeRate > 0 else {
                throw RPCError.invalidParameter("Fee rate (\(feeRate) per 1,000 bytes) is lower than the minimum fee rate setting (\(minimum) per 1,000 bytes)")
            }
            do {
                let sent = try wallet.send(to: address, amount: amount, subtractFeeFromAmount: subtract, feeRate: feeRate,
                                           comment: comment, commentTo: commentTo) { transaction in
                    _ = try self.broadcast(transaction)
                }
                self.logger.info("wallet sent \(sent.txid) paying \(sent.recipientValue) to \(address), fee \(sent.fee)")
                return .string(sent.txid.hex)
            } catch let error as RPCError {
                throw error
            } catch let error as WalletError {
                throw Self.rpcError(error)
            }
        })

        registry.register(RPCMethod(
            "listtransactions", category: "Wallet",
            parameters: [
                RPCParameter("label", "string", required: false, "Only entries of this label (\"*\": all)"),
                RPCParameter("count", "number", required: false, "How many of the most recent entries (default 10)"),
                RPCParameter("skip", "number", required: false, "How many of the most recent entries to skip first (default 0)"),
            ],
            help: "The wallet's history, oldest first: [{\"address\", \"category\" (send, receive, generate, immature), \"amount\", "
                + "\"label\", \"vout\", \"fee\" (sends), \"confirmations\", \"blockhash\", \"blockheight\", \"blockindex\", \"blocktime\", "
                + "\"trusted\" (unconfirmed), \"txid\", \"replaced_by_txid\", \"replaces_txid\", \"lifecycle\" (gettxstatus's state), "
                + "\"time\", \"timereceived\", \"comment\", \"to\"}]."
        ) { args in
            let wallet = try self.loadedWallet()
            let label = try args.optionalString(0)
            let count = try args.optionalInt(1) ?? 10
            let skip = try args.optionalInt(2) ?? 0
            guard count >= 0 else { throw RPCError.invalidParameter("Negative count") }
            guard skip >= 0 else { throw RPCError.invalidParameter("Negative from") }
            let entries = wallet.transactions(label: label, count: Int(clamping: count), skip: Int(clamping: skip))
            return .array(entries.map(self.json))
        })

        registry.register(RPCMethod(
            "abandontransaction", category: "Wallet",
            parameters: [RPCParameter("txid", "string", "The transaction id")],
            help: "Forgets one of the wallet's own transactions that is in no block and not in the pool, with its "
                + "unconfirmed descendants, so that its coins can be spent again."
        ) { args in
            let wallet = try self.loadedWallet()
            guard let txid = Hash256(bytes: try args.hash(0)) else { throw RPCError.invalidParameter("txid must be 32 bytes") }
            if self.mempool.entry(txid: txid) != nil {
                throw RPCError(RPCError.invalidAddressOrKey, "Transaction not eligible for abandonment")
            }
            do {
                try wallet.abandon(txid)
            } catch {
                throw RPCError(RPCError.invalidAddressOrKey, "\(error)")
            }
            return .null
        })

        registry.register(RPCMethod(
            "walletpassphrase", category: "Wallet",
            parameters: [
                RPCParameter("passphrase", "string", "The wallet passphrase"),
                RPCParameter("timeout", "number", "Seconds to keep the keys in memory (at most 100000000)"),
            ],
            help: "Unlocks the wallet for sending for `timeout` seconds (and refills the key pool)."
        ) { args in
            let wallet = try self.loadedWallet()
            let passphrase = try args.string(0)
            let timeout = try args.int(1)
            guard timeout >= 0 else { throw RPCError.invalidParameter("Timeout cannot be negative.") }
            guard !passphrase.isEmpty else { throw RPCError.invalidParameter("passphrase can not be empty") }
            try Self.walletCall { () throws(WalletError) in try wallet.unlock(passphrase: passphrase, seconds: UInt64(timeout)) }
            return .null
        })

        registry.register(RPCMethod(
            "walletlock", category: "Wallet",
            help: "Removes the wallet's keys from memory; sending needs walletpassphrase again."
        ) { _ in
            try self.loadedWallet().lockNow()
            return .null
        })

        registry.register(RPCMethod(
            "dumpprivkey", category: "Wallet",
            parameters: [
                RPCParameter("address", "string", "An address of this wallet"),
                RPCParameter("passphrase", "string", "The wallet passphrase (needed even while unlocked)"),
            ],
            help: "The address's Ed25519 secret key seed (32 bytes, hex). Anyone holding it can spend the address's coins."
        ) { args in
            let wallet = try self.loadedWallet()
            let address = try self.parseAddress(try args.string(0))
            let passphrase = try args.string(1)
            guard wallet.owns(address) else {
                throw RPCError(RPCError.walletError, "Private key for address \(address) is not known")
            }
            return .string(HexCoding.encode(try Self.walletCall { () throws(WalletError) in try wallet.exportKey(address, passphrase: passphrase) }))
        })

        registry.register(RPCMethod(
            "getwalletinfo", category: "Wallet",
            help: "The wallet's state: walletname, walletversion, format, balance, unconfirmed_balance, immature_balance, txcount, "
                + "keypoololdest, keypoolsize, keypoolsize_hd_internal, unlocked_until, paytxfee, private_keys_enabled, "
                + "avoid_reuse, scanning, lastprocessedblock."
        ) { _ in
            let wallet = try self.loadedWallet()
            let summary = wallet.summary
            let balances = wallet.balances
            var result: JSONObject = [
                "walletname": .string((wallet.path as NSString).lastPathComponent),
                "walletversion": 1,
                "format": "rustywallet",
                "balance": .decimal(balances.trusted),
                "unconfirmed_balance": .decimal(balances.untrustedPending),
                "immature_balance": .decimal(balances.immature),
                "txcount": .int(summary.transactionCount),
                "keypoololdest": .int(summary.createdAt),
                "keypoolsize": .int(summary.keypoolSize),
                "keypoolsize_hd_internal": .int(summary.keypoolSizeInternal),
                "unlocked_until": .int(summary.unlockedUntil ?? 0),
                "paytxfee": .decimal(0),
                "private_keys_enabled": true,
                "avoid_reuse": false,
                "scanning": false,
            ]
            result["lastprocessedblock"] = Self.lastProcessed(summary)
            if let failure = wallet.lastSyncError { result["warning"] = .string(failure) }
            return .object(result)
        })
    }

    static func lastProcessed(_ summary: WalletSummary) -> JSON {
        guard let hash = summary.scannedHash, let height = summary.scannedHeight else { return .null }
        return .object(["hash": .string(hash.hex), "height": .int(height)])
    }

    func json(_ entry: WalletTransactionEntry) -> JSON {
        var item = JSONObject()
        if let address = entry.address { item["address"] = .string(address.text) }
        item["category"] = .string(entry.category.rawValue)
        item["amount"] = .decimal(entry.amount.magnitude, negative: entry.amount < 0)
        if let label = entry.label { item["label"] = .string(label) }
        item["vout"] = .int(entry.vout)
        if let fee = entry.fee { item["fee"] = .decimal(fee.magnitude, negative: fee < 0) }
        item["confirmations"] = .int(entry.confirmations)
        if entry.category == .generate || entry.category == .immature { item["generated"] = true }
        if let hash = entry.blockHash {
            item["blockhash"] = .string(hash.hex)
            item["blockheight"] = .int(entry.blockHeight ?? 0)
            item["blockindex"] = .int(entry.blockIndex ?? 0)
            item["blocktime"] = .int(entry.blockTime ?? 0)
        } else {
            item["trusted"] = .bool(entry.category == .send && entry.replacedBy == nil)
        }
        item["txid"] = .string(entry.txid.hex)
        if let replacement = entry.replacedBy { item["replaced_by_txid"] = .string(replacement.hex) }
        if let original = entry.replaces { item["replaces_txid"] = .string(original.hex) }
        if let state = walletLifecycle(entry.txid, confirmations: entry.confirmations, replacedBy: entry.replacedBy,
                                       blockHash: entry.blockHash, blockHeight: entry.blockHeight) {
            item["lifecycle"] = .string(state.rawValue)
        }
        item["time"] = .int(entry.time)
        item["timereceived"] = .int(entry.timeReceived)
        if let comment = entry.comment { item["comment"] = .string(comment) }
        if let to = entry.commentTo { item["to"] = .string(to) }
        return .object(item)
    }
}
