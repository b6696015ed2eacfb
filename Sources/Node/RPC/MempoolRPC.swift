// Mempool methods: sendrawtransaction, testmempoolaccept (TestAcceptRPC.swift), getmempoolinfo,
// getrawmempool, getmempoolentry, getmempoolancestors/descendants, savemempool; gettxstatus
// (LifecycleRPC.swift) and estimatesmartfee (FeeRPC.swift) register from here too; and
// `broadcast`, the one path from RPC and wallet into the pool.

import ChainState
import Consensus
import JSONRPC
import Mempool
import Primitives

extension NodeRPCContext {
    /// bitcoind's default `maxfeerate` for sendrawtransaction/testmempoolaccept: 0.10 per kvB.
    static let defaultMaxFeeRate: UInt64 = 10_000_000

    /// Submits `transaction` to the pool and announces it to peers; returns its txid. A
    /// transaction already in the pool is announced again and its txid returned (bitcoind's
    /// habit). Refusals: -25 missing inputs, -26 rejected ("rule (detail)"), -27 already in
    /// the chain.
    func broadcast(_ transaction: Transaction) throws(RPCError) -> Hash256 {
        try broadcast(transaction, maxFeeRate: nil)
    }

    /// `maxFeeRate` (base units per 1,000 bytes; nil or 0: no limit) refuses absurd fees before submitting.
    func broadcast(_ transaction: Transaction, maxFeeRate: UInt64?) throws(RPCError) -> Hash256 {
        if let maxFeeRate, maxFeeRate > 0, case .accepted(let entry) = mempool.test(transaction), entry.feeRate > maxFeeRate {
            throw RPCError(RPCError.verifyError, "Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)")
        }
        switch mempool.submit(transaction, source: "rpc") {
        case .accepted(let entry):
            peers.relayTransaction(wtxid: entry.wtxid)
            return entry.txid
        case .rejected(let rejection):
            switch rejection.kind {
            case .alreadyInPool:
                let txid = transaction.txid
                if let pooled = mempool.entry(txid: txid) { peers.relayTransaction(wtxid: pooled.wtxid) }
                return txid
            case .alreadyInChain:
                throw RPCError(RPCError.verifyAlreadyInChain, "Transaction outputs already in utxo set")
            case .missingInputs:
                throw RPCError(RPCError.verifyError, rejection.description)
            case .invalid:
                throw RPCError(RPCError.verifyRejected, rejection.description)
            }
        }
    }

    func registerMempool(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "sendrawtransaction", category: "Rawtransactions",
            parameters: [
                RPCParameter("hexstring", "hex", "The hex string of the raw transaction"),
                RPCParameter("maxfeerate", "amount", required: false,
                             "Reject transactions whose fee rate is higher than this, in coins/kvB (default 0.10; 0 accepts any)"),
            ],
            help: "Submits a raw transaction to the local node and network. Returns the transaction id (hex)."
        ) { args in
            let transaction = try Self.decodeTransaction(try args.hexBytes(0))
            let maxFeeRate = args.has(1) ? try args.amount(1) : Self.defaultMaxFeeRate
            return .string(try self.broadcast(transaction, maxFeeRate: maxFeeRate).hex)
        })

        registry.register(RPCMethod(
            "testmempoolaccept", category: "Rawtransactions",
            parameters: [
                RPCParameter("rawtxs", "array", "Raw transactions (hex), each checked on its own against the chain and the pool (at most 25)"),
                RPCParameter("maxfeerate", "amount", required: false, "Reject fee rates above this, in coins/kvB (default 0.10; 0: no limit)"),
            ],
            help: "Whether each raw transaction would be accepted by the mempool; adds nothing. Several form a package: "
                + "no duplicates, no two spending one coin, parents before children (else each result has package-error).\n"
                + "Result: [{\"txid\", \"wtxid\", \"allowed\", \"vsize\", \"fees\": {\"base\", \"effective-feerate\", "
                + "\"effective-includes\"}, \"reject-reason\", \"reject-details\"}]; a transaction spending an earlier one "
                + "of the package is not validated on its own (no \"allowed\")."
        ) { args in
            let raw = try args.array(0)
            let maxFeeRate = args.has(1) ? try args.amount(1) : Self.defaultMaxFeeRate
            return try self.testAccept(raw, maxFeeRate: maxFeeRate)
        })

        registry.register(RPCMethod(
            "getmempoolinfo", category: "Blockchain",
            help: "Details on the transaction pool: loaded, size (transactions), bytes, usage, total_fee, maxmempool, "
                + "mempoolminfee, minrelaytxfee, incrementalrelayfee, unbroadcastcount, fullrbf."
        ) { _ in
            let policy = self.mempool.policy
            let count = self.mempool.count
            let bytes = self.mempool.bytes
            return .object([
                "loaded": true,
                "size": .int(count),
                "bytes": .int(bytes),
                "usage": .int(self.mempool.memoryUsage),
                "total_fee": .decimal(self.mempool.totalFee.baseUnits),
                "maxmempool": .int(policy.maxPoolBytes),
                // The relay minimum, raised while the pool is full (then decaying).
                "mempoolminfee": .decimal(max(self.mempool.minimumFeeRate, self.mempool.minRelayFeeRate)),
                "minrelaytxfee": .decimal(self.mempool.minRelayFeeRate),
                "incrementalrelayfee": .decimal(policy.incrementalRelayFeeRate),
                // Announcements are queued for every connected peer at once; none wait for a first peer.
                "unbroadcastcount": 0,
                // Every transaction is replaceable by fee (no BIP 125 signal needed).
                "fullrbf": true,
            ])
        })

        registry.register(RPCMethod(
            "getrawmempool", category: "Blockchain",
            parameters: [
                RPCParameter("verbose", "boolean", required: false, "true for an object of entries by txid, false (default) for txids"),
                RPCParameter("mempool_sequence", "boolean", required: false,
                             "With verbose false: {\"txids\", \"mempool_sequence\"}, the pool's change counter with the txids"),
            ],
            help: "All transaction ids in the mempool (in the order they entered), or with verbose an object txid -> entry "
                + "(the fields of getmempoolentry)."
        ) { args in
            let verbose = try args.optionalBool(0) ?? false
            let withSequence = try args.optionalBool(1) ?? false
            if verbose && withSequence {
                throw RPCError.invalidParameter("Verbose results cannot contain mempool sequence values.")
            }
            // The counter is read first: a change racing the listing then shows as a newer counter later.
            let sequence = self.mempool.sequence
            let entries = self.mempool.entries()
            if withSequence {
                return .object(["txids": .array(entries.map { .string($0.txid.hex) }), "mempool_sequence": .int(sequence)])
            }
            guard verbose else { return .array(entries.map { .string($0.txid.hex) }) }
            // Txids are distinct: linear, for a pool of any size.
            let object = JSONObject(uniqueKeysWithValues: entries.map { ($0.txid.hex, self.entryJSON($0)) })
            return .object(object)
        })

        registry.register(RPCMethod(
            "getmempoolentry", category: "Blockchain",
            parameters: [RPCParameter("txid", "string", "The transaction id (must be in the mempool)")],
            help: "Mempool data for one transaction: vsize, weight, time, height, descendant and ancestor counts and sizes, "
                + "wtxid, fees {base, modified, ancestor, descendant}, depends, spentby, bip125-replaceable, unbroadcast."
        ) { args in
            let txid = try Self.hashArgument(args, 0)
            guard let entry = self.mempool.entry(txid: txid) else { throw RPCError.notFound("Transaction not in mempool") }
            return self.entryJSON(entry)
        })

        for (name, what) in [("getmempoolancestors", "in-mempool ancestors"), ("getmempooldescendants", "in-mempool descendants")] {
            registry.register(RPCMethod(
                name, category: "Blockchain",
                parameters: [
                    RPCParameter("txid", "string", "The transaction id (must be in the mempool)"),
                    RPCParameter("verbose", "boolean", required: false, "true for an object of entries by txid, false (default) for txids"),
                ],
                help: "The \(what) of a mempool transaction: txids, or with verbose an object txid -> entry (getmempoolentry's fields)."
            ) { args in
                let txid = try Self.hashArgument(args, 0)
                guard self.mempool.contains(txid: txid) else { throw RPCError.notFound("Transaction not in mempool") }
                let related = name == "getmempoolancestors" ? self.mempool.ancestors(of: txid) : self.mempool.descendants(of: txid)
                guard try args.optionalBool(1) ?? false else { return .array(related.map { .string($0.txid.hex) }) }
                var object = JSONObject()
                for entry in related { object[entry.txid.hex] = self.entryJSON(entry) }
                return .object(object)
            })
        }

        registry.register(RPCMethod(
            "savemempool", category: "Blockchain",
            help: "Writes the mempool to <datadir>/<network>/mempool.dat (what the node loads at start). Result: {\"filename\"}."
        ) { _ in
            let path = self.directory + "/mempool.dat"
            do {
                let count = try self.mempool.save(to: path)
                self.logger.info("saved \(count) mempool transactions to \(path)")
            } catch {
                throw RPCError(RPCError.miscError, "Unable to dump mempool to disk (\(error))")
            }
            return .object(["filename": .string(path)])
        })

        registerLifecycle(in: registry)
        registerFees(in: registry)
    }

    /// bitcoind's mempool entry object.
    func entryJSON(_ entry: MempoolEntry) -> JSON {
        let ancestors = mempool.ancestors(of: entry.txid)
        let descendants = mempool.descendants(of: entry.txid)
        let ancestorFee = ancestors.reduce(entry.fee.baseUnits) { $0 + $1.fee.baseUnits }
        let descendantFee = descendants.reduce(entry.fee.baseUnits) { $0 + $1.fee.baseUnits }
        return .object([
            "vsize": .int(entry.size),
            "weight": .int(entry.size * 4),
            "time": .int(entry.time),
            "height": .int(entry.height),
            "descendantcount": .int(descendants.count + 1),
            "descendantsize": .int(descendants.reduce(entry.size) { $0 + $1.size }),
            "ancestorcount": .int(ancestors.count + 1),
            "ancestorsize": .int(ancestors.reduce(entry.size) { $0 + $1.size }),
            "wtxid": .string(entry.wtxid.hex),
            "fees": .object([
                "base": .decimal(entry.fee.baseUnits),
                "modified": .decimal(entry.fee.baseUnits),
                "ancestor": .decimal(ancestorFee),
                "descendant": .decimal(descendantFee),
            ]),
            "depends": .array(entry.depends.map { .string($0.hex) }),
            "spentby": .array(mempool.children(of: entry.txid).sorted().map { .string($0.hex) }),
            // Full replace-by-fee: every pool transaction can be replaced, signalled or not.
            "bip125-replaceable": true,
            "unbroadcast": false,
        ])
    }

    static func decodeTransaction(_ bytes: [UInt8]) throws(RPCError) -> Transaction {
        do {
            return try Transaction(decoding: bytes)
        } catch {
            throw RPCError(RPCError.deserializationError, "TX decode failed: \(error)")
        }
    }

    static func hashArgument(_ args: RPCArguments, _ index: Int) throws(RPCError) -> Hash256 {
        let bytes = try args.hash(index)
        guard let hash = Hash256(bytes: bytes) else { throw RPCError.invalidParameter("not a 32-byte hash") }
        return hash
    }
}
