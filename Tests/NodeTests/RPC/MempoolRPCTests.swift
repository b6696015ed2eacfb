import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import JSONRPC
import Mempool
import Primitives
import Testing
import Wallet
@testable import Node

/// A regtest chain of 105 blocks whose coinbases all pay one known key, so tests sign spends.
enum SignedChain {
    static let parameters = RPCTestNode.regtest
    static let key = Ed25519.SigningKey(seed: [UInt8](repeating: 3, count: 32))
    static let lockScript = StandardScript.payToKeyHash(StandardScript.keyHash(key.publicKey))
    static let address = Address(keyHash: StandardScript.keyHash(key.publicKey), network: "regtest").text
    static let height = 105
    static let subsidy = parameters.subsidy(height: 1).baseUnits

    static let blocks: [Block] = {
        var parent = parameters.chain.genesisBlock().header
        var blocks = [Block]()
        for height in 1...UInt64(SignedChain.height) {
            let coinbase = Transaction.coinbase(height: height, extraNonce: 0,
                                                outputs: [TxOut(value: parameters.subsidy(height: height), lockScript: lockScript)])
            var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: parent.hash, merkleRoot: .zero,
                                                  stateRoot: .zero, time: parent.time + 150,
                                                  bits: parameters.requiredBits(parentHeight: parent.height, parentTime: parent.time), nonce: 0),
                              transactions: [coinbase])
            ChainGenerator.seal(&block)
            parent = block.header
            blocks.append(block)
        }
        return blocks
    }()

    /// The coinbase output of block `height` (mature for heights up to 6 on top of 105).
    static func coinbase(_ height: Int) -> (OutPoint, TxOut) {
        let transaction = blocks[height - 1].transactions[0]
        return (OutPoint(txid: transaction.txid, index: 0), transaction.outputs[0])
    }

    static func output(_ transaction: Transaction, _ index: Int) -> (OutPoint, TxOut) {
        (OutPoint(txid: transaction.txid, index: UInt32(index)), transaction.outputs[index])
    }

    static func pay(_ value: UInt64) -> TxOut { TxOut(value: Amount(baseUnits: value)!, lockScript: lockScript) }

    /// `coins` (all paying `key`) spent to `values` paid back to the key, signed.
    static func spend(_ coins: [(OutPoint, TxOut)], to values: [UInt64]) -> Transaction {
        var transaction = Transaction(version: 1, inputs: coins.map { TxIn(previousOutput: $0.0) }, outputs: values.map(pay))
        let txid = transaction.txid
        transaction.witnesses = coins.indices.map { index in
            let sighash = ScriptContext(transaction: transaction, txid: txid, inputIndex: index, spentOutput: coins[index].1).sighash
            return [key.sign(message: sighash.bytes), key.publicKey]
        }
        return transaction
    }

    static func hex(_ transaction: Transaction) -> JSON { .string(HexCoding.encode(transaction.encoded)) }
}

@Suite("Mempool RPC", .serialized)
struct MempoolRPCTests {
    func withNode(txindex: Bool = false, _ body: (RPCTestNode) async throws -> Void) async throws {
        let node = try RPCTestNode(blocks: SignedChain.blocks, txindex: txindex)
        node.mempool.start()
        do { try await body(node) } catch { node.mempool.stop(); await node.shutdown(); throw error }
        node.mempool.stop()
        await node.shutdown()
    }

    /// A parent spending coinbase 1 (fee 10,000) and a child spending its first output (fee 20,000).
    static let parent = SignedChain.spend([SignedChain.coinbase(1)], to: [2_000_000_000, SignedChain.subsidy - 2_000_000_000 - 10_000])
    static let child = SignedChain.spend([SignedChain.output(parent, 0)], to: [2_000_000_000 - 20_000])

    @Test("sendrawtransaction, getrawmempool, getmempoolentry, ancestors and descendants, getmempoolinfo")
    func poolViews() async throws {
        try await withNode { node in
            let (parent, child) = (Self.parent, Self.child)
            #expect(try await node.result("sendrawtransaction", [SignedChain.hex(parent)]) == .string(parent.txid.hex))
            #expect(try await node.result("sendrawtransaction", [SignedChain.hex(child)]) == .string(child.txid.hex))
            // Again: already in the pool is not an error (bitcoind's habit).
            #expect(try await node.result("sendrawtransaction", [SignedChain.hex(child)]) == .string(child.txid.hex))
            #expect(try await node.result("getrawmempool") == .array([.string(parent.txid.hex), .string(child.txid.hex)]))
            let sequenced = try await node.result("getrawmempool", [false, true])
            #expect(sequenced["txids"] == .array([.string(parent.txid.hex), .string(child.txid.hex)]))
            #expect(sequenced["mempool_sequence"] == .int(node.mempool.sequence))
            #expect(try await node.errorCode("getrawmempool", [true, true]) == -8)

            let (parentSize, childSize) = (parent.encoded.count, child.encoded.count)
            let verbose = try await node.result("getrawmempool", [true])
            let entry = try #require(verbose[child.txid.hex])
            #expect(try await node.result("getmempoolentry", [.string(child.txid.hex)]) == entry)
            #expect(entry["vsize"] == .int(childSize) && entry["weight"] == .int(4 * childSize))
            #expect(entry["height"] == .int(SignedChain.height) && entry["wtxid"] == .string(child.wtxid.hex))
            #expect(entry["ancestorcount"] == 2 && entry["ancestorsize"] == .int(parentSize + childSize))
            #expect(entry["descendantcount"] == 1 && entry["descendantsize"] == .int(childSize))
            #expect(entry["fees"]?["base"] == .decimal(20_000) && entry["fees"]?["modified"] == .decimal(20_000))
            #expect(entry["fees"]?["ancestor"] == .decimal(30_000) && entry["fees"]?["descendant"] == .decimal(20_000))
            #expect(entry["depends"] == .array([.string(parent.txid.hex)]) && entry["spentby"] == .array([]))
            #expect(entry["bip125-replaceable"] == true && entry["unbroadcast"] == false)
            let parentEntry = try #require(verbose[parent.txid.hex])
            #expect(parentEntry["spentby"] == .array([.string(child.txid.hex)]) && parentEntry["descendantcount"] == 2)
            #expect(parentEntry["fees"]?["descendant"] == .decimal(30_000) && parentEntry["depends"] == .array([]))

            #expect(try await node.result("getmempoolancestors", [.string(child.txid.hex)]) == .array([.string(parent.txid.hex)]))
            #expect(try await node.result("getmempoolancestors", [.string(child.txid.hex), true])[parent.txid.hex] == parentEntry)
            #expect(try await node.result("getmempooldescendants", [.string(parent.txid.hex)]) == .array([.string(child.txid.hex)]))
            #expect(try await node.result("getmempooldescendants", [.string(child.txid.hex)]) == .array([]))

            let policy = node.mempool.policy
            let info = try await node.result("getmempoolinfo")
            #expect(info["loaded"] == true && info["size"] == 2 && info["bytes"] == .int(parentSize + childSize))
            #expect((info["usage"]?.int64Value ?? 0) > Int64(parentSize + childSize))
            #expect(info["total_fee"] == .decimal(30_000) && info["maxmempool"] == .int(policy.maxPoolBytes))
            #expect(info["minrelaytxfee"] == .decimal(policy.minRelayFeeRate))
            #expect(info["incrementalrelayfee"] == .decimal(policy.incrementalRelayFeeRate))
            #expect(info["mempoolminfee"] == .decimal(max(policy.minRelayFeeRate, node.mempool.minimumFeeRate)))
            #expect(info["fullrbf"] == true && info["unbroadcastcount"] == 0)

            // savemempool writes what a fresh pool loads back.
            let saved = try await node.result("savemempool")
            let path = try #require(saved["filename"]?.stringValue)
            #expect(path == node.directory + "/mempool.dat")
            let fresh = Mempool(chain: node.chain, parameters: RPCTestNode.regtest)
            let report = try fresh.load(from: path)
            #expect(fresh.entries().map(\.txid) == [parent.txid, child.txid], "\(report)")

            let unknown = String(repeating: "ab", count: 32)
            #expect(try await node.errorCode("getmempoolentry", [.string(unknown)]) == -5)
            #expect(try await node.errorCode("getmempoolancestors", [.string(unknown)]) == -5)
            #expect(try await node.errorCode("getmempoolentry", ["xyz"]) == -8)
        }
    }

    @Test("malformed transactions are -22 with the decoder's reason; refusals carry the rule")
    func malformed() async throws {
        try await withNode { node in
            let bytes = Self.parent.encoded
            let cases: [(String, String)] = [
                ("not hex", "zz"), ("odd length", "abc"), ("empty", ""),
                ("truncated", HexCoding.encode(Array(bytes.dropLast(3)))),
                ("trailing bytes", HexCoding.encode(bytes + [0])),
            ]
            for (what, text) in cases {
                let error = try await node.error("sendrawtransaction", [.string(text)])
                #expect(error?.code == -22, "\(what): \(String(describing: error))")
                #expect(try await node.errorCode("testmempoolaccept", [[.string(text)]]) == -22, "\(what)")
                #expect(try await node.errorCode("decoderawtransaction", [.string(text)]) == -22, "\(what)")
            }
            let trailing = try await node.error("sendrawtransaction", [.string(HexCoding.encode(bytes + [0]))])
            #expect(trailing?.message.contains("trailing") == true)
            // A bad signature: the consensus rule, -26.
            var forged = Self.parent
            forged.witnesses[0][0][0] ^= 1
            let refused = try await node.error("sendrawtransaction", [SignedChain.hex(forged)])
            #expect(refused?.code == -26)
            // Spending a coin nobody has: -25 missing inputs.
            let orphan = SignedChain.spend([(OutPoint(txid: Hash256(bytes: [UInt8](repeating: 5, count: 32))!, index: 0), SignedChain.pay(10_000))],
                                           to: [5_000])
            #expect(try await node.errorCode("sendrawtransaction", [SignedChain.hex(orphan)]) == -25)
            // Outputs already in the chain: -27.
            let confirmed = SignedChain.blocks[0].transactions[0]
            #expect(try await node.errorCode("sendrawtransaction", [SignedChain.hex(confirmed)]) != nil)
            // maxfeerate: 0.00001 coins per kvB is below this fee rate.
            let capped = try await node.error("sendrawtransaction", [SignedChain.hex(Self.parent), "0.00001"])
            #expect(capped?.code == -25 && capped?.message.hasPrefix("Fee exceeds maximum") == true)
            #expect(try await node.result("getrawmempool") == .array([]))
            #expect(try await node.errorCode("sendrawtransaction") == RPCError.invalidParamsCode)
            #expect(try await node.errorCode("sendrawtransaction", [1]) == -3)
        }
    }

    @Test("testmempoolaccept: fees and effective fee rate, adds nothing, package rules, bounds")
    func testAccept() async throws {
        try await withNode { node in
            let (parent, child) = (Self.parent, Self.child)
            let single = try #require(try await node.result("testmempoolaccept", [[SignedChain.hex(parent)]]).arrayValue)
            #expect(single.count == 1)
            let result = single[0]
            #expect(result["txid"] == .string(parent.txid.hex) && result["wtxid"] == .string(parent.wtxid.hex))
            #expect(result["allowed"] == true && result["vsize"] == .int(parent.encoded.count))
            #expect(result["fees"]?["base"] == .decimal(10_000))
            #expect(result["fees"]?["effective-feerate"] == .decimal(MempoolPolicy.feeRate(fee: 10_000, bytes: parent.encoded.count)))
            #expect(result["fees"]?["effective-includes"] == .array([.string(parent.wtxid.hex)]))
            #expect(try await node.result("getrawmempool") == .array([]))
            let capped = try await node.result("testmempoolaccept", [[SignedChain.hex(parent)], "0.00001"])
            #expect(capped.arrayValue?.first?["allowed"] == false && capped.arrayValue?.first?["reject-reason"] == "max-fee-exceeded")

            // A package: the child of an earlier package transaction is not judged alone.
            let package = try #require(try await node.result("testmempoolaccept", [[SignedChain.hex(parent), SignedChain.hex(child)]]).arrayValue)
            #expect(package.count == 2 && package[0]["allowed"] == true)
            #expect(package[1]["txid"] == .string(child.txid.hex) && package[1]["allowed"] == nil)
            let conflicting = SignedChain.spend([SignedChain.coinbase(1)], to: [SignedChain.subsidy - 50_000])
            let malformedPackages: [([Transaction], String)] = [
                ([child, parent], "package-not-sorted"),
                ([parent, parent], "package-contains-duplicates"),
                ([parent, conflicting], "conflict-in-package"),
            ]
            for (transactions, reason) in malformedPackages {
                let results = try #require(try await node.result("testmempoolaccept", [.array(transactions.map(SignedChain.hex))]).arrayValue)
                #expect(results.count == transactions.count && results.allSatisfy { $0["package-error"] == .string(reason) && $0["allowed"] == nil },
                        "\(reason)")
            }
            // A refusal names its rule.
            var forged = parent
            forged.witnesses[0][0][0] ^= 1
            let refused = try await node.result("testmempoolaccept", [[SignedChain.hex(forged)]])
            #expect(refused.arrayValue?.first?["allowed"] == false && refused.arrayValue?.first?["reject-reason"]?.stringValue?.isEmpty == false)

            #expect(try await node.errorCode("testmempoolaccept", [[]]) == -8)
            #expect(try await node.errorCode("testmempoolaccept", [.array(Array(repeating: SignedChain.hex(parent), count: 26))]) == -8)
            #expect(try await node.errorCode("testmempoolaccept", ["notanarray"]) == -3)
            #expect(try await node.errorCode("testmempoolaccept", [[1]]) == -22)
        }
    }

    /// Waits until the pool applied the chain's tip.
    static func synced(_ node: RPCTestNode) async -> Bool {
        await eventually { node.mempool.tip == node.chain.snapshot.tipHash }
    }

    @Test("gettxstatus: mempool, included, confirmed, finalized; rejected with its rule; unknown is -5")
    func lifecycle() async throws {
        try await withNode { node in
            let parent = Self.parent
            let txid = JSON.string(parent.txid.hex)
            #expect(try await node.errorCode("gettxstatus", [txid]) == -5)
            _ = try await node.result("sendrawtransaction", [SignedChain.hex(parent)])
            let pooled = try await node.result("gettxstatus", [txid])
            #expect(pooled["txid"] == txid && pooled["state"] == "mempool" && pooled["time"] != nil)
            #expect(pooled["history"]?.arrayValue?.last?["state"] == "mempool")
            #expect(pooled["confirmations"] == nil && pooled["blockhash"] == nil)
            // In the template handed out: pending.
            _ = try await node.result("getblocktemplate")
            let pending = try await node.result("gettxstatus", [txid])
            #expect(pending["state"] == "pending" && pending["history"]?.arrayValue?.last?["state"] == "pending")

            let hashes = try await node.result("generatetoaddress", [1, .string(SignedChain.address)])
            let blockHash = try #require(hashes.arrayValue?.first)
            #expect(await Self.synced(node))
            let included = try await node.result("gettxstatus", [txid])
            #expect(included["state"] == "included" && included["confirmations"] == 1)
            #expect(included["blockhash"] == blockHash && included["blockheight"] == .int(SignedChain.height + 1))
            #expect(included["history"]?.arrayValue?.contains { $0["state"] == "included" && $0["blockhash"] == blockHash } == true)

            _ = try await node.result("generatetoaddress", [1, .string(SignedChain.address)])
            #expect(await Self.synced(node))
            let confirmed = try await node.result("gettxstatus", [txid])
            #expect(confirmed["state"] == "confirmed" && confirmed["confirmations"] == 2 && confirmed["blockhash"] == blockHash)
            _ = try await node.result("generatetoaddress", [4, .string(SignedChain.address)])
            #expect(await Self.synced(node))
            let finalized = try await node.result("gettxstatus", [txid])
            #expect(finalized["state"] == "finalized" && finalized["confirmations"] == .int(node.mempool.finalityDepth))

            // Two spends of one coin at the same fee: the second is refused for paying too
            // little to replace the first, and ends replaced by it (as where the two came the
            // other way round).
            let first = SignedChain.spend([SignedChain.coinbase(2)], to: [SignedChain.subsidy - 10_000])
            let second = SignedChain.spend([SignedChain.coinbase(2)], to: [1_000_000, SignedChain.subsidy - 1_010_000])
            _ = try await node.result("sendrawtransaction", [SignedChain.hex(first)])
            #expect(try await node.errorCode("sendrawtransaction", [SignedChain.hex(second)]) == -26)
            let outbid = try await node.result("gettxstatus", [.string(second.txid.hex)])
            #expect(outbid["state"] == "replaced" && outbid["replaced_by"] == .string(first.txid.hex))
            #expect(outbid["history"]?.arrayValue?.last?["replaced_by"] == .string(first.txid.hex))
            // Paying out more than it spends: rejected, with the rule.
            let overspend = SignedChain.spend([SignedChain.coinbase(3)], to: [SignedChain.subsidy + 1])
            #expect(try await node.errorCode("sendrawtransaction", [SignedChain.hex(overspend)]) == -26)
            let rejected = try await node.result("gettxstatus", [.string(overspend.txid.hex)])
            #expect(rejected["state"] == "rejected")
            #expect(rejected["reject-reason"]?.stringValue?.isEmpty == false)
            #expect(rejected["history"]?.arrayValue?.last?["reason"] == rejected["reject-reason"])
            #expect(try await node.errorCode("gettxstatus", ["00"]) == -8)
        }
    }

    @Test("gettxstatus falls back to the transaction index for transactions the pool never saw")
    func lifecycleFromTheIndex() async throws {
        try await withNode(txindex: true) { node in
            let index = try #require(node.txIndex)
            index.start()
            #expect(try await eventually { index.status.synced && index.status.bestHeight == UInt64(SignedChain.height) })
            let old = SignedChain.blocks[9].transactions[0]
            let status = try await node.result("gettxstatus", [.string(old.txid.hex)])
            #expect(status["state"] == "finalized" && status["confirmations"] == .int(SignedChain.height - 10 + 1))
            #expect(status["blockhash"] == .string(SignedChain.blocks[9].hash.hex) && status["blockheight"] == 10)
            #expect(status["history"] == .array([]))
            let tip = SignedChain.blocks.last!.transactions[0]
            #expect(try await node.result("gettxstatus", [.string(tip.txid.hex)])["state"] == "included")
        }
    }

    @Test("setmocktime sets the node's clock; 0 returns to the system clock; bad values refused")
    func mockTime() async throws {
        try await withNode { (node: RPCTestNode) async throws in
            #expect(try await node.result("setmocktime", [1_900_000_000]) == .null)
            let clock: NodeClock = node.context.clock
            #expect(clock.now == 1_900_000_000)
            #expect(try await node.errorCode("setmocktime", [-1]) == -8)
            #expect(try await node.errorCode("setmocktime", ["soon"]) == -3)
            #expect(try await node.errorCode("setmocktime") == RPCError.invalidParamsCode)
            #expect(try await node.result("setmocktime", [0]) == .null)
            #expect(clock.mockTime == nil)
        }
    }

    @Test("estimatesmartfee: bounds and modes checked; without data bitcoind's error shape")
    func estimateSmartFee() async throws {
        try await withNode { node in
            for target in [1, 6, 1_008] {
                let answer = try await node.result("estimatesmartfee", [.int(target)])
                if let estimate = node.mempool.feeEstimator.estimate(targetBlocks: target, conservative: true) {
                    #expect(answer["feerate"] == .decimal(max(estimate.feeRate, node.mempool.policy.minRelayFeeRate)))
                    #expect(answer["blocks"] == .int(estimate.blocks))
                } else {
                    #expect(answer == ["errors": ["Insufficient data or no feerate found"], "blocks": 0])
                }
            }
            #expect(try await node.errorCode("estimatesmartfee", [0]) == -8)
            #expect(try await node.errorCode("estimatesmartfee", [1_009]) == -8)
            #expect(try await node.errorCode("estimatesmartfee", [2, "fast"]) == -8)
            #expect(try await node.errorCode("estimatesmartfee", [2, "ECONOMICAL"]) == nil)
            #expect(try await node.errorCode("estimatesmartfee", ["2"]) == -3)
        }
    }

    @Test("getblocktemplate: the coinbase pays subsidy plus fees; a long poll returns when the tip moves")
    func templates() async throws {
        try await withNode { node in
            _ = try await node.result("sendrawtransaction", [SignedChain.hex(Self.parent)])
            _ = try await node.result("sendrawtransaction", [SignedChain.hex(Self.child)])
            let template = try await node.result("getblocktemplate")
            #expect(template["transactions"]?.arrayValue?.map { $0["txid"] } == [.string(Self.parent.txid.hex), .string(Self.child.txid.hex)])
            #expect(template["transactions"]?.arrayValue?.last?["depends"] == [1])
            let height = UInt64(SignedChain.height + 1)
            #expect(template["coinbasevalue"] == .int(RPCTestNode.regtest.subsidy(height: height).baseUnits + 30_000))
            let longPollID = try #require(template["longpollid"]?.stringValue)
            #expect(longPollID == "\(SignedChain.blocks.last!.hash.hex)-30000")

            let started = Date()
            let poll = Task { try await node.result("getblocktemplate", [["longpollid": .string(longPollID)]]) }
            try await Task.sleep(for: .milliseconds(300))
            _ = try await node.result("generatetoaddress", [1, .string(SignedChain.address)])
            let refreshed = try await poll.value
            #expect(Date().timeIntervalSince(started) < 30, "the poll must end with the tip, not at its minute")
            #expect(refreshed["previousblockhash"] == .string(node.chain.snapshot.tipHash.hex))
            #expect(refreshed["height"] == .int(height + 1))
        }
    }

    @Test("fee refresh rule: at least 1% and a minimum gain")
    func feeRefreshRule() {
        let minimum = NodeRPCContext.templateRefreshMinimumFeeGain
        #expect(!NodeRPCContext.feesWorthRefresh(previous: 0, current: minimum - 1))
        #expect(NodeRPCContext.feesWorthRefresh(previous: 0, current: minimum))
        #expect(!NodeRPCContext.feesWorthRefresh(previous: 100 * minimum, current: 100 * minimum + minimum / 2))
        #expect(NodeRPCContext.feesWorthRefresh(previous: 1_000 * minimum, current: 1_010 * minimum))
        #expect(!NodeRPCContext.feesWorthRefresh(previous: 1_000 * minimum, current: 1_009 * minimum))
        #expect(!NodeRPCContext.feesWorthRefresh(previous: 5 * minimum, current: 0))
    }
}
