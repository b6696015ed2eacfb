import ChainGen
import ChainState
import Consensus
import Foundation
import JSONRPC
import Primitives
import Testing
import Wallet
@testable import Node

/// The blockchain and raw-transaction methods against a generated regtest chain whose
/// coinbases have matured, so later blocks hold spends (and fees).
@Suite("Blockchain RPC", .serialized)
struct BlockchainRPCTests {
    /// The blocks, and the UTXO set they leave (the generator's own account).
    /// (`next`: the block that would follow, not given to the node: its spends feed the mempool.)
    static let chain: (blocks: [Block], utxo: [OutPoint: Coin], digest: (count: Int, total: Amount, digest: Hash256), next: Block) = {
        var (blocks, generator) = RPCChains.blocks(104, seed: 41)
        let (utxo, digest) = (generator.utxo, generator.utxoDigest())
        return (blocks, utxo, digest, generator.nextBlock())
    }()
    static var blocks: [Block] { chain.blocks }

    func withNode(txindex: Bool = false, _ body: (RPCTestNode) async throws -> Void) async throws {
        let node = try RPCTestNode(blocks: Self.blocks, txindex: txindex)
        do { try await body(node) } catch { await node.shutdown(); throw error }
        await node.shutdown()
    }

    @Test("getblockcount, getbestblockhash, getblockhash and their bad parameters")
    func heightsAndHashes() async throws {
        try await withNode { node in
            #expect(try await node.result("getblockcount") == .int(104))
            #expect(try await node.result("getbestblockhash") == .string(Self.blocks.last!.hash.hex))
            #expect(try await node.result("getblockhash", [0]) == .string(RPCTestNode.regtest.genesisHash.hex))
            for height in [1, 50, 104] {
                #expect(try await node.result("getblockhash", [.int(height)]) == .string(Self.blocks[height - 1].hash.hex))
            }
            let outOfRange = try await node.error("getblockhash", [105])
            #expect(outOfRange?.code == -8 && outOfRange?.message == "Block height out of range")
            #expect(try await node.errorCode("getblockhash", [-1]) == -8)
            #expect(try await node.errorCode("getblockhash", ["1"]) == -3)
            #expect(try await node.errorCode("getblockhash", [1.5]) == -8)
            #expect(try await node.errorCode("getblockhash") == RPCError.invalidParamsCode)
            #expect(try await node.errorCode("getblockcount", [1]) == RPCError.invalidParamsCode)
        }
    }

    @Test("getblockheader: fields from the chain, hex form, not found and bad hashes")
    func blockHeader() async throws {
        try await withNode { node in
            let block = Self.blocks[9] // height 10
            let header = try await node.result("getblockheader", [.string(block.hash.hex)])
            #expect(header["hash"] == .string(block.hash.hex))
            #expect(header["height"] == 10)
            #expect(header["confirmations"] == 95)
            #expect(header["merkleroot"] == .string(block.header.merkleRoot.hex))
            #expect(header["stateroot"] == .string(block.header.stateRoot.hex))
            #expect(header["time"] == .int(block.header.time))
            #expect(header["nonce"] == .int(block.header.nonce))
            #expect(header["bits"] == .string(ChainJSON.hex32(block.header.bits)))
            #expect(header["versionHex"] == "00000001")
            #expect(header["nTx"] == .int(block.transactions.count))
            #expect(header["previousblockhash"] == .string(Self.blocks[8].hash.hex))
            #expect(header["nextblockhash"] == .string(Self.blocks[10].hash.hex))
            #expect(header["chainwork"] == .string(node.chain.snapshot.chainWork(of: block.hash)!.hex))
            #expect(header["chainwork"]?.stringValue?.count == 64)
            // Median of the times of blocks 0...10 (11 of them).
            let times = ([RPCTestNode.regtest.genesisTime] + Self.blocks[0...9].map(\.header.time)).sorted()
            #expect(header["mediantime"] == .int(times[5]))

            let tip = try await node.result("getblockheader", [.string(Self.blocks.last!.hash.hex), true])
            #expect(tip["confirmations"] == 1 && tip["nextblockhash"] == nil)
            let genesis = try await node.result("getblockheader", [.string(RPCTestNode.regtest.genesisHash.hex)])
            #expect(genesis["previousblockhash"] == nil && genesis["height"] == 0)

            #expect(try await node.result("getblockheader", [.string(block.hash.hex), false]) == .string(HexCoding.encode(block.header.encoded)))
            let missing = try await node.error("getblockheader", [.string(String(repeating: "ab", count: 32))])
            #expect(missing?.code == -5 && missing?.message == "Block not found")
            #expect(try await node.errorCode("getblockheader", ["abcd"]) == -8)
            #expect(try await node.errorCode("getblockheader", [.string(String(repeating: "zz", count: 32))]) == -8)
            #expect(try await node.errorCode("getblockheader", [.string(block.hash.hex), 1]) == -3)
        }
    }

    @Test("getblock at verbosity 0, 1, 2 and 3; fees from the undo data")
    func getBlock() async throws {
        try await withNode { node in
            // The last block spends matured coinbases: its transactions pay fees.
            let block = Self.blocks.last!
            #expect(block.transactions.count > 1)
            let hash = JSON.string(block.hash.hex)
            #expect(try await node.result("getblock", [hash, 0]) == .string(HexCoding.encode(block.encoded)))
            #expect(try await node.result("getblock", [hash, false]) == .string(HexCoding.encode(block.encoded)))

            let summary = try await node.result("getblock", [hash])
            #expect(summary["size"] == .int(block.encoded.count))
            #expect(summary["tx"] == .array(block.transactions.map { .string($0.txid.hex) }))
            #expect(summary["nTx"] == .int(block.transactions.count) && summary["height"] == 104)
            #expect(try await node.result("getblock", [hash, true]) == summary)

            let full = try await node.result("getblock", [hash, 2])
            let transactions = try #require(full["tx"]?.arrayValue)
            #expect(transactions.count == block.transactions.count)
            let coinbase = transactions[0]
            #expect(coinbase["txid"] == .string(block.transactions[0].txid.hex))
            #expect(coinbase["vin"]?.arrayValue?.first?["coinbase"] != nil && coinbase["fee"] == nil)
            var fees: UInt64 = 0
            for (json, transaction) in zip(transactions.dropFirst(), block.transactions.dropFirst()) {
                #expect(json["txid"] == .string(transaction.txid.hex))
                #expect(json["hash"] == .string(transaction.wtxid.hex))
                #expect(json["vin"]?.arrayValue?.count == transaction.inputs.count)
                #expect(json["vout"]?.arrayValue?.count == transaction.outputs.count)
                let fee = try #require(json["fee"]?.numberText.flatMap { JSONNumber.fixedPointUnits($0, scale: 8) })
                fees += UInt64(fee)
            }
            // The coinbase claims the subsidy plus every fee of its block.
            let claimed = block.transactions[0].outputs.reduce(0) { $0 + $1.value.baseUnits }
            #expect(claimed == RPCTestNode.regtest.subsidy(height: 104).baseUnits + fees)

            let withPrevouts = try await node.result("getblock", [hash, 3])
            let input = withPrevouts["tx"]?.arrayValue?[1]["vin"]?.arrayValue?[0]
            #expect(input?["prevout"]?["value"] != nil && input?["prevout"]?["scriptPubKey"]?["hex"] != nil)

            #expect(try await node.errorCode("getblock", [hash, 4]) == -8)
            #expect(try await node.errorCode("getblock", [hash, "1"]) == -3)
            let missing = try await node.error("getblock", [.string(String(repeating: "00", count: 32))])
            #expect(missing?.code == -5 && missing?.message == "Block not found")
        }
    }

    @Test("getblock on a header whose block is not stored: Block not available")
    func headerOnly() async throws {
        try await withNode { node in
            let (others, _) = RPCChains.blocks(1, seed: 77)
            try node.chain.acceptHeader(others[0].header)
            let error = try await node.error("getblock", [.string(others[0].hash.hex)])
            #expect(error?.code == -1 && error?.message == "Block not available")
            let header = try await node.result("getblockheader", [.string(others[0].hash.hex)])
            #expect(header["confirmations"] == -1 && header["nTx"] == nil && header["nextblockhash"] == nil)
        }
    }

    @Test("getblockchaininfo and getdifficulty describe the chain")
    func blockchainInfo() async throws {
        try await withNode { node in
            let info = try await node.result("getblockchaininfo")
            let snapshot = node.chain.snapshot
            #expect(info["chain"] == "regtest")
            #expect(info["blocks"] == 104 && info["headers"] == 104)
            #expect(info["bestblockhash"] == .string(snapshot.tipHash.hex))
            #expect(info["bits"] == .string(ChainJSON.hex32(snapshot.tipHeader.bits)))
            #expect(info["target"] == .string(try snapshot.tipHeader.compactTarget.target().hex))
            #expect(info["chainwork"] == .string(snapshot.tipChainWork.hex))
            #expect(info["time"] == .int(Self.blocks.last!.header.time))
            #expect(info["pruned"] == false && info["verificationprogress"] == 1)
            #expect((info["size_on_disk"]?.int64Value ?? 0) > Int64(Self.blocks.reduce(0) { $0 + $1.encoded.count }))
            let difficulty = try #require(try await node.result("getdifficulty").doubleValue)
            #expect(info["difficulty"]?.doubleValue == difficulty)
            #expect(difficulty == ChainJSON.difficulty(bits: snapshot.tipHeader.bits, powLimit: RPCTestNode.regtest.powLimit))
            #expect(ChainJSON.difficulty(bits: RPCTestNode.regtest.powLimitBits, powLimit: RPCTestNode.regtest.powLimit) == 1)
        }
    }

    @Test("gettxout: unspent coins, spent and missing outputs, bad parameters")
    func transactionOutputs() async throws {
        try await withNode { node in
            let utxo = Self.chain.utxo
            // The oldest coin left (a spend's output or an unspent coinbase).
            let (outpoint, coin) = try #require(utxo.min { ($0.value.height, $0.key.txid.hex, $0.key.index) < ($1.value.height, $1.key.txid.hex, $1.key.index) })
            let result = try await node.result("gettxout", [.string(outpoint.txid.hex), .int(outpoint.index)])
            #expect(result["bestblock"] == .string(Self.blocks.last!.hash.hex))
            #expect(result["confirmations"] == .int(104 - coin.height + 1))
            #expect(result["value"] == .decimal(coin.output.value.baseUnits))
            #expect(result["coinbase"] == .bool(coin.isCoinbase))
            #expect(result["scriptPubKey"]?["hex"] == .string(HexCoding.encode(coin.output.lockScript)))
            #expect(result["scriptPubKey"]?["type"] == .string(ChainJSON.scriptType(coin.output.lockScript)))
            #expect(try await node.result("gettxout", [.string(outpoint.txid.hex), .int(outpoint.index), false]) == result)

            // Block 1's coinbase was spent once it matured.
            let spent = Self.blocks[0].transactions[0].txid
            #expect(utxo[OutPoint(txid: spent, index: 0)] == nil)
            #expect(try await node.result("gettxout", [.string(spent.hex), 0]) == .null)
            #expect(try await node.result("gettxout", [.string(outpoint.txid.hex), 4_000_000]) == .null)
            #expect(try await node.errorCode("gettxout", [.string(outpoint.txid.hex), -1]) == -8)
            #expect(try await node.errorCode("gettxout", [.string(outpoint.txid.hex), 4_294_967_296]) == -8)
            #expect(try await node.errorCode("gettxout", ["00", 0]) == -8)
            #expect(try await node.errorCode("gettxout", [.string(outpoint.txid.hex)]) == RPCError.invalidParamsCode)
        }
    }

    @Test("gettxoutsetinfo matches the generator's UTXO set")
    func transactionOutputSet() async throws {
        try await withNode { node in
            let info = try await node.result("gettxoutsetinfo")
            let expected = Self.chain.digest
            #expect(info["height"] == 104 && info["bestblock"] == .string(Self.blocks.last!.hash.hex))
            #expect(info["txouts"] == .int(expected.count))
            #expect(info["total_amount"] == .decimal(expected.total.baseUnits))
            #expect(info["utxo_digest"] == .string(expected.digest.hex) && info["hash_serialized"] == .string(expected.digest.hex))
        }
    }

    @Test("getrawtransaction with a block hash, and the errors without one")
    func rawTransaction() async throws {
        try await withNode { node in
            let block = Self.blocks.last!
            let transaction = block.transactions[1]
            let txid = JSON.string(transaction.txid.hex), hash = JSON.string(block.hash.hex)
            #expect(try await node.result("getrawtransaction", [txid, 0, hash]) == .string(HexCoding.encode(transaction.encoded)))
            #expect(try await node.result("getrawtransaction", [txid, false, hash]) == .string(HexCoding.encode(transaction.encoded)))
            let verbose = try await node.result("getrawtransaction", [txid, true, hash])
            #expect(verbose["txid"] == txid && verbose["hash"] == .string(transaction.wtxid.hex))
            #expect(verbose["hex"] == .string(HexCoding.encode(transaction.encoded)))
            #expect(verbose["size"] == .int(transaction.encoded.count) && verbose["locktime"] == .int(transaction.lockTime))
            #expect(verbose["vsize"] == verbose["size"] && verbose["weight"] == .int(4 * transaction.encoded.count))
            #expect(verbose["blockhash"] == hash && verbose["confirmations"] == 1 && verbose["in_active_chain"] == true)
            #expect(verbose["blocktime"] == .int(block.header.time) && verbose["fee"] == nil)
            let outputs = try #require(verbose["vout"]?.arrayValue)
            for (index, output) in transaction.outputs.enumerated() {
                #expect(outputs[index]["value"] == .decimal(output.value.baseUnits) && outputs[index]["n"] == .int(index))
            }
            let input = try #require(verbose["vin"]?.arrayValue?.first)
            #expect(input["txid"] == .string(transaction.inputs[0].previousOutput.txid.hex))
            #expect(input["vout"] == .int(transaction.inputs[0].previousOutput.index))
            #expect(input["txinwitness"]?.arrayValue?.count == transaction.witnesses[0].count)
            let withFee = try await node.result("getrawtransaction", [txid, 2, hash])
            #expect(withFee["fee"] != nil)

            let noIndex = try await node.error("getrawtransaction", [txid])
            #expect(noIndex?.code == -5 && noIndex?.message.hasPrefix("No such mempool transaction. Use -txindex or provide a block hash") == true)
            let wrongBlock = try await node.error("getrawtransaction", [txid, 1, .string(Self.blocks[0].hash.hex)])
            #expect(wrongBlock?.code == -5 && wrongBlock?.message.hasPrefix("No such transaction found in the provided block.") == true)
            #expect(try await node.errorCode("getrawtransaction", [txid, 1, .string(String(repeating: "11", count: 32))]) == -5)
            #expect(try await node.errorCode("getrawtransaction", [txid, 3, hash]) == -8)
            #expect(try await node.errorCode("getrawtransaction", ["xyz"]) == -8)
        }
    }

    @Test("the mempool: getrawtransaction finds pool transactions; gettxout sees pool spends and outputs")
    func mempoolViews() async throws {
        try await withNode { node in
            // The first of the next block's spends that the pool takes (its parents are all in the chain).
            let spends = Self.chain.next.transactions.dropFirst()
            let pooled = try #require(spends.first { transaction in
                if case .accepted = node.mempool.submit(transaction, source: "test") { return true }
                return false
            })
            let txid = JSON.string(pooled.txid.hex)
            #expect(try await node.result("getrawtransaction", [txid]) == .string(HexCoding.encode(pooled.encoded)))
            let verbose = try await node.result("getrawtransaction", [txid, 2])
            #expect(verbose["txid"] == txid && verbose["blockhash"] == nil && verbose["confirmations"] == nil)
            let entry = try #require(node.mempool.entry(txid: pooled.txid))
            #expect(verbose["fee"] == .decimal(entry.fee.baseUnits))

            let output = try await node.result("gettxout", [txid, 0])
            #expect(output["confirmations"] == 0 && output["value"] == .decimal(pooled.outputs[0].value.baseUnits))
            #expect(output["coinbase"] == false)
            #expect(try await node.result("gettxout", [txid, 0, false]) == .null)

            let spent = pooled.inputs[0].previousOutput
            let spentArguments: [JSON] = [.string(spent.txid.hex), .int(spent.index)]
            #expect(try await node.result("gettxout", spentArguments) == .null)
            let inChain = try await node.result("gettxout", spentArguments + [false])
            #expect(inChain["value"] == .decimal(Self.chain.utxo[spent]!.output.value.baseUnits))
            #expect((inChain["confirmations"]?.int64Value ?? 0) > 0)
        }
    }

    @Test("getrawtransaction through the transaction index")
    func transactionIndex() async throws {
        try await withNode(txindex: true) { node in
            let index = try #require(node.txIndex)
            index.start()
            #expect(try await eventually { index.status.synced && index.status.bestHeight == 104 })
            let block = Self.blocks[49]
            let transaction = block.transactions.last!
            let verbose = try await node.result("getrawtransaction", [.string(transaction.txid.hex), true])
            #expect(verbose["blockhash"] == .string(block.hash.hex) && verbose["confirmations"] == .int(104 - 50 + 1))
            #expect(verbose["hex"] == .string(HexCoding.encode(transaction.encoded)) && verbose["in_active_chain"] == nil)
            let unknown = try await node.error("getrawtransaction", [.string(String(repeating: "42", count: 32))])
            #expect(unknown?.code == -5 && unknown?.message.hasPrefix("No such mempool or blockchain transaction") == true)
        }
    }

    @Test("addresses of pay-to-key-hash outputs")
    func addresses() async throws {
        try await withNode { node in
            let coinbase = Self.blocks.last!.transactions[0]
            let decoded = try await node.result("decoderawtransaction", [.string(HexCoding.encode(coinbase.encoded))])
            let script = coinbase.outputs[0].lockScript
            let expected = Address.from(lockScript: script, network: "regtest")?.text
            #expect(expected != nil)
            #expect(decoded["vout"]?.arrayValue?[0]["scriptPubKey"]?["address"] == expected.map { .string($0) })
            #expect(decoded["vout"]?.arrayValue?[0]["scriptPubKey"]?["type"] == "pubkeyhash")
        }
    }

    @Test("decoderawtransaction decodes what the chain holds and refuses bad bytes")
    func decodeRawTransaction() async throws {
        try await withNode { node in
            let transaction = Self.blocks.last!.transactions[1]
            let decoded = try await node.result("decoderawtransaction", [.string(HexCoding.encode(transaction.encoded))])
            #expect(decoded["txid"] == .string(transaction.txid.hex) && decoded["version"] == .int(transaction.version))
            #expect(decoded["vout"]?.arrayValue?.count == transaction.outputs.count)
            let coinbase = try await node.result("decoderawtransaction", [.string(HexCoding.encode(Self.blocks[0].transactions[0].encoded))])
            #expect(coinbase["vin"]?.arrayValue?.first?["coinbase"] != nil && coinbase["vin"]?.arrayValue?.first?["txid"] == nil)

            #expect(try await node.errorCode("decoderawtransaction", ["zz"]) == -22)
            #expect(try await node.errorCode("decoderawtransaction", ["abc"]) == -22)
            let truncated = try await node.error("decoderawtransaction", [.string(HexCoding.encode(transaction.encoded.dropLast()))])
            #expect(truncated?.code == -22 && truncated?.message.hasPrefix("TX decode failed") == true)
            #expect(try await node.errorCode("decoderawtransaction", [.string(HexCoding.encode(transaction.encoded + [0]))]) == -22)
            #expect(try await node.errorCode("decoderawtransaction", [12]) == -3)
        }
    }

    @Test("script types of the standard templates")
    func scriptTypes() {
        let key = [UInt8](repeating: 3, count: 32)
        #expect(ChainJSON.scriptType(StandardScript.payToKeyHash(StandardScript.keyHash(key))) == "pubkeyhash")
        #expect(ChainJSON.scriptType(StandardScript.multisig(required: 2, of: [key, key, key])) == "multisig")
        #expect(ChainJSON.scriptType(StandardScript.multisig(required: 17, of: Array(repeating: key, count: 20))) == "multisig")
        #expect(ChainJSON.scriptType(StandardScript.hashTimeLock(hashLock: StandardScript.keyHash(key), recipient: key, refund: key,
                                                                  refundAfter: 500)) == "htlc")
        #expect(ChainJSON.scriptType(Script.nullData([1, 2, 3])) == "nulldata")
        #expect(ChainJSON.scriptType([]) == "nonstandard")
        #expect(ChainJSON.scriptType([0x4C]) == "nonstandard") // truncated push
        #expect(ChainJSON.scriptType([Opcode.checkSig.rawValue]) == "nonstandard")
        #expect(ChainJSON.assembly(StandardScript.payToKeyHash(.zero))
                == "OP_DUP OP_BLAKE3 \(Hash256.zero.hex) OP_EQUALVERIFY OP_CHECKSIG")
        #expect(ChainJSON.assembly([0x05, 1, 2]) == "[error]")
    }
}

/// getchaintips over a tree with every kind of tip.
@Suite("Chain tips RPC")
struct ChainTipsRPCTests {
    @Test("active, valid-fork, valid-headers, headers-only")
    func tips() async throws {
        let (first, _) = RPCChains.blocks(2, seed: 501)   // connected, then reorganised away
        let (second, _) = RPCChains.blocks(3, seed: 502)  // the active chain
        let (third, _) = RPCChains.blocks(1, seed: 503)   // stored, never connected
        let (fourth, _) = RPCChains.blocks(1, seed: 504)  // a header alone
        let node = try RPCTestNode(blocks: first + second + third)
        do { try node.chain.acceptHeader(fourth[0].header) } catch { await node.shutdown(); throw error }
        #expect(node.chain.snapshot.tipHash == second[2].hash)

        let tips = try #require(try await node.result("getchaintips").arrayValue)
        #expect(tips.count == 4)
        func tip(_ hash: Hash256) -> JSON? { tips.first { $0["hash"] == JSON.string(hash.hex) } }
        #expect(tips.first == ["height": 3, "hash": .string(second[2].hash.hex), "branchlen": 0, "status": "active"])
        #expect(tip(first[1].hash) == ["height": 2, "hash": .string(first[1].hash.hex), "branchlen": 2, "status": "valid-fork"])
        #expect(tip(third[0].hash) == ["height": 1, "hash": .string(third[0].hash.hex), "branchlen": 1, "status": "valid-headers"])
        #expect(tip(fourth[0].hash) == ["height": 1, "hash": .string(fourth[0].hash.hex), "branchlen": 1, "status": "headers-only"])
        await node.shutdown()
    }
}
