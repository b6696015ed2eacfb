import Foundation
import JSONRPC
import Primitives
import TestSupport
import XCTest

/// The node's methods through its real HTTP server, on a regtest node holding a known chain
/// (gen-chain, verify-chain's digest): every answer is checked against the block file, and
/// every class of bad parameter against bitcoind's error code.
final class RPCMethodsTests: NetworkTestCase {
    nonisolated(unsafe) static var fixture: ClassFixture<ChainFixture>?
    override class var budget: Double { 150 }

    override class func setUp() {
        super.setUp()
        fixture = ClassFixture { try ChainFixture.make("rpc", blocks: 130, transactionsPerBlock: 3, seed: 0x5eed_0014) }
    }

    override class func tearDown() {
        fixture?.value?.remove()
        fixture = nil
        super.tearDown()
    }

    private func chain() throws -> ChainFixture { try XCTUnwrap(Self.fixture).get() }

    /// The fixture's blocks decoded, in height order.
    private func blocks(_ chain: ChainFixture) throws -> [(bytes: [UInt8], block: Block)] {
        let byHash = try chain.blocksByHash()
        return try chain.headers().map { header in
            let bytes = try XCTUnwrap(byHash[header.hash])
            return (bytes, try Block.decodeWithSpans(bytes).block)
        }
    }

    func expectError(_ node: TestNode, _ method: String, _ params: [JSON], code: Int, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let result = try node.rpc(method, params)
            XCTFail("\(method) \(params.map { $0.text() }) answered \(result.text()) instead of error \(code)", file: file, line: line)
        } catch let error as RPCCallError {
            XCTAssertEqual(error.code, code, "\(method) \(params.map { $0.text() }): \(error.message)", file: file, line: line)
        } catch {
            XCTFail("\(method): \(error)", file: file, line: line)
        }
    }

    func testChainAndTransactionMethodsAgreeWithTheBlockFile() throws {
        let chain = try chain()
        let blocks = try blocks(chain)
        let node = try network.makeNode("known", from: chain.template)
        try node.start(["--no-listen", "--txindex"])
        try node.waitRPC()

        XCTAssertEqual(try node.rpc("getblockcount"), .int(chain.height))
        XCTAssertEqual(try node.rpc("getbestblockhash"), .string(chain.tipHash))
        let info = try node.rpc("getblockchaininfo")
        XCTAssertEqual(info["chain"], "regtest")
        XCTAssertEqual(info["blocks"], .int(chain.height))
        XCTAssertEqual(info["headers"], .int(chain.height))
        XCTAssertEqual(info["bestblockhash"], .string(chain.tipHash))
        XCTAssertEqual(info["chainwork"]?.stringValue?.count, 64)
        XCTAssertNotNil(info["mediantime"]?.int64Value)
        XCTAssertGreaterThan(info["size_on_disk"]?.int64Value ?? 0, Int64(chain.bytes / 2))
        XCTAssertEqual(try node.rpc("getdifficulty").doubleValue ?? 0, 1, accuracy: 1e-9)

        for height in [1, 64, chain.height] {
            let (bytes, block) = blocks[height - 1]
            let hash = block.hash.hex
            XCTAssertEqual(try node.rpc("getblockhash", [.int(height)]), .string(hash))
            let header = try node.rpc("getblockheader", [.string(hash)])
            XCTAssertEqual(header["height"], .int(height))
            XCTAssertEqual(header["confirmations"], .int(chain.height - height + 1))
            XCTAssertEqual(header["merkleroot"], .string(block.header.merkleRoot.hex))
            XCTAssertEqual(header["previousblockhash"], .string(block.header.previousHash.hex))
            XCTAssertEqual(header["nTx"], .int(block.transactions.count))
            XCTAssertEqual(header["nextblockhash"], height < chain.height ? .string(blocks[height].block.hash.hex) : nil)
            XCTAssertEqual(try node.rpc("getblockheader", [.string(hash), false]), .string(HexCoding.encode(block.header.encoded)))
            XCTAssertEqual(try node.rpc("getblock", [.string(hash), 0]), .string(HexCoding.encode(bytes)))
            XCTAssertEqual(try node.rpc("getblock", [.string(hash)])["tx"], .array(block.transactions.map { .string($0.txid.hex) }))
            let full = try node.rpc("getblock", [.string(hash), 2])
            XCTAssertEqual(full["tx"]?.arrayValue?.map { $0["hash"] }, block.transactions.map { .string($0.wtxid.hex) })
        }
        XCTAssertEqual(try node.rpc("getchaintips"), [["height": .int(chain.height), "hash": .string(chain.tipHash), "branchlen": 0, "status": "active"]])
        let utxo = try node.rpc("gettxoutsetinfo")
        XCTAssertEqual(utxo["utxo_digest"], .string(chain.utxoDigest))
        XCTAssertEqual(utxo["height"], .int(chain.height))

        // Coins: the tip's coinbase output is unspent; block 1's coinbase was spent by the fan-out at 101.
        let tipCoinbase = blocks[chain.height - 1].block.transactions[0]
        let coin = try node.rpc("gettxout", [.string(tipCoinbase.txid.hex), 0])
        XCTAssertEqual(coin["confirmations"], 1)
        XCTAssertEqual(coin["coinbase"], true)
        XCTAssertEqual(coin["value"], .decimal(tipCoinbase.outputs[0].value.baseUnits))
        XCTAssertEqual(coin["scriptPubKey"]?["hex"], .string(HexCoding.encode(tipCoinbase.outputs[0].lockScript)))
        XCTAssertEqual(try node.rpc("gettxout", [.string(blocks[0].block.transactions[0].txid.hex), 0]), .null)

        // Raw transactions: from a given block without the index; from the index once it has caught up.
        let (_, block120) = blocks[119]
        let spend = try XCTUnwrap(block120.transactions.last)
        let spendHex = HexCoding.encode(spend.encoded)
        XCTAssertEqual(try node.rpc("getrawtransaction", [.string(spend.txid.hex), false, .string(block120.hash.hex)]), .string(spendHex))
        let end = Date().addingTimeInterval(node.remaining(30))
        var indexed: JSON?
        while indexed == nil && Date() < end {
            indexed = try? node.rpc("getrawtransaction", [.string(spend.txid.hex), true])
            if indexed == nil { usleep(100_000) }
        }
        let verbose = try XCTUnwrap(indexed, "the transaction index never answered")
        XCTAssertEqual(verbose["blockhash"], .string(block120.hash.hex))
        XCTAssertEqual(verbose["confirmations"], .int(chain.height - 120 + 1))
        XCTAssertEqual(verbose["hex"], .string(spendHex))
        XCTAssertEqual(verbose["vin"]?.arrayValue?.count, spend.inputs.count)
        let decoded = try node.rpc("decoderawtransaction", [.string(spendHex)])
        XCTAssertEqual(decoded["txid"], .string(spend.txid.hex))
        XCTAssertEqual(decoded["hash"], .string(spend.wtxid.hex))
        XCTAssertEqual(decoded["vout"]?.arrayValue?.count, spend.outputs.count)

        // Submitting what the chain already has.
        XCTAssertEqual(try node.rpc("submitblock", [.string(HexCoding.encode(blocks[chain.height - 1].bytes))]), "duplicate")
        // bitcoind's rule: -27 when an output of the transaction is still unspent (a tip transaction);
        // one whose outputs are all spent reads as spending missing inputs (-25).
        let tipSpend = try XCTUnwrap(blocks[chain.height - 1].block.transactions.last)
        expectError(node, "sendrawtransaction", [.string(HexCoding.encode(tipSpend.encoded))], code: -27)
        expectError(node, "sendrawtransaction", [.string(spendHex)], code: -25)
        let accept = try node.rpc("testmempoolaccept", [[.string(spendHex)]])
        XCTAssertEqual(accept.arrayValue?.first?["allowed"], false)
        XCTAssertEqual(accept.arrayValue?.first?["txid"], .string(spend.txid.hex))
        XCTAssertEqual(try node.rpc("getrawmempool"), [])
        XCTAssertEqual(try node.rpc("getmempoolinfo")["size"], 0)
        // Its refused resubmission above does not hide where the chain holds it: confirmed, or
        // finalized at regtest's finality depth (6) and beyond.
        let status = try node.rpc("gettxstatus", [.string(spend.txid.hex)])
        let confirmations = try XCTUnwrap(status["confirmations"]?.int64Value)
        XCTAssertGreaterThan(confirmations, 1)
        XCTAssertEqual(status["state"], confirmations >= 6 ? "finalized" : "confirmed")
        let mining = try node.rpc("getmininginfo")
        XCTAssertEqual(mining["blocks"], .int(chain.height))
        let template = try node.rpc("getblocktemplate")
        XCTAssertEqual(template["height"], .int(chain.height + 1))
        XCTAssertEqual(template["previousblockhash"], .string(chain.tipHash))
        XCTAssertNotNil(try node.rpc("uptime").int64Value)
        let help = try XCTUnwrap(try node.rpc("help").stringValue)
        for category in ["== Blockchain ==", "== Control ==", "== Mining ==", "== Network ==", "== Rawtransactions =="] {
            XCTAssertTrue(help.contains(category), "help lacks \(category)")
        }

        // Bad parameters, class by class.
        let zeros = String(repeating: "0", count: 64)
        expectError(node, "getblockhash", [-1], code: -8)
        expectError(node, "getblockhash", [.int(chain.height + 1)], code: -8)
        expectError(node, "getblockhash", ["1"], code: -3)
        expectError(node, "getblockhash", [], code: -32602)
        expectError(node, "getblockheader", ["00"], code: -8)
        expectError(node, "getblockheader", [.string(String(repeating: "g", count: 64))], code: -8)
        expectError(node, "getblockheader", [.string(zeros)], code: -5)
        expectError(node, "getblock", [.string(zeros)], code: -5)
        expectError(node, "getblock", [.string(chain.tipHash), 9], code: -8)
        expectError(node, "decoderawtransaction", ["zz"], code: -22)
        expectError(node, "decoderawtransaction", ["00"], code: -22)
        expectError(node, "getrawtransaction", [.string(zeros)], code: -5)
        expectError(node, "getmempoolentry", [.string(zeros)], code: -5)
        expectError(node, "gettxout", [.string(zeros), -1], code: -8)
        expectError(node, "submitblock", ["00"], code: -22)
        expectError(node, "sendrawtransaction", ["0011"], code: -22)
        expectError(node, "generatetoaddress", [1, "rcrt1notanaddress"], code: -5)
        expectError(node, "nosuchmethod", [], code: -32601)
        try node.stop()
    }
}
