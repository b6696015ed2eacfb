// Blockchain methods: bitcoind's names, parameters, result fields and error codes.
// Readers use the published snapshot; stored blocks, coins and the tree's branches are read
// under the chain's writer lock (see ChainService), which a running connect holds briefly.

import ChainState
import Consensus
import Foundation
import Governance
import JSONRPC
import Primitives
import Wallet

extension NodeRPCContext {
    func registerBlockchain(in registry: RPCRegistry) {
        registry.register(RPCMethod("getblockcount", category: "Blockchain",
                                    help: "Returns the height of the most-work fully-validated chain (the genesis block has height 0).") { _ in
            .int(self.chain.snapshot.tipHeight)
        })
        registry.register(RPCMethod("getbestblockhash", category: "Blockchain",
                                    help: "Returns the hash of the best (tip) block in the most-work fully-validated chain.") { _ in
            .string(self.chain.snapshot.tipHash.hex)
        })
        registry.register(RPCMethod("getdifficulty", category: "Blockchain",
                                    help: "Returns the proof-of-work difficulty as a multiple of the minimum difficulty.") { _ in
            .double(ChainJSON.difficulty(bits: self.chain.snapshot.tipHeader.bits, powLimit: self.parameters.powLimit))
        })
        registry.register(RPCMethod("getblockhash", category: "Blockchain",
                                    parameters: [RPCParameter("height", "number", "The height index")],
                                    help: "Returns the hash of the block at the given height in the active chain.") { arguments in
            let height = try arguments.int(0)
            let snapshot = self.chain.snapshot
            guard height >= 0, let hash = snapshot.hash(atHeight: UInt64(height)) else {
                throw RPCError.invalidParameter("Block height out of range")
            }
            return .string(hash.hex)
        })
        registry.register(RPCMethod("getblockchaininfo", category: "Blockchain",
                                    help: "Returns an object containing various state info regarding blockchain processing.") { _ in
            try self.blockchainInfo()
        })
        registry.register(RPCMethod("getblockheader", category: "Blockchain",
                                    parameters: [RPCParameter("blockhash", "string", "The block hash"),
                                                 RPCParameter("verbose", "boolean", required: false, "true for a json object, false for the hex-encoded data (default: true)")],
                                    help: "If verbose is false, returns a string that is serialized, hex-encoded data for blockheader 'hash'.\nIf verbose is true, returns an Object with information about blockheader <hash>.") { arguments in
            let hash = try Self.blockHash(arguments, 0)
            let verbose = try arguments.optionalBool(1) ?? true
            let snapshot = self.chain.snapshot
            guard let header = snapshot.header(hash) else { throw RPCError.notFound("Block not found") }
            guard verbose else { return .string(HexCoding.encode(header.encoded)) }
            let stored = try self.chain.block(hash)
            return .object(self.headerObject(hash, header, snapshot: snapshot, transactionCount: stored.flatMap(Self.transactionCount)))
        })
        registry.register(RPCMethod("getblock", category: "Blockchain",
                                    parameters: [RPCParameter("blockhash", "string", "The block hash"),
                                                 RPCParameter("verbosity", "number", required: false,
                                                              "0 for hex-encoded data, 1 for a JSON object, 2 for JSON with transaction data, 3 for JSON with transaction data and prevouts (default: 1)")],
                                    help: "If verbosity is 0, returns a string that is serialized, hex-encoded data for block 'hash'.\nIf verbosity is 1, returns an Object with information about block <hash>.\nIf verbosity is 2, returns an Object with information about block <hash> and information about each transaction (with its fee when the block's undo data is at hand).\nIf verbosity is 3, as 2 with each input's prevout.") { arguments in
            let hash = try Self.blockHash(arguments, 0)
            let verbosity = try Self.verbosity(arguments, 1, default: 1, range: 0...3)
            return try self.block(hash, verbosity: verbosity)
        })
        registry.register(RPCMethod("getchaintips", category: "Blockchain",
                                    help: "Return information about all known tips in the block tree, including the main chain as well as orphaned branches.\nstatus: \"active\" (the main chain), \"valid-fork\" (a fully validated branch, not active), \"valid-headers\" (all blocks stored, not all validated), \"headers-only\" (some blocks not downloaded), \"invalid\" (contains at least one invalid block).") { _ in
            .array(try self.chainTips())
        })
        registry.register(RPCMethod("gettxout", category: "Blockchain",
                                    parameters: [RPCParameter("txid", "string", "The transaction id"),
                                                 RPCParameter("n", "number", "vout number"),
                                                 RPCParameter("include_mempool", "boolean", required: false, "Whether to include the mempool (default: true)")],
                                    help: "Returns details about an unspent transaction output (null when it is spent or never existed).") { arguments in
            let txid = try Self.transactionID(arguments, 0)
            let index = try arguments.int(1, in: 0...Int64(UInt32.max))
            let includeMempool = try arguments.optionalBool(2) ?? true
            return try self.transactionOutput(OutPoint(txid: txid, index: UInt32(index)), includeMempool: includeMempool)
        })
        registry.register(RPCMethod("gettxoutsetinfo", category: "Blockchain",
                                    help: "Returns statistics about the unspent transaction output set: height, bestblock, txouts, total_amount, and this chain's UTXO digest (utxo_digest, also as hash_serialized: BLAKE3 over every coin's key and encoding in key order).\nIt flushes the chain state and holds the chain's writer lock while it counts (a scan of the whole set when the cache does not hold every coin); block connection waits meanwhile.") { _ in
            let summary = try self.chain.withWriter { try $0.utxoSummary() }
            return ["height": .int(summary.bestHeight), "bestblock": .string(summary.bestHash.hex), "txouts": .int(summary.count),
                    "utxo_digest": .string(summary.digest.hex), "hash_serialized": .string(summary.digest.hex),
                    "total_amount": .decimal(summary.total.baseUnits)]
        })
    }

    // MARK: Parameters

    /// A block hash argument: -8 for bad text (as `hash` says).
    static func blockHash(_ arguments: RPCArguments, _ index: Int) throws(RPCError) -> Hash256 {
        Hash256(bytes: try arguments.hash(index))!
    }

    static func transactionID(_ arguments: RPCArguments, _ index: Int) throws(RPCError) -> Hash256 {
        Hash256(bytes: try arguments.hash(index))!
    }

    /// bitcoind's verbosity arguments: a number in `range`, or a boolean (true: 1, false: 0).
    static func verbosity(_ arguments: RPCArguments, _ index: Int, default value: Int, range: ClosedRange<Int64>) throws(RPCError) -> Int {
        guard let given = arguments[index] else { return value }
        if let flag = given.boolValue { return flag ? 1 : 0 }
        return Int(try arguments.int(index, in: range))
    }

    // MARK: Results

    func blockchainInfo() throws -> JSON {
        let snapshot = chain.snapshot
        let tip = snapshot.tipHeader
        let mediantime = medianTime(snapshot.tipHash, snapshot: snapshot)
        var info = JSONObject()
        info["chain"] = .string(ChainJSON.chainName(network))
        info["blocks"] = .int(snapshot.tipHeight)
        info["headers"] = .int(snapshot.bestHeaderHeight)
        info["bestblockhash"] = .string(snapshot.tipHash.hex)
        info["bits"] = .string(ChainJSON.hex32(tip.bits))
        if let target = try? tip.compactTarget.target() { info["target"] = .string(target.hex) }
        info["difficulty"] = .double(ChainJSON.difficulty(bits: tip.bits, powLimit: parameters.powLimit))
        info["time"] = .int(tip.time)
        info["mediantime"] = .int(mediantime)
        info["verificationprogress"] = .double(Self.progress(snapshot))
        info["initialblockdownload"] = .bool(Self.isInitialBlockDownload(snapshot))
        info["chainwork"] = .string(snapshot.tipChainWork.hex)
        info["size_on_disk"] = .int(Self.sizeOnDisk(directory))
        info["pruned"] = false
        info["warnings"] = .array([])
        // The governed parameters in force for the next block (PROTOCOL section 18).
        let (height, governed) = governedParametersForNextBlock()
        info["parameters"] = .object(JSONObject(uniqueKeysWithValues: GovernanceParameter.allCases.map { ($0.name, JSON.int(governed[$0])) }))
        info["parametersheight"] = .int(height)
        return .object(info)
    }

    /// Blocks connected over headers known (1 once the tip has caught up with the best header).
    static func progress(_ snapshot: ChainSnapshot) -> Double {
        snapshot.bestHeaderHeight == 0 ? 1 : min(1, Double(snapshot.tipHeight) / Double(snapshot.bestHeaderHeight))
    }

    /// bitcoind's rule: still syncing while blocks of the best header chain are missing or
    /// the tip is more than a day old (DEFAULT_MAX_TIP_AGE).
    static func isInitialBlockDownload(_ snapshot: ChainSnapshot, now: UInt64 = UInt64(max(0, Date().timeIntervalSince1970))) -> Bool {
        snapshot.tipHeight < snapshot.bestHeaderHeight || snapshot.tipHeader.time + 24 * 3600 < now
    }

    /// Bytes of the block and undo files and the chain database (not peers.dat, logs, ...).
    static func sizeOnDisk(_ directory: String) -> UInt64 {
        let files = FileManager.default
        func size(_ path: String) -> UInt64 { ((try? files.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.uint64Value ?? 0 }
        var total: UInt64 = 0
        for name in (try? files.contentsOfDirectory(atPath: directory)) ?? [] {
            let isDatabaseFile = name.hasSuffix(".sst") || (name.hasSuffix(".log") && name.first?.isNumber == true)
                || name.hasPrefix("MANIFEST-") || name.hasPrefix("OPTIONS-") || name == "CURRENT" || name == "IDENTITY"
            if isDatabaseFile { total += size(directory + "/" + name) }
        }
        let blocks = directory + "/blocks"
        for name in (try? files.contentsOfDirectory(atPath: blocks)) ?? [] { total += size(blocks + "/" + name) }
        return total
    }

    /// Median time past of an indexed header (it and up to 10 ancestors).
    func medianTime(_ hash: Hash256, snapshot: ChainSnapshot) -> UInt64 {
        var times = [UInt64]()
        var cursor = snapshot.header(hash)
        while let header = cursor, times.count < parameters.medianTimeSpan {
            times.append(header.time)
            cursor = header.height == 0 ? nil : snapshot.header(header.previousHash)
        }
        return HeaderRules.medianTime(times)
    }

    /// The transaction count of an encoded block (the CompactSize after its header).
    static func transactionCount(_ block: [UInt8]) -> Int? {
        var reader = ByteReader(Array(block.dropFirst(BlockHeader.encodedLength).prefix(9)), path: "block")
        return (try? reader.readCompactSize("tx_count", limit: EncodingLimits.maxTransactions)).flatMap { Int(exactly: $0) }
    }

    /// getblockheader's object; getblock adds `size` and `tx` after the Merkle and state roots.
    func headerObject(_ hash: Hash256, _ header: BlockHeader, snapshot: ChainSnapshot, transactionCount: Int?,
                      block: (size: Int, transactions: JSON)? = nil) -> JSONObject {
        let activeHeight = snapshot.activeHeight(of: hash)
        var object = JSONObject()
        object["hash"] = .string(hash.hex)
        object["confirmations"] = activeHeight.map { .int(snapshot.tipHeight - $0 + 1) } ?? .int(-1)
        if let block {
            object["size"] = .int(block.size)
            object["weight"] = .int(4 * block.size)
        }
        object["height"] = .int(header.height)
        object["version"] = .int(header.version)
        object["versionHex"] = .string(ChainJSON.hex32(header.version))
        object["merkleroot"] = .string(header.merkleRoot.hex)
        object["stateroot"] = .string(header.stateRoot.hex)
        if let block { object["tx"] = block.transactions }
        object["time"] = .int(header.time)
        object["mediantime"] = .int(medianTime(hash, snapshot: snapshot))
        object["nonce"] = .int(header.nonce)
        object["bits"] = .string(ChainJSON.hex32(header.bits))
        if let target = try? header.compactTarget.target() { object["target"] = .string(target.hex) }
        object["difficulty"] = .double(ChainJSON.difficulty(bits: header.bits, powLimit: parameters.powLimit))
        if let work = snapshot.chainWork(of: hash) { object["chainwork"] = .string(work.hex) }
        if let transactionCount { object["nTx"] = .int(transactionCount) }
        if header.height > 0 { object["previousblockhash"] = .string(header.previousHash.hex) }
        if activeHeight != nil, let next = snapshot.hash(atHeight: header.height + 1) { object["nextblockhash"] = .string(next.hex) }
        return object
    }

    func block(_ hash: Hash256, verbosity: Int) throws -> JSON {
        let snapshot = chain.snapshot
        guard let header = snapshot.header(hash) else { throw RPCError.notFound("Block not found") }
        guard let bytes = try chain.block(hash) else { throw RPCError(RPCError.miscError, "Block not available") }
        if verbosity == 0 { return .string(HexCoding.encode(bytes)) }
        let block: Block
        do { block = try Block(decoding: bytes) } catch {
            throw RPCError(RPCError.miscError, "Block not available (stored bytes do not decode: \(error))")
        }
        let transactions: JSON
        if verbosity == 1 {
            transactions = .array(block.transactions.map { .string($0.txid.hex) })
        } else {
            // The undo record holds the coins the block spent: fees (and prevouts) come from it.
            let spent = ChainJSON.coinsSpent(by: block, undo: try chain.withWriter { try $0.spentCoins(ofBlock: hash) })
            let address = addressText
            transactions = .array(block.transactions.map { transaction in
                var object = ChainJSON.transaction(transaction, address: address, spent: spent)
                if verbosity >= 3, let spent { ChainJSON.addPrevouts(&object, transaction, spent: spent, address: address) }
                return .object(object)
            })
        }
        return .object(headerObject(hash, header, snapshot: snapshot, transactionCount: block.transactions.count,
                                    block: (bytes.count, transactions)))
    }

    func chainTips() throws -> [JSON] {
        try chain.withWriter { state in
            let active = state.active
            func isActive(_ node: BlockNode) -> Bool { node.height < UInt64(active.count) && active[Int(node.height)] === node }
            var tips = [(height: UInt64, entry: JSON)]()
            for tip in state.chainTips() {
                var status: String
                var fork = tip
                var invalid = false, missing = false, unconnected = false
                while !isActive(fork), let parent = fork.parent {
                    invalid = invalid || fork.isInvalid
                    missing = missing || !fork.hasBlock
                    if !unconnected && !invalid && !missing { unconnected = !(try state.wasConnected(fork.hash)) }
                    fork = parent
                }
                if tip === state.tip { status = "active" }
                else if invalid { status = "invalid" }
                else if missing { status = "headers-only" }
                else if unconnected { status = "valid-headers" }
                else { status = "valid-fork" }
                tips.append((tip.height, ["height": .int(tip.height), "hash": .string(tip.hash.hex),
                                          "branchlen": .int(tip.height - fork.height), "status": .string(status)]))
            }
            // bitcoind lists the tips by height, highest first.
            return tips.sorted { $0.height > $1.height }.map(\.entry)
        }
    }

    /// gettxout: a coin of the chain's UTXO set, or with `includeMempool` as the pool sees it
    /// (a coin a pool transaction spends is gone; a pool transaction's output has 0 confirmations).
    func transactionOutput(_ outpoint: OutPoint, includeMempool: Bool) throws -> JSON {
        if includeMempool && mempool.spender(of: outpoint) != nil { return .null }
        let (chainCoin, tipHash, tipHeight) = try chain.withWriter { state in (try state.utxo.coin(outpoint), state.tip.hash, state.tip.height) }
        let poolCoin = chainCoin == nil && includeMempool ? mempool.coin(outpoint) : nil
        guard let coin = chainCoin ?? poolCoin else { return .null }
        let confirmations = poolCoin != nil || tipHeight < coin.height ? 0 : tipHeight - coin.height + 1
        return ["bestblock": .string(tipHash.hex), "confirmations": .int(confirmations),
                "value": .decimal(coin.output.value.baseUnits),
                "scriptPubKey": ChainJSON.scriptPubKey(coin.output.lockScript, address: addressText),
                "coinbase": .bool(coin.isCoinbase)]
    }

    /// The address of a standard lock script on this node's network (nil: none).
    var addressText: (([UInt8]) -> String?)? {
        let network = network
        return { Address.from(lockScript: $0, network: network)?.text }
    }
}
