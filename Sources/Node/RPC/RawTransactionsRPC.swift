// Raw-transaction methods: getrawtransaction and decoderawtransaction, in bitcoind's form.

import ChainState
import Consensus
import JSONRPC
import Primitives

extension NodeRPCContext {
    func registerRawTransactions(in registry: RPCRegistry) {
        registry.register(RPCMethod("decoderawtransaction", category: "Rawtransactions",
                                    parameters: [RPCParameter("hexstring", "string", "The transaction hex string")],
                                    help: "Return a JSON object representing the serialized, hex-encoded transaction.") { arguments in
            let bytes = try arguments.hexBytes(0)
            let transaction: Transaction
            do { transaction = try Transaction(decoding: bytes) } catch {
                throw RPCError(RPCError.deserializationError, "TX decode failed: \(error)")
            }
            return .object(ChainJSON.transaction(transaction, address: self.addressText))
        })
        registry.register(RPCMethod("getrawtransaction", category: "Rawtransactions",
                                    parameters: [RPCParameter("txid", "string", "The transaction id"),
                                                 RPCParameter("verbose", "number", required: false,
                                                              "0 (or false) for the hex-encoded data, 1 (or true) for a JSON object, 2 for a JSON object with fee and prevouts (default: 0)"),
                                                 RPCParameter("blockhash", "string", required: false, "The block in which to look for the transaction")],
                                    help: "Return the raw transaction data: from the mempool, or from the block 'blockhash' if given, or through the transaction index (-txindex).\nIf verbose is 0, returns the serialized, hex-encoded data; otherwise a JSON object (with blockhash, confirmations, time and blocktime for a transaction in a block of the active chain).") { arguments in
            let txid = try Self.transactionID(arguments, 0)
            let verbosity = try Self.verbosity(arguments, 1, default: 0, range: 0...2)
            let blockHash = arguments.has(2) ? try Self.blockHash(arguments, 2) : nil
            return try self.rawTransaction(txid, verbosity: verbosity, blockHash: blockHash)
        })
    }

    /// Finds `txid` in the given block, or through the transaction index.
    func rawTransaction(_ txid: Hash256, verbosity: Int, blockHash: Hash256?) throws -> JSON {
        let found: (transaction: Transaction, block: Hash256?, spent: [OutPoint: Coin]?)
        if blockHash == nil, let entry = mempool.entry(txid: txid) {
            // The pool knows the fee; `spent` is only needed to compute one.
            if verbosity == 0 { return .string(HexCoding.encode(entry.transaction.encoded)) }
            var object = ChainJSON.transaction(entry.transaction, address: addressText)
            if verbosity >= 2 { object["fee"] = .decimal(entry.fee.baseUnits) }
            object["hex"] = .string(HexCoding.encode(entry.transaction.encoded))
            return .object(object)
        } else if let blockHash {
            guard chain.snapshot.header(blockHash) != nil else { throw RPCError.notFound("Block hash not found") }
            guard let located = try transaction(txid, inBlock: blockHash, withSpent: verbosity >= 2) else {
                throw RPCError.notFound("No such transaction found in the provided block. Use gettransaction for wallet transactions.")
            }
            found = (located.transaction, blockHash, located.spent)
        } else if let txIndex {
            let location: (blockHash: Hash256, height: UInt64)?
            do { location = try txIndex.location(of: txid) } catch {
                throw RPCError(RPCError.databaseError, "Transaction index: \(error)")
            }
            guard let location, let located = try transaction(txid, inBlock: location.blockHash, withSpent: verbosity >= 2) else {
                throw RPCError.notFound("No such mempool or blockchain transaction. Use gettransaction for wallet transactions.")
            }
            found = (located.transaction, location.blockHash, located.spent)
        } else {
            throw RPCError.notFound("No such mempool transaction. Use -txindex or provide a block hash to enable blockchain transaction queries. Use gettransaction for wallet transactions.")
        }
        if verbosity == 0 { return .string(HexCoding.encode(found.transaction.encoded)) }
        var object = ChainJSON.transaction(found.transaction, address: addressText, spent: found.spent)
        if verbosity >= 2, let spent = found.spent { ChainJSON.addPrevouts(&object, found.transaction, spent: spent, address: addressText) }
        object["hex"] = .string(HexCoding.encode(found.transaction.encoded))
        if let block = found.block {
            let snapshot = chain.snapshot
            object["blockhash"] = .string(block.hex)
            if let height = snapshot.activeHeight(of: block), let header = snapshot.header(block) {
                object["confirmations"] = .int(snapshot.tipHeight - height + 1)
                object["time"] = .int(header.time)
                object["blocktime"] = .int(header.time)
            } else {
                object["confirmations"] = 0
            }
            // bitcoind sets in_active_chain only when the caller named the block.
            if blockHash != nil { object["in_active_chain"] = .bool(snapshot.activeHeight(of: block) != nil) }
        }
        return .object(object)
    }

    /// The transaction `txid` of a stored block (nil when the block does not hold it), and the
    /// coins the block spent when asked (for fees).
    func transaction(_ txid: Hash256, inBlock hash: Hash256, withSpent: Bool) throws
        -> (transaction: Transaction, spent: [OutPoint: Coin]?)? {
        guard let bytes = try chain.block(hash) else { throw RPCError(RPCError.miscError, "Block not available") }
        let decoded: (block: Block, spans: [TransactionSpan])
        do { decoded = try Block.decodeWithSpans(bytes) } catch {
            throw RPCError(RPCError.miscError, "Block not available (stored bytes do not decode: \(error))")
        }
        let found = bytes.withUnsafeBytes { raw in decoded.spans.firstIndex { $0.ids(in: raw).txid == txid } }
        guard let index = found else { return nil }
        let spent = withSpent ? ChainJSON.coinsSpent(by: decoded.block, undo: try chain.withWriter { try $0.spentCoins(ofBlock: hash) }) : nil
        return (decoded.block.transactions[index], spent)
    }
}
