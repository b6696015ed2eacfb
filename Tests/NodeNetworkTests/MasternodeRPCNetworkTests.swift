import Foundation
import JSONRPC
import TestSupport
import XCTest

/// The masternode RPCs on a real regtest node with a wallet: registration both ways, the list
/// through maturity, the owner's update, the operator's update and revoke with the keys the
/// node was started with, and arguments refused by name.
final class MasternodeRPCNetworkTests: MempoolNetworkTestCase {
    override class var budget: Double { 240 }

    /// Operator keys from `rusty masternode keygen`: (file, operator key, encryption key).
    func keygen(_ node: TestNode, _ name: String) throws -> (String, String, String) {
        let file = node.root.appendingPathComponent("\(name).json").path
        let result = try runProcess(TestPaths.rustyExecutable, ["masternode", "keygen", "--out", file, "--json"], timeout: node.remaining(30))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let json = try JSONParser.parse(Array(result.stdoutText.utf8))
        return (file, try XCTUnwrap(json["operatorKey"]?.stringValue), try XCTUnwrap(json["encryptionKey"]?.stringValue))
    }

    /// A node with a wallet holding 101 blocks of coinbases (one mature), unlocked; with
    /// `masternode`, started with fresh operator keys (returned).
    func startNode(masternode: Bool = false) throws -> (TestNode, String, (String, String, String)?) {
        let a = try network.makeNode("a")
        try makeWallet(a)
        let keys = masternode ? try keygen(a, "operator") : nil
        try a.start(keys.map { ["--masternode", "--operator-key-file", $0.0] } ?? [])
        try a.waitRPC()
        let address = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        try a.rpc("generatetoaddress", [101, .string(address)])
        try poll(a, "the wallet at 101", "getwalletinfo") { $0["lastprocessedblock"]?["height"] == 101 }
        try a.rpc("walletpassphrase", [.string(Self.passphrase), 3_600])
        return (a, address, keys)
    }

    func mine(_ node: TestNode, _ address: String, _ count: Int) throws {
        let height = try XCTUnwrap(try node.rpc("getblockcount").int64Value)
        try node.rpc("generatetoaddress", [.int(count), .string(address)])
        try poll(node, "the wallet at \(Int(height) + count)", "getwalletinfo") { $0["lastprocessedblock"]?["height"] == .int(Int(height) + count) }
    }

    func testRegisterBothWaysMatureAndUpdateTheRegistrar() throws {
        let (a, address, _) = try startNode()
        let (_, operatorKey, encryptionKey) = try keygen(a, "first")
        // Internal collateral: the registration makes its own.
        let funded = try XCTUnwrap(try a.rpc("protx", ["register_fund", "10.0.0.1:29373", .string(address), .string(operatorKey),
                                                       .string(encryptionKey)]).stringValue)
        try mine(a, address, 1)
        let listed = try a.rpc("masternodelist")
        XCTAssertEqual(listed[funded]?["status"], "PENDING", listed.text())
        XCTAssertEqual(listed[funded]?["collateralHash"]?.stringValue, funded)
        XCTAssertEqual(listed[funded]?["collateralIndex"], 0)
        XCTAssertEqual(listed[funded]?["service"], "10.0.0.1:29373")
        XCTAssertEqual(listed[funded]?["payoutAddress"]?.stringValue, address)
        XCTAssertEqual(listed[funded]?["poseBanHeight"], -1)
        try mine(a, address, 2)
        XCTAssertEqual(try a.rpc("masternodelist", ["status"])[funded], "ENABLED")
        XCTAssertEqual(try a.rpc("protx", ["list", "valid"]), [.string(funded)])

        // External collateral: a wallet coin of exactly 10 RUST (regtest's collateral).
        let own = try XCTUnwrap(try a.rpc("getnewaddress").stringValue)
        let paid = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(own), 10]).stringValue)
        try mine(a, address, 1)
        let coins = try XCTUnwrap(try a.rpc("listunspent").arrayValue)
        let coin = try XCTUnwrap(coins.first { $0["txid"]?.stringValue == paid && $0["address"]?.stringValue == own })
        let outpoint = "\(paid):\(coin["vout"]!.int64Value!)"
        let (_, secondOperator, secondEncryption) = try keygen(a, "second")
        let external = try XCTUnwrap(try a.rpc("protx", ["register", .string(outpoint), "10.0.0.2:29373", .string(address),
                                                         .string(secondOperator), .string(secondEncryption)]).stringValue)
        // The same service again is refused by the rules, by name.
        XCTAssertThrowsError(try a.rpc("protx", ["register_fund", "10.0.0.2:29373", .string(address), .string(operatorKey),
                                                 .string(encryptionKey)])) { error in
            XCTAssertEqual(self.code(error), -26, "\(error)")
        }
        try mine(a, address, 1)
        XCTAssertEqual(try a.rpc("protx", ["info", .string(external)])["collateralHash"]?.stringValue, paid)
        XCTAssertEqual(try a.rpc("getmasternodecount")["total"], 2)

        // The owner names a new operator (and keeps the payout with "").
        let (_, thirdOperator, thirdEncryption) = try keygen(a, "third")
        try a.rpc("protx", ["update_registrar", .string(funded), .string(thirdOperator), .string(thirdEncryption), ""])
        try mine(a, address, 1)
        XCTAssertEqual(try a.rpc("masternodelist", ["operator", .string(funded)])[funded]?.stringValue, thirdOperator)

        // Arguments are refused by name.
        let bad: [([JSON], String)] = [
            (["register", "nothex:0", "10.0.0.9:1", .string(address), .string(operatorKey), .string(encryptionKey)], "collateral"),
            (["register_fund", "10.0.0.9", .string(address), .string(operatorKey), .string(encryptionKey)], "service"),
            (["register_fund", "10.0.0.9:1", .string(address), "abcd", .string(encryptionKey)], "operator_pubkey"),
            (["register_fund", "10.0.0.9:1", .string(address), .string(operatorKey)], "encryption_pubkey"),
            (["info", "12"], "pro_tx_hash"),
            (["list", "everything"], "registered or valid"),
            (["frobnicate"], "unknown protx command"),
        ]
        for (params, name) in bad {
            XCTAssertThrowsError(try a.rpc("protx", params)) { error in
                XCTAssertEqual(self.code(error), -8, "\(params): \(error)")
                XCTAssertTrue("\(error)".contains(name), "\(params): \(error)")
            }
        }
        XCTAssertThrowsError(try a.rpc("masternodelist", ["everything"])) { XCTAssertEqual(self.code($0), -8) }
        XCTAssertThrowsError(try a.rpc("protx", ["update_service", .string(funded), "10.0.0.9:1"])) { error in
            XCTAssertEqual(self.code(error), -1, "a node without operator keys: \(error)")
        }
    }

    func testTheOperatorUpdatesItsServiceAndRevokesWithTheNodesKeys() throws {
        let (a, address, keys) = try startNode(masternode: true)
        let (_, operatorKey, encryptionKey) = try XCTUnwrap(keys)
        let id = try XCTUnwrap(try a.rpc("protx", ["register_fund", "10.0.0.3:29373", .string(address), .string(operatorKey),
                                                   .string(encryptionKey)]).stringValue)
        try mine(a, address, 3)
        try a.rpc("protx", ["update_service", .string(id), "10.0.0.4:29373"])
        try mine(a, address, 1)
        XCTAssertEqual(try a.rpc("masternodelist", ["addr"])[id], "10.0.0.4:29373")
        try a.rpc("protx", ["revoke", .string(id), "1"])
        try mine(a, address, 1)
        let entry = try a.rpc("protx", ["info", .string(id)])
        XCTAssertEqual(entry["status"], "REVOKED", entry.text())
        XCTAssertEqual(entry["revocationReason"], 1)
        XCTAssertThrowsError(try a.rpc("protx", ["revoke", .string(id), "7"])) { XCTAssertEqual(self.code($0), -8) }
    }
}
