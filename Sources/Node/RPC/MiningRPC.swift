// Mining methods: getblocktemplate (BIP 22 plus this protocol's header), submitblock,
// getmininginfo, and generatetoaddress on regtest.

import ChainState
import Consensus
import Foundation
import JSONRPC
import Mempool
import Mining
import Primitives
import ProofOfWorkSearch
import Wallet

extension NodeRPCContext {
    /// Bytes kept out of the pool's selection for the header, the transaction count and the coinbase.
    static let coinbaseReserve = BlockTemplateSource.coinbaseReserve

    var templateSource: BlockTemplateSource {
        BlockTemplateSource(chain: chain, mempool: mempool, parameters: parameters, logger: logger)
    }

    /// A template on the current tip paying `payout` (see `BlockTemplateSource.make`).
    func blockTemplate(payout: [UInt8]) async throws(RPCError) -> (template: BlockTemplate, entries: [MempoolEntry]) {
        do {
            return try await templateSource.make(payout: payout)
        } catch {
            throw RPCError(RPCError.miscError, error.description)
        }
    }

    func registerMining(in registry: RPCRegistry) {
        registerGenerate(in: registry)
        registry.register(RPCMethod(
            "getblocktemplate", category: "Mining",
            parameters: [RPCParameter("template_request", "object", required: false,
                                      "{\"mode\": \"template\", \"longpollid\": \"...\", \"payoutscript\": \"hex\"}: with payoutscript "
                                      + "(a lock script) the result also has coinbasetxn and the 128-byte header to search nonces on")],
            help: "A block template (BIP 22): version, previousblockhash, transactions [{data, txid, hash, depends, fee, size, weight}], "
                + "coinbasevalue, longpollid, target, mintime, mutable, noncerange, sizelimit, curtime, bits, height; with a "
                + "payoutscript also coinbasetxn {data, txid, hash}, merkleroot, stateroot, extensionroot and header (hex, nonce 0)."
        ) { args in
            let snapshot = self.chain.snapshot
            // bitcoind refuses templates while catching up, except on test networks.
            if self.network == "mainnet" && BlockTemplateSource.catchingUp(snapshot) {
                throw RPCError(RPCError.clientInInitialDownload, "Rusty Coin is in initial sync and waiting for blocks...")
            }
            let request = args.has(0) ? try args.object(0) : JSONObject()
            if let mode = request["mode"], mode != .string("template") {
                throw RPCError.invalidParameter("Invalid mode (only \"template\" is supported)")
            }
            var payout: [UInt8]?
            if let script = request["payoutscript"] {
                guard let text = script.stringValue, let bytes = HexCoding.decode(text) else {
                    throw RPCError.invalidParameter("payoutscript must be a hex string")
                }
                payout = bytes
            }
            if let longPoll = request["longpollid"] {
                guard let id = longPoll.stringValue else { throw RPCError.invalidParameter("longpollid must be a string") }
                await self.waitForChange(from: id)
            }
            let (template, entries) = try await self.blockTemplate(payout: payout ?? [])
            return self.templateJSON(template, entries: entries, withCoinbase: payout != nil)
        })

        registry.register(RPCMethod(
            "submitblock", category: "Mining",
            parameters: [
                RPCParameter("hexdata", "hex", "The hex-encoded block"),
                RPCParameter("dummy", "string", required: false, "Ignored (bitcoind's compatibility argument)"),
            ],
            help: "Submits a block. Returns null when it joined the best chain, else a reason: \"duplicate\", "
                + "\"duplicate-invalid\", \"inconclusive\" (stored, not on the best chain) or the rule it broke."
        ) { args in
            let bytes = try args.hexBytes(0)
            let block: Block
            do { block = try Block(decoding: bytes) } catch { throw RPCError(RPCError.deserializationError, "Block decode failed: \(error)") }
            return try self.submit(block, encodedSize: bytes.count)
        })

        registry.register(RPCMethod(
            "getnetworkhashps", category: "Mining",
            parameters: [
                RPCParameter("nblocks", "number", required: false, "Blocks to average over (default 120; -1 or 0: since genesis)"),
                RPCParameter("height", "number", required: false, "Estimate as of this height (default -1: the tip)"),
            ],
            help: "Estimated network hashes per second: the chain work of the last nblocks blocks over the time they span."
        ) { args in
            let snapshot = self.chain.snapshot
            let blocks = try args.optionalInt(0, in: -1...Int64(Int32.max)) ?? 120
            let height = try args.optionalInt(1, in: -1...Int64(UInt32.max)) ?? -1
            let end = height < 0 || UInt64(height) > snapshot.tipHeight ? snapshot.tipHeight : UInt64(height)
            return .double(Self.networkHashesPerSecond(snapshot, blocks: blocks <= 0 ? end : UInt64(blocks), endHeight: end))
        })

        registry.register(RPCMethod(
            "getmininginfo", category: "Mining",
            help: "Mining-related information: blocks, difficulty, networkhashps (over the last 120 blocks), pooledtx, chain, warnings."
        ) { _ in
            let snapshot = self.chain.snapshot
            let target = (try? snapshot.tipHeader.compactTarget.target()) ?? self.parameters.powLimit
            return .object([
                "blocks": .int(snapshot.tipHeight),
                "difficulty": .double(self.parameters.powLimit.approximateDouble / max(target.approximateDouble, 1)),
                "networkhashps": .double(Self.networkHashesPerSecond(snapshot, blocks: 120)),
                "pooledtx": .int(self.mempool.count),
                "chain": .string(self.network),
                "warnings": "",
            ])
        })
    }

    /// Most blocks one generatetoaddress call mines.
    static let maxGeneratedBlocks: Int64 = 10_000

    func registerGenerate(in registry: RPCRegistry) {
        registry.register(RPCMethod(
            "generatetoaddress", category: "Generating",
            parameters: [
                RPCParameter("nblocks", "number", "How many blocks to generate"),
                RPCParameter("address", "string", "The address the coinbases pay"),
                RPCParameter("maxtries", "number", required: false, "How many nonces to try in all (default 1000000)"),
            ],
            help: "Mines blocks on the CPU right away (regtest only), with mempool transactions, paying the address. "
                + "Returns the hashes of the blocks generated."
        ) { args in
            guard self.network == "regtest" else {
                throw RPCError(RPCError.miscError, "This method can only be used on regtest")
            }
            let count = try args.int(0)
            guard (0...Self.maxGeneratedBlocks).contains(count) else {
                throw RPCError.invalidParameter("nblocks must be between 0 and \(Self.maxGeneratedBlocks)")
            }
            let address: Address
            do {
                address = try Address(parsing: try args.string(1), network: self.network)
            } catch {
                throw RPCError.notFound("Error: Invalid address (\(error))")
            }
            let maxTries = try args.optionalInt(2) ?? 1_000_000
            guard maxTries > 0 else { throw RPCError.invalidParameter("maxtries must be positive") }
            let hashes = try await self.generate(blocks: Int(count), payout: address.lockScript, maxTries: UInt64(maxTries))
            return .array(hashes.map { .string($0.hex) })
        })
    }

    /// Mines `count` blocks on the CPU paying `payout`, with pool transactions; stops early
    /// when `maxTries` nonces in all are spent. Returns the hashes of the blocks it connected.
    func generate(blocks count: Int, payout: [UInt8], maxTries: UInt64) async throws(RPCError) -> [Hash256] {
        let miner = Miner(searcher: SIMDPoWSearch(threads: 1))
        var mined = [Hash256]()
        var tried: UInt64 = 0
        while mined.count < count && tried < maxTries {
            let (template, _) = try await blockTemplate(payout: payout)
            let before = tried
            let solution: Miner.Solution?
            do {
                solution = try miner.solve(template, clock: { UInt64(Date().timeIntervalSince1970) },
                                           shouldStop: { tried >= maxTries }, report: { hashes, _ in tried = before + hashes })
            } catch {
                throw RPCError(RPCError.miscError, "nonce search failed: \(error)")
            }
            guard let solution else { break }
            tried = before + solution.hashesTried
            let result: ChainState.AcceptResult
            do {
                result = try chain.accept(solution.block)
            } catch {
                throw RPCError(RPCError.miscError, "generated block rejected: \(error)")
            }
            // Another block may have taken the tip meanwhile; then this one is not counted.
            if result == .connected { mined.append(solution.block.hash) }
        }
        return mined
    }

    /// Accepts a block from a miner; bitcoind's submitblock answers.
    func submit(_ block: Block, encodedSize: Int) throws(RPCError) -> JSON {
        do {
            switch try chain.accept(block, encodedSize: encodedSize) {
            case .connected: return .null
            case .duplicate: return "duplicate"
            case .sideBranch, .orphan: return "inconclusive"
            }
        } catch let error as ChainStateError {
            if case .rejected(let rejection, _, _) = error {
                return .string(rejection.rule == .blockKnownInvalid ? "duplicate-invalid" : rejection.rule.rawValue)
            }
            throw RPCError(RPCError.miscError, "block not stored: \(error)")
        } catch {
            throw RPCError(RPCError.miscError, "block not stored: \(error)")
        }
    }

    /// Least fee gain (base units) that refreshes a long-polled template, with at least 1% of its fees.
    static let templateRefreshMinimumFeeGain: UInt64 = 10_000
    /// Shortest time (seconds) a long poll waits before fees alone may refresh a template.
    static let templateRefreshFeeDelay: UInt64 = 10
    /// How often a long poll looks at the pool's fees again (nanoseconds).
    static let templateFeeCheckNanoseconds: UInt64 = 2_000_000_000

    /// `longpollid`: the template's previous block and the fees of its transactions, so a long
    /// poll can tell a new tip and enough new fee apart from every other pool change.
    func longPollID(previousHash: Hash256, fees: UInt64) -> String { "\(previousHash.hex)-\(fees)" }

    /// Whether a fresh selection paying `current` is worth a new template over one paying `previous`.
    static func feesWorthRefresh(previous: UInt64, current: UInt64) -> Bool {
        let gain = max(templateRefreshMinimumFeeGain, previous / 100)
        return current >= previous && current - previous >= gain
    }

    /// What a fresh template would about collect: every entry when the pool fits in a block,
    /// else the best fee rates that fit (packages aside; a trigger, not a template: the
    /// pool's own selection would mark its entries pending).
    static func estimatedBlockFees(_ entries: [MempoolEntry], capacity: Int) -> UInt64 {
        var remaining = capacity
        var fees: UInt64 = 0
        let bytes = entries.reduce(0) { $0 + $1.size }
        let ordered = bytes <= capacity ? entries : entries.sorted { $0.feeRate > $1.feeRate }
        for entry in ordered where entry.size <= remaining {
            remaining -= entry.size
            fees &+= entry.fee.baseUnits
        }
        return fees
    }

    /// BIP 22 long polling: returns once the tip moved from the template's previous block, or
    /// (no sooner than `templateRefreshFeeDelay` seconds) once the pool's best selection pays
    /// enough more than the template did, or after a minute. An id this node did not make
    /// waits for the tip alone.
    func waitForChange(from id: String) async {
        let parts = id.split(separator: "-")
        let previous = parts.first.flatMap { Hash256(hex: String($0)) }
        let templateFees = parts.count == 2 ? UInt64(parts[1]) : nil
        let started = DispatchTime.now().uptimeNanoseconds
        let deadline = started + 60_000_000_000
        var nextFeeCheck = started + Self.templateRefreshFeeDelay * 1_000_000_000
        var checkedSequence: UInt64?
        while DispatchTime.now().uptimeNanoseconds < deadline {
            if chain.snapshot.tipHash != previous { return }
            let now = DispatchTime.now().uptimeNanoseconds
            if let templateFees, now >= nextFeeCheck {
                nextFeeCheck = now + Self.templateFeeCheckNanoseconds
                // Only a changed pool can pay more; selection is not free on a large pool.
                let sequence = mempool.sequence
                if sequence != checkedSequence {
                    checkedSequence = sequence
                    let fees = Self.estimatedBlockFees(mempool.entries(), capacity: mempool.parametersInForce.maxBlockBytes - Self.coinbaseReserve)
                    if Self.feesWorthRefresh(previous: templateFees, current: fees) { return }
                }
            }
            try? await Task.sleep(nanoseconds: 250_000_000)
            if Task.isCancelled { return }
        }
    }

    func templateJSON(_ template: BlockTemplate, entries: [MempoolEntry], withCoinbase: Bool) -> JSON {
        var position = [Hash256: Int]()
        for (index, entry) in entries.enumerated() { position[entry.txid] = index + 1 }
        let transactions: [JSON] = entries.map { entry in
            .object([
                "data": .string(HexCoding.encode(entry.transaction.encoded)),
                "txid": .string(entry.txid.hex),
                "hash": .string(entry.wtxid.hex),
                "depends": .array(entry.depends.compactMap { position[$0] }.sorted().map { .int($0) }),
                "fee": .int(entry.fee.baseUnits),
                "size": .int(entry.size),
                "weight": .int(entry.size * 4),
            ])
        }
        let header = template.header
        let medianTimePast = chain.withWriter { state in state.node(header.previousHash).map { state.medianTimePast($0) } } ?? 0
        var result: JSONObject = [
            "version": .int(header.version),
            "rules": [],
            "previousblockhash": .string(header.previousHash.hex),
            "transactions": .array(transactions),
            "coinbasevalue": .int(template.transactions[0].outputs.reduce(0) { $0 + $1.value.baseUnits }),
            "longpollid": .string(longPollID(previousHash: header.previousHash, fees: entries.reduce(0) { $0 &+ $1.fee.baseUnits })),
            "target": .string(template.target.hex),
            "mintime": .int(medianTimePast + 1),
            "mutable": ["time", "transactions", "prevblock"],
            "noncerange": "0000000000000000ffffffffffffffff",
            "sizelimit": .int(mempool.parametersInForce.maxBlockBytes),
            "curtime": .int(header.time),
            "bits": .string(String(format: "%08x", header.bits)),
            "height": .int(header.height),
        ]
        if withCoinbase {
            let coinbase = template.transactions[0]
            result["coinbasetxn"] = .object([
                "data": .string(HexCoding.encode(coinbase.encoded)),
                "txid": .string(coinbase.txid.hex),
                "hash": .string(coinbase.wtxid.hex),
            ])
            result["merkleroot"] = .string(header.merkleRoot.hex)
            result["stateroot"] = .string(header.stateRoot.hex)
            result["extensionroot"] = .string(template.extensionRoot.hex)
            result["header"] = .string(HexCoding.encode(header.encoded))
        }
        return .object(result)
    }

    /// Hashes per second over the last `blocks` blocks: their work over the time they span.
    static func networkHashesPerSecond(_ snapshot: ChainSnapshot, blocks: UInt64, endHeight: UInt64? = nil) -> Double {
        let tipHeight = min(endHeight ?? snapshot.tipHeight, snapshot.tipHeight)
        let count = min(blocks, tipHeight)
        guard count > 0, let startHash = snapshot.hash(atHeight: tipHeight - count), let endHash = snapshot.hash(atHeight: tipHeight),
              let startWork = snapshot.chainWork(of: startHash), let endWork = snapshot.chainWork(of: endHash) else { return 0 }
        var earliest = UInt64.max, latest = UInt64.min
        for height in (tipHeight - count)...tipHeight {
            guard let hash = snapshot.hash(atHeight: height), let time = snapshot.header(hash)?.time else { continue }
            earliest = min(earliest, time)
            latest = max(latest, time)
        }
        guard latest > earliest else { return 0 }
        return (endWork.approximateDouble - startWork.approximateDouble) / Double(latest - earliest)
    }

}
