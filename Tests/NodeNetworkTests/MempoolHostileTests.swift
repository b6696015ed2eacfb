import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Hostile input to a node's pool through its RPC: malformed transactions, double spends,
/// a chain of unconfirmed descendants past the limit. Each gets the right refusal and the
/// node keeps taking and relaying honest transactions.
final class MempoolHostileTests: MempoolNetworkTestCase {
    override class var budget: Double { 240 }

    /// A (wallet, 101 blocks mined to it, unlocked) connected to B.
    func startPair() throws -> (TestNode, TestNode, String) {
        let a = try network.makeNode("a"), b = try network.makeNode("b")
        try makeWallet(a)
        try a.start(["--listen"] + Self.fastRelay)
        try a.waitListening()
        try a.waitRPC()
        let address = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        try a.rpc("generatetoaddress", [101, .string(address)])
        // B joins after the burst of blocks (see MempoolNetworkTests.startLine).
        try b.start(["--connect", a.endpoint] + Self.fastRelay)
        try b.waitRPC()
        try waitHeight([a, b], 101)
        try poll(b, "B connected", "getconnectioncount") { $0 == 1 }
        try poll(a, "the wallet at 101", "getwalletinfo") { $0["lastprocessedblock"]?["height"] == 101 }
        try a.rpc("walletpassphrase", [.string(Self.passphrase), 3_600])
        return (a, b, address)
    }

    func testMalformedTransactionsAndDoubleSpendsAreRefusedAndHonestOnesStillRelay() throws {
        let (a, b, _) = try startPair()
        let recipient = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        let first = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(recipient), 1]).stringValue)
        let hex = try XCTUnwrap(try a.rpc("gettransaction", [.string(first)])["hex"]?.stringValue)
        let malformed: [(String, String)] = [
            ("not hex", "zz" + hex), ("odd length", String(hex.dropLast())), ("truncated", String(hex.dropLast(6))),
            ("trailing bytes", hex + "00"), ("empty", ""), ("a huge count", "01000000" + "ffffffffffffffff" + hex),
        ]
        for (what, text) in malformed {
            for node in [a, b] {
                XCTAssertThrowsError(try node.rpc("sendrawtransaction", [.string(text)]), what) { error in
                    XCTAssertEqual(self.code(error), -22, "\(what): \(error)")
                    XCTAssertFalse((error as? RPCCallError)?.message.isEmpty ?? true, what)
                }
            }
        }
        XCTAssertThrowsError(try a.rpc("sendrawtransaction", [.int(5)])) { XCTAssertEqual(self.code($0), -3) }
        XCTAssertThrowsError(try a.rpc("sendrawtransaction", [])) { XCTAssertEqual(self.code($0), -32602) }

        // A double spend: the wallet's replacement pays more and replaces; the original, sent
        // again, pays less than what now spends its coin and is refused with the rule.
        try waitInPool([a, b], first)
        let replacement = try XCTUnwrap(try a.rpc("bumpfee", [.string(first)])["txid"]?.stringValue)
        try waitInPool([a, b], replacement)
        for node in [a, b] {
            XCTAssertThrowsError(try node.rpc("sendrawtransaction", [.string(hex)]), node.name) { error in
                XCTAssertEqual(self.code(error), -26, "\(error)")
            }
            let accept = try XCTUnwrap(try node.rpc("testmempoolaccept", [[.string(hex)]]).arrayValue?.first)
            XCTAssertEqual(accept["allowed"], false)
            XCTAssertEqual(accept["reject-reason"], "insufficient fee")
        }
        // The node still relays an honest payment.
        let honest = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(recipient), 2]).stringValue)
        try waitInPool([a, b], honest)
    }

    func testAChainOfUnconfirmedDescendantsStopsAtTheAncestorLimit() throws {
        let (a, b, _) = try startPair()
        let recipient = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        // Two mature coins: every further send spends the change of an earlier one, so the
        // sends form chains that reach the 25-transaction package limit.
        var refusal: RPCCallError?
        var sent = 0
        for _ in 0..<80 {
            do {
                try a.rpc("sendtoaddress", [.string(recipient), "0.01"])
                sent += 1
            } catch let error as RPCCallError {
                refusal = error
                break
            }
        }
        let refused = try XCTUnwrap(refusal, "80 chained sends all accepted")
        XCTAssertEqual(refused.code, -26)
        XCTAssertTrue(refused.message.hasPrefix("too-long-mempool-chain"), refused.message)
        XCTAssertGreaterThanOrEqual(sent, 25)
        let pool = try XCTUnwrap(try a.rpc("getrawmempool", [true]).objectValue)
        XCTAssertEqual(pool.count, sent)
        for (_, entry) in pool {
            XCTAssertLessThanOrEqual(entry["ancestorcount"]?.int64Value ?? 99, 25)
            XCTAssertLessThanOrEqual(entry["descendantcount"]?.int64Value ?? 99, 25)
        }
        // B holds the same chains and nothing beyond the limit either.
        try poll(b, "every chained send relayed", "getmempoolinfo") { $0["size"] == .int(sent) }
        // A block clears them and the wallet can send again.
        let address = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        try a.rpc("generatetoaddress", [1, .string(address)])
        try waitHeight([a, b], 102)
        try poll(a, "the pool empty", "getmempoolinfo") { $0["size"] == 0 }
        XCTAssertNoThrow(try a.rpc("sendtoaddress", [.string(recipient), "0.01"]))
    }
}
