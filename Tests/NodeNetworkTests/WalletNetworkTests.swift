import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Two regtest nodes, each with a wallet made by `rusty wallet create`: coins mined to A go to
/// B and back through the pool and relay; both wallets' balances and histories agree; then a
/// partition lets B confirm a send on a short branch that A's longer branch replaces.
final class WalletNetworkTests: NetworkTestCase {
    override class var budget: Double { 240 }
    static let passphrase = "wallet test passphrase"
    static let subsidy: UInt64 = 50_000_000_000
    static let coin: UInt64 = 100_000_000

    func createWallet(_ node: TestNode) throws {
        let file = node.root.appendingPathComponent("passphrase.txt")
        try (Self.passphrase + "\n").write(to: file, atomically: true, encoding: .utf8)
        let result = try runProcess(TestPaths.rustyExecutable,
                                    ["wallet", "create", "--datadir", node.root.path, "--network", "regtest",
                                     "--passphrase-file", file.path, "--kdf-log-n", "10", "--json"],
                                    timeout: node.remaining(60))
        XCTAssertEqual(result.status, 0, "rusty wallet create: \(result.stderrText)")
        let again = try runProcess(TestPaths.rustyExecutable,
                                   ["wallet", "create", "--datadir", node.root.path, "--network", "regtest", "--passphrase-file", file.path],
                                   timeout: node.remaining(60))
        XCTAssertEqual(again.status, 1, "a second create must refuse to overwrite")
        XCTAssertTrue(again.stderrText.hasPrefix("rusty: "), again.stderrText)
    }

    /// Polls (bounded) until `condition` holds for the answer of `method`.
    @discardableResult
    func waitRPC(_ node: TestNode, _ what: String, _ method: String, _ params: [JSON] = [], timeout: Double = 60,
                 _ condition: (JSON) -> Bool) throws -> JSON {
        let end = Date().addingTimeInterval(node.remaining(timeout))
        var last: JSON = .null
        while Date() < end {
            last = try node.rpc(method, params)
            if condition(last) { return last }
            usleep(100_000)
        }
        throw NetworkTestError("\(node.name): timed out waiting for \(what); last \(method): \(last.text())")
    }

    /// Waits until the node's chain and its wallet are both at `height`.
    func waitSynced(_ node: TestNode, height: Int) throws {
        try waitRPC(node, "height \(height)", "getblockcount") { $0 == .int(height) }
        try waitRPC(node, "the wallet at \(height)", "getwalletinfo") { $0["lastprocessedblock"]?["height"] == .int(height) }
    }

    func amount(_ json: JSON?) -> Int64? {
        json?.numberText.flatMap { JSONNumber.fixedPointUnits($0, scale: 8) }
    }

    /// The trusted balance equals the listed coins, and every coin's history entry is there.
    func assertConsistent(_ node: TestNode, file: StaticString = #filePath, line: UInt = #line) throws {
        let balance = try XCTUnwrap(amount(try node.rpc("getbalance")), file: file, line: line)
        let coins = try node.rpc("listunspent", [0]).arrayValue ?? []
        XCTAssertEqual(coins.compactMap { amount($0["amount"]) }.reduce(0, +), balance, "\(node.name): getbalance vs listunspent", file: file, line: line)
        let balances = try node.rpc("getbalances")
        XCTAssertEqual(amount(balances["mine"]?["trusted"]), balance, file: file, line: line)
    }

    func testWithoutAWalletTheWalletMethodsAnswerNoWalletLoaded() throws {
        let node = try network.makeNode("bare")
        try node.start(["--no-listen"])
        try node.waitRPC()
        for (method, params) in [("getbalance", []), ("getnewaddress", []), ("getwalletinfo", []), ("listtransactions", []),
                                 ("walletpassphrase", ["x", 1]), ("sendtoaddress", [JSON.string("rcrt1q"), 1])] as [(String, [JSON])] {
            XCTAssertThrowsError(try node.rpc(method, params), method) { XCTAssertEqual(($0 as? RPCCallError)?.code, -18, method) }
        }
        // A wallet on disk is not loaded with -disablewallet.
        try node.stop()
        try createWallet(node)
        try node.start(["--no-listen", "--disablewallet"])
        try node.waitRPC()
        XCTAssertThrowsError(try node.rpc("getbalance")) { XCTAssertEqual(($0 as? RPCCallError)?.code, -18) }
        try node.stop()
        try node.start(["--no-listen"])
        try node.waitRPC()
        XCTAssertEqual(try node.rpc("getbalance"), .decimal(0))
    }

    func testTwoWalletsSendBackAndForthAndAgreeAfterAReorganisation() throws {
        let a = try network.makeNode("a")
        let b = try network.makeNode("b")
        try createWallet(a)
        try createWallet(b)
        try a.start(["--listen"])
        try b.start(["--connect", a.endpoint])
        try a.waitRPC()
        try b.waitRPC()

        // 101 blocks to A: the coinbases of heights 1 and 2 may be spent in block 102.
        let addressA = try XCTUnwrap(try a.rpc("getnewaddress", ["mining"]).stringValue)
        XCTAssertEqual(try a.rpc("generatetoaddress", [101, .string(addressA)]).arrayValue?.count, 101)
        try waitSynced(a, height: 101)
        try waitSynced(b, height: 101)
        let balancesA = try a.rpc("getbalances")["mine"]
        XCTAssertEqual(amount(balancesA?["trusted"]), Int64(2 * Self.subsidy))
        XCTAssertEqual(amount(balancesA?["immature"]), Int64(99 * Self.subsidy))
        XCTAssertEqual(try a.rpc("listtransactions", ["*", 1000]).arrayValue?.count, 101)
        XCTAssertEqual(try b.rpc("getbalance"), .decimal(0))

        // A pays B 10 coins: locked first, then unlocked.
        let addressB = try XCTUnwrap(try b.rpc("getnewaddress", ["from a"]).stringValue)
        XCTAssertThrowsError(try a.rpc("sendtoaddress", [.string(addressB), 10])) { XCTAssertEqual(($0 as? RPCCallError)?.code, -13) }
        XCTAssertThrowsError(try a.rpc("walletpassphrase", ["not it", 60])) { XCTAssertEqual(($0 as? RPCCallError)?.code, -14) }
        try a.rpc("walletpassphrase", [.string(Self.passphrase), 600])
        let toB = try XCTUnwrap(try a.rpc("sendtoaddress", [.string(addressB), 10, "to b"]).stringValue)
        try waitRPC(b, "the payment relayed", "getrawmempool") { $0.arrayValue?.contains(.string(toB)) == true }
        try a.rpc("generatetoaddress", [1, .string(addressA)])
        try waitSynced(a, height: 102)
        try waitSynced(b, height: 102)
        XCTAssertEqual(try b.rpc("getbalance"), .decimal(10 * Self.coin))
        let receivedB = try XCTUnwrap(try b.rpc("listtransactions").arrayValue)
        XCTAssertEqual(receivedB.count, 1)
        XCTAssertEqual(receivedB.first?["category"], "receive")
        XCTAssertEqual(receivedB.first?["txid"], .string(toB))
        XCTAssertEqual(receivedB.first?["address"], .string(addressB))
        XCTAssertEqual(receivedB.first?["label"], "from a")
        XCTAssertEqual(receivedB.first?["confirmations"], 1)
        let sentA = try XCTUnwrap(try a.rpc("listtransactions", ["*", 1000]).arrayValue?.first { $0["category"] == "send" })
        XCTAssertEqual(sentA["txid"], .string(toB))
        XCTAssertEqual(sentA["address"], .string(addressB))
        XCTAssertEqual(amount(sentA["amount"]), -Int64(10 * Self.coin))
        XCTAssertEqual(sentA["blockhash"], receivedB.first?["blockhash"])
        XCTAssertLessThan(amount(sentA["fee"]) ?? 0, 0)
        try assertConsistent(a)
        try assertConsistent(b)

        // B pays A 4 coins back.
        XCTAssertThrowsError(try b.rpc("dumpprivkey", [.string(addressB), "wrong"])) { XCTAssertEqual(($0 as? RPCCallError)?.code, -14) }
        XCTAssertEqual(try b.rpc("dumpprivkey", [.string(addressB), .string(Self.passphrase)]).stringValue?.count, 64)
        try b.rpc("walletpassphrase", [.string(Self.passphrase), 600])
        let errors: [(String, [JSON], Int)] = [
            ("an invalid address", ["rcrt1qqqqqqqq", 1], -5),
            ("a mainnet address", ["rc1qqqqsyqcyq5rqwzqfpg9scrgwpugpzysnzs23v9ccrydpk8qarc0s8j5w00", 1], -5),
            ("a zero amount", [.string(addressA), 0], -3),
            ("a negative amount", [.string(addressA), -1], -3),
            ("more than the wallet has", [.string(addressA), 1_000], -6),
            ("a fee rate below the pool's minimum", [.string(addressA), 1, nil, nil, nil, nil, nil, nil, nil, 1], -8),
        ]
        for (what, params, code) in errors {
            XCTAssertThrowsError(try b.rpc("sendtoaddress", params), what) { XCTAssertEqual(($0 as? RPCCallError)?.code, code, what) }
        }
        XCTAssertThrowsError(try b.rpc("dumpprivkey", [.string(addressA), .string(Self.passphrase)])) {
            XCTAssertEqual(($0 as? RPCCallError)?.code, -4, "a key of another wallet")
        }
        // An explicit fee rate (base units per 1,000 bytes) sets the fee exactly.
        let backToA = try XCTUnwrap(try b.rpc("sendtoaddress", [.string(addressA), 4, nil, nil, nil, nil, nil, nil, nil, 5_000]).stringValue)
        let entry = try b.rpc("getmempoolentry", [.string(backToA)])
        let size = try XCTUnwrap(entry["vsize"]?.int64Value)
        XCTAssertEqual(amount(entry["fees"]?["base"]), (5_000 * size + 999) / 1_000)
        XCTAssertEqual(try b.rpc("getbalance"), .decimal(UInt64(Int64(6 * Self.coin) - (5_000 * size + 999) / 1_000)), "own change is trusted")
        try waitRPC(a, "the payment back relayed", "getrawmempool") { $0.arrayValue?.contains(.string(backToA)) == true }
        try a.rpc("generatetoaddress", [1, .string(addressA)])
        try waitSynced(a, height: 103)
        try waitSynced(b, height: 103)
        let sendB = try XCTUnwrap(try b.rpc("listtransactions").arrayValue?.first { $0["category"] == "send" })
        let feeB = try XCTUnwrap(amount(sendB["fee"]))
        XCTAssertEqual(try b.rpc("getbalance"), .decimal(UInt64(Int64(6 * Self.coin) + feeB)))
        let receivedA = try XCTUnwrap(try a.rpc("listtransactions", ["*", 1000]).arrayValue?.first { $0["txid"] == .string(backToA) })
        XCTAssertEqual(receivedA["category"], "receive")
        XCTAssertEqual(amount(receivedA["amount"]), Int64(4 * Self.coin))
        XCTAssertEqual(receivedA["blockhash"], sendB["blockhash"])
        try assertConsistent(a)
        try assertConsistent(b)

        // Partition: B alone confirms a send to A at 104; A alone mines 104 and 105.
        // (--connect to a port nobody listens on: B makes no other connection, not even to A from peers.dat.)
        try b.stop()
        try b.start(["--no-listen", "--connect", "127.0.0.1:\(try FreePort.allocate())"])
        try b.waitRPC()
        try waitSynced(b, height: 103)
        try waitRPC(a, "B gone", "getconnectioncount") { $0 == 0 }
        try b.rpc("walletpassphrase", [.string(Self.passphrase), 600])
        let lost = try XCTUnwrap(try b.rpc("sendtoaddress", [.string(addressA), 1]).stringValue)
        let addressB2 = try XCTUnwrap(try b.rpc("getnewaddress").stringValue)
        try b.rpc("generatetoaddress", [1, .string(addressB2)])
        try waitSynced(b, height: 104)
        let lostSend = try XCTUnwrap(try b.rpc("listtransactions").arrayValue?.first { $0["txid"] == .string(lost) })
        XCTAssertEqual(lostSend["confirmations"], 1)
        // B's coinbase claims the fee of the one transaction in its block.
        XCTAssertEqual(amount(try b.rpc("getbalances")["mine"]?["immature"]), Int64(Self.subsidy) - (amount(lostSend["fee"]) ?? 0))
        let balanceBeforeReorg = try b.rpc("getbalance")
        try a.rpc("generatetoaddress", [2, .string(addressA)])
        try waitSynced(a, height: 105)
        let historyA = try a.rpc("listtransactions", ["*", 1000])

        // B rejoins: A's branch has more work, B's block 104 is undone.
        try b.stop()
        try b.start(["--connect", a.endpoint])
        try b.waitRPC()
        try waitSynced(b, height: 105)
        XCTAssertEqual(try b.rpc("getbestblockhash"), try a.rpc("getbestblockhash"))
        let historyB = try XCTUnwrap(try b.rpc("listtransactions", ["*", 1000]).arrayValue)
        // The coinbase of the lost block is gone; B's own send waits unconfirmed; the older history stands.
        XCTAssertEqual(amount(try b.rpc("getbalances")["mine"]?["immature"]), 0)
        let lostEntry = try XCTUnwrap(historyB.first { $0["txid"] == .string(lost) })
        XCTAssertEqual(lostEntry["confirmations"], 0)
        XCTAssertNil(lostEntry["blockhash"])
        XCTAssertEqual(historyB.filter { $0["txid"] == .string(toB) }.map { $0["confirmations"] }, [4])
        XCTAssertEqual(historyB.filter { $0["txid"] == .string(backToA) }.map { $0["confirmations"] }, [3])
        // Trusted: B's own unconfirmed change is counted, the spent coin is not.
        XCTAssertEqual(try b.rpc("getbalance"), balanceBeforeReorg)
        try assertConsistent(b)
        // A never saw the lost payment; its history is unchanged by B's return.
        XCTAssertFalse(historyA.arrayValue?.contains { $0["txid"] == .string(lost) } ?? true)
        XCTAssertEqual(try a.rpc("listtransactions", ["*", 1000]), historyA)
        try assertConsistent(a)

        // A restart keeps the same view.
        try b.stop()
        try b.start(["--connect", a.endpoint])
        try b.waitRPC()
        try waitSynced(b, height: 105)
        XCTAssertEqual(try XCTUnwrap(try b.rpc("listtransactions", ["*", 1000]).arrayValue), historyB)
    }
}
