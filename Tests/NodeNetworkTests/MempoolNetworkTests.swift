import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Shared steps of the mempool's process-level tests: wallets made by `rusty wallet create`,
/// bounded polling of RPC answers.
class MempoolNetworkTestCase: NetworkTestCase {
    static let passphrase = "mempool test passphrase"
    /// Announcements trickled after 0.2 s on average (Core's 2 s and 5 s would only slow the tests).
    static let fastRelay = ["--trickleinterval", "0.2"]

    func makeWallet(_ node: TestNode) throws {
        let file = node.root.appendingPathComponent("passphrase.txt")
        try (Self.passphrase + "\n").write(to: file, atomically: true, encoding: .utf8)
        let result = try runProcess(TestPaths.rustyExecutable,
                                    ["wallet", "create", "--datadir", node.root.path, "--network", "regtest",
                                     "--passphrase-file", file.path, "--kdf-log-n", "10", "--json"],
                                    timeout: node.remaining(60))
        XCTAssertEqual(result.status, 0, "rusty wallet create: \(result.stderrText)")
    }

    /// Polls (bounded) until `condition` holds for the answer of `method`.
    @discardableResult
    func poll(_ node: TestNode, _ what: String, _ method: String, _ params: [JSON] = [], timeout: Double = 60,
              _ condition: (JSON) -> Bool) throws -> JSON {
        let end = Date().addingTimeInterval(node.remaining(timeout))
        var last: JSON = .null
        while Date() < end {
            do { last = try node.rpc(method, params) } catch {
                throw NetworkTestError("\(node.name): \(method) while waiting for \(what): \(error)")
            }
            if condition(last) { return last }
            usleep(100_000)
        }
        throw NetworkTestError("\(node.name): timed out waiting for \(what); last \(method): \(last.text())")
    }

    /// Waits until every node's gettxstatus for `txid` satisfies `condition`.
    func waitStatus(_ nodes: [TestNode], _ txid: String, _ what: String, timeout: Double = 60, _ condition: (JSON) -> Bool) throws {
        for node in nodes {
            try poll(node, "\(txid.prefix(12)) \(what)", "gettxstatus", [.string(txid)], timeout: timeout, condition)
        }
    }

    func waitHeight(_ nodes: [TestNode], _ height: Int) throws {
        for node in nodes { try poll(node, "height \(height)", "getblockcount") { $0 == .int(height) } }
    }

    func waitInPool(_ nodes: [TestNode], _ txid: String) throws {
        for node in nodes { try poll(node, "\(txid.prefix(12)) in the pool", "getrawmempool") { $0.arrayValue?.contains(.string(txid)) == true } }
    }

    func code(_ error: Error) -> Int? { (error as? RPCCallError)?.code }
}

/// The lifecycle on a line of three regtest nodes A - B - C, A holding a wallet: relay, a
/// restart that keeps the pool (mempool.dat), pending, included, confirmed, finalized; a
/// replacement sent to C; expiry with the mock clock; a reorganisation returning a
/// transaction to the pool.
final class MempoolNetworkTests: MempoolNetworkTestCase {
    override class var budget: Double { 300 }

    /// A mines 101 blocks alone, then B and C join: a peer taking a hundred blocks announced
    /// as fast as they are mined is another test's subject (it is disconnected for headers
    /// that do not connect).
    func startLine() throws -> (TestNode, TestNode, TestNode, String) {
        let a = try network.makeNode("a"), b = try network.makeNode("b"), c = try network.makeNode("c")
        try makeWallet(a)
        try a.start(["--listen"] + Self.fastRelay)
        try a.waitListening()
        try a.waitRPC()
        let address = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        XCTAssertEqual(try a.rpc("generatetoaddress", [101, .string(address)]).arrayValue?.count, 101)
        try b.start(["--listen", "--connect", a.endpoint] + Self.fastRelay)
        try b.waitListening()
        // C keeps a transaction index: gettxstatus answers there for what its pool never saw.
        try c.start(["--connect", b.endpoint, "--txindex"] + Self.fastRelay)
        for node in [b, c] { try node.waitRPC() }
        try waitHeight([a, b, c], 101)
        try poll(b, "B connected to A and C", "getconnectioncount") { ($0.int64Value ?? 0) >= 2 }
        try poll(a, "the wallet at 101", "getwalletinfo") { $0["lastprocessedblock"]?["height"] == 101 }
        try a.rpc("walletpassphrase", [.string(Self.passphrase), 3_600])
        return (a, b, c, address)
    }

    func testATransactionIsRelayedMinedConfirmedAndFinalizedOnEveryNode() throws {
        let (a, b, c, address) = try startLine()
        let all = [a, b, c]
        let recipient = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        let txid = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(recipient), 1]).stringValue)
        try waitInPool(all, txid)
        try waitStatus(all, txid, "in the pool") { $0["state"] == "mempool" && $0["time"] != nil }
        // A template holds it: pending on the node that handed the template out.
        let template = try a.rpc("getblocktemplate")
        XCTAssertTrue(template["transactions"]?.arrayValue?.contains { $0["txid"] == .string(txid) } == true)
        XCTAssertEqual(try a.rpc("gettxstatus", [.string(txid)])["state"], "pending")
        XCTAssertEqual(try c.rpc("gettxstatus", [.string(txid)])["state"], "mempool")

        let block = try XCTUnwrap(try a.rpc("generatetoaddress", [1, .string(address)]).arrayValue?.first)
        try waitHeight(all, 102)
        try waitStatus(all, txid, "included") { $0["state"] == "included" && $0["blockhash"] == block && $0["confirmations"] == 1 }
        for node in all {
            let history = try XCTUnwrap(try node.rpc("gettxstatus", [.string(txid)])["history"]?.arrayValue)
            XCTAssertTrue(history.contains { $0["state"] == "mempool" }, node.name)
            XCTAssertTrue(history.contains { $0["state"] == "included" && $0["blockhash"] == block }, node.name)
        }
        try a.rpc("generatetoaddress", [1, .string(address)])
        try waitHeight(all, 103)
        try waitStatus(all, txid, "confirmed") { $0["state"] == "confirmed" && $0["confirmations"] == 2 }
        try a.rpc("generatetoaddress", [4, .string(address)])
        try waitHeight(all, 107)
        try waitStatus(all, txid, "finalized") { $0["state"] == "finalized" && $0["confirmations"] == 6 && $0["blockheight"] == 102 }
        // The wallet shows the same lifecycle.
        let send = try XCTUnwrap(try a.rpc("listtransactions", ["*", 1_000]).arrayValue?.first { $0["txid"] == .string(txid) && $0["category"] == "send" })
        XCTAssertEqual(send["lifecycle"], "finalized")
        XCTAssertEqual(try a.rpc("gettransaction", [.string(txid)])["lifecycle"], "finalized")
    }

    func testARestartedNodeKeepsItsPool() throws {
        let (a, b, c, _) = try startLine()
        let recipient = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        let txid = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(recipient), 1]).stringValue)
        try waitInPool([a, b, c], txid)
        // mempool.dat: B stopped and started still holds it, with its entry time and status.
        let entered = try XCTUnwrap(try b.rpc("getmempoolentry", [.string(txid)])["time"])
        try b.restart()
        try b.waitRPC()
        try poll(b, "the pool reloaded", "getrawmempool") { $0.arrayValue?.contains(.string(txid)) == true }
        XCTAssertEqual(try b.rpc("getmempoolentry", [.string(txid)])["time"], entered)
        XCTAssertEqual(try b.rpc("gettxstatus", [.string(txid)])["state"], "mempool")
    }

    func testAReplacementSentToTheFarEndIsReportedOnEveryNode() throws {
        let (a, b, c, _) = try startLine()
        let all = [a, b, c]
        let recipient = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        let original = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(recipient), 2]).stringValue)
        try waitInPool(all, original)
        XCTAssertEqual(try a.rpc("gettransaction", [.string(original)])["lifecycle"], "mempool")

        // A makes the replacement offline; it enters the network at C.
        XCTAssertEqual(try a.rpc("setnetworkactive", [false]), false)
        try poll(a, "no peers", "getconnectioncount") { $0 == 0 }
        let bump = try a.rpc("bumpfee", [.string(original)])
        let replacement = try XCTUnwrap(bump["txid"]?.stringValue)
        XCTAssertEqual(bump["errors"], [])
        XCTAssertGreaterThan(bump["fee"]?.doubleValue ?? 0, bump["origfee"]?.doubleValue ?? 1)
        let hex = try XCTUnwrap(try a.rpc("gettransaction", [.string(replacement)])["hex"])
        XCTAssertEqual(try c.rpc("sendrawtransaction", [hex]), .string(replacement))
        XCTAssertEqual(try a.rpc("setnetworkactive", [true]), true)

        try waitStatus(all, original, "replaced") { $0["state"] == "replaced" && $0["replaced_by"] == .string(replacement) }
        try waitInPool(all, replacement)
        for node in all {
            XCTAssertFalse(try node.rpc("getrawmempool").arrayValue?.contains(.string(original)) ?? true, node.name)
        }
        // The wallet follows: the old send is replaced and out of the balance.
        let old = try a.rpc("gettransaction", [.string(original)])
        XCTAssertEqual(old["replaced_by_txid"], .string(replacement))
        XCTAssertEqual(old["lifecycle"], "replaced")
        XCTAssertEqual(old["trusted"], false)
        XCTAssertEqual(try a.rpc("gettransaction", [.string(replacement)])["replaces_txid"], .string(original))
        let coins = try XCTUnwrap(try a.rpc("listunspent", [0]).arrayValue)
        XCTAssertFalse(coins.contains { $0["txid"] == .string(original) })
        XCTAssertTrue(coins.contains { $0["txid"] == .string(replacement) })
        // The original again: refused by every rule of replacement (it pays less).
        let originalHex = try XCTUnwrap(try a.rpc("gettransaction", [.string(original)])["hex"])
        XCTAssertThrowsError(try b.rpc("sendrawtransaction", [originalHex])) { XCTAssertEqual(self.code($0), -26) }
    }

    func testATransactionPastTheExpiryLeavesThePoolsThatHeldIt() throws {
        let (a, b, c, _) = try startLine()
        // C leaves; the payment reaches A and B only.
        XCTAssertEqual(try c.rpc("setnetworkactive", [false]), false)
        try poll(c, "C alone", "getconnectioncount") { $0 == 0 }
        let recipient = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        let txid = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(recipient), 3]).stringValue)
        try waitInPool([a, b], txid)
        let entered = try XCTUnwrap(try b.rpc("getmempoolentry", [.string(txid)])["time"]?.int64Value)

        // 337 hours later on every clock, C's block (without the payment) reaches A and B.
        for node in [a, b, c] { try node.rpc("setmocktime", [.int(entered + 337 * 3_600)]) }
        try c.rpc("generatetoaddress", [1, .string(recipient)])
        XCTAssertEqual(try c.rpc("setnetworkactive", [true]), true)
        try waitHeight([a, b, c], 102)
        try waitStatus([a, b], txid, "expired") { $0["state"] == "expired" && $0["blockhash"] == nil }
        for node in [a, b] {
            XCTAssertFalse(try node.rpc("getrawmempool").arrayValue?.contains(.string(txid)) ?? true, node.name)
            XCTAssertTrue(try node.rpc("gettxstatus", [.string(txid)])["history"]?.arrayValue?.contains { $0["state"] == "expired" } == true)
        }
        XCTAssertEqual(try a.rpc("gettransaction", [.string(txid)])["lifecycle"], "expired")
        for node in [a, b, c] { try node.rpc("setmocktime", [0]) }
    }

    func testAReorganisationReturnsATransactionToThePool() throws {
        let (a, b, c, _) = try startLine()
        // C leaves; A and B confirm a payment at 102; C mines 102 and 103 on its own.
        XCTAssertEqual(try c.rpc("setnetworkactive", [false]), false)
        try poll(c, "C alone", "getconnectioncount") { $0 == 0 }
        let recipient = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        let txid = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(recipient), 4]).stringValue)
        try waitInPool([a, b], txid)
        let minedA = try XCTUnwrap(try a.rpc("generatetoaddress", [1, .string(recipient)]).arrayValue?.first)
        try waitHeight([a, b], 102)
        try waitStatus([a, b], txid, "included") { $0["state"] == "included" && $0["blockhash"] == minedA }
        let addressC = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        try c.rpc("generatetoaddress", [2, .string(addressC)])
        XCTAssertEqual(try c.rpc("getrawmempool"), [])

        // C returns: its branch has more work; A and B undo block 102 and take the payment back.
        XCTAssertEqual(try c.rpc("setnetworkactive", [true]), true)
        let tip = try c.rpc("getbestblockhash")
        try waitHeight([a, b, c], 103)
        for node in [a, b] { try poll(node, "C's tip", "getbestblockhash") { $0 == tip } }
        try waitStatus([a, b], txid, "back in the pool") { status in
            status["state"] == "mempool" && status["blockhash"] == nil
                && status["history"]?.arrayValue?.contains { $0["state"] == "disconnected" } == true
        }
        try waitInPool([a, b], txid)
        let entry = try XCTUnwrap(try a.rpc("listtransactions", ["*", 1_000]).arrayValue?.first { $0["txid"] == .string(txid) })
        XCTAssertEqual(entry["confirmations"], 0)
        XCTAssertEqual(entry["lifecycle"], "mempool")
        // And it confirms again on the winning branch (the pools that return it do not announce
        // it again: C, which never saw it, answers from its transaction index).
        try a.rpc("generatetoaddress", [1, .string(addressC)])
        try waitHeight([a, b, c], 104)
        try waitStatus([a, b, c], txid, "included again") { $0["state"] == "included" && $0["blockheight"] == 104 }
    }
}

/// Blocks mined in a burst while a peer is connected: the burst outruns the announcement
/// window, and the peer must follow it without taking the honest node for a misbehaving one
/// (announcements fall back to inv when headers would not connect).
final class BlockBurstTests: MempoolNetworkTestCase {
    override class var budget: Double { 180 }

    func testAPeerFollowsABurstOfBlocksAndStaysConnected() throws {
        let a = try network.makeNode("a"), b = try network.makeNode("b")
        try makeWallet(a)
        try a.start(["--listen"] + Self.fastRelay)
        try a.waitListening()
        try a.waitRPC()
        try b.start(["--connect", a.endpoint] + Self.fastRelay)
        try b.waitRPC()
        try poll(a, "B connected", "getconnectioncount") { $0 == .int(1) }
        let address = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        XCTAssertEqual(try a.rpc("generatetoaddress", [150, .string(address)]).arrayValue?.count, 150)
        try waitHeight([a, b], 150)
        XCTAssertEqual(try a.rpc("getconnectioncount"), .int(1), "b is still connected to a")
        XCTAssertEqual(try b.rpc("getbestblockhash"), try a.rpc("getbestblockhash"))
        XCTAssertEqual(try a.rpc("listbanned").arrayValue?.count, 0)
    }
}
