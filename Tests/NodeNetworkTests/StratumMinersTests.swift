import Foundation
import JSONRPC
import TestSupport
import XCTest

/// Three `rusty mine --stratum` processes (two on the CPU, one on OpenCL when PoCL or a GPU is
/// there) mine through node A's pool server with its default variable difficulty: A's chain
/// grows by blocks found through Stratum, node B (a P2P peer of A) takes every one of them, the
/// miners hold distinct nonce prefixes, each rig's shares are accounted to it, and every new
/// block pays the pool's address. And solo: `rusty mine --rpc` against a node with a mempool.
final class StratumMinersTests: NetworkTestCase {
    override class var budget: Double { 150 }

    /// Whether `rusty devices` lists an OpenCL device.
    func hasOpenCLDevice() throws -> Bool {
        let result = try runProcess(TestPaths.rustyExecutable, ["devices", "--json"], timeout: 60)
        guard result.status == 0, let json = try? JSONParser.parse(Array(result.stdoutText.utf8)) else { return false }
        return json["openCL"]?.arrayValue?.contains { !($0["devices"]?.arrayValue?.isEmpty ?? true) } ?? false
    }

    func testThreeMinersFindBlocksThroughThePoolAndASecondNodeTakesThem() throws {
        let a = try network.makeNode("a"), b = try network.makeNode("b")
        let pool = try StratumPool.start(a, ["--listen"])
        try a.waitListening()
        try b.start(["--connect", a.endpoint])
        try b.waitRPC()
        try network.waitAll([a, b], "B connected to A", timeout: 30) { $0.peers.count >= 1 }
        let startHeight = try XCTUnwrap(try a.rpc("getblockcount").int64Value)

        var rigs: [(name: String, flags: [String])] = [
            ("rig1", ["--backend", "simd", "--cpu-threads", "1"]),
            ("rig2", ["--backend", "simd", "--cpu-threads", "1"]),
        ]
        if try hasOpenCLDevice() {
            rigs.append(("rig3", ["--backend", "opencl", "--cpu-threads", "0"]))
        } else {
            print("[stratum] rusty devices lists no OpenCL device: the OpenCL rig is skipped, two CPU rigs mine")
        }
        let miners = try rigs.map { rig in
            try MinerProcess(rig.name, directory: network.base, arguments: [
                "--network", "regtest", "--stratum", pool.url, "--user", "\(pool.address).\(rig.name)", "--duration", "60",
                "--json", "--status-interval", "1",
            ] + rig.flags)
        }
        defer { for miner in miners { miner.stop() } }

        // Mining until A has at least three new blocks and every rig has a share accepted.
        let names = rigs.map { "\(pool.address).\($0.name)" }
        let info: JSON
        do {
            info = try pool.waitInfo("three blocks and a share from every rig", timeout: 60) { info in
                let blocks = info["totals"]?["blocks"]?.int64Value ?? 0
                return blocks >= 3 && names.allSatisfy { (pool.worker($0, in: info)?["accepted"]?.int64Value ?? 0) > 0 }
            }
        } catch {
            for miner in miners { print(miner.report) }
            throw error
        }
        for miner in miners { XCTAssertEqual(miner.stop(), 0, miner.report) }

        // Every rig a session with its own prefix; shares accounted per worker.
        let sessions = try XCTUnwrap(info["sessions"]?.arrayValue, info.text())
        let prefixes = sessions.compactMap { $0["prefix"]?.stringValue }
        XCTAssertEqual(sessions.count, rigs.count, info.text())
        XCTAssertEqual(Set(prefixes).count, prefixes.count, "no two miners search the same nonces: \(prefixes)")
        for name in names {
            let worker = try XCTUnwrap(pool.worker(name, in: info), "\(name) in \(info.text())")
            XCTAssertGreaterThan(worker["accepted"]?.int64Value ?? 0, 0, worker.text())
            XCTAssertGreaterThan(worker["acceptedwork"]?.doubleValue ?? 0, 0, worker.text())
            XCTAssertTrue(sessions.contains { $0["workers"]?.arrayValue?.contains(.string(name)) == true }, "\(name)'s session")
        }
        let found = try XCTUnwrap(info["totals"]?["blocks"]?.int64Value)
        XCTAssertGreaterThanOrEqual(found, 3)
        // Each miner saw its shares accepted, every nonce it sent starts with a prefix the pool
        // gave it, and no two miners held the same prefix.
        var firstPrefixes = [String]()
        for miner in miners {
            let events = miner.events
            let held = Set(events.filter { $0["event"] == "connect" }.compactMap { $0["nonceprefix"]?.stringValue })
            let shares = events.filter { $0["event"] == "share" }
            XCTAssertTrue(shares.contains { $0["accepted"] == true }, miner.report)
            for share in shares {
                let nonce = share["nonce"]?.stringValue ?? ""
                XCTAssertTrue(held.contains(String(nonce.prefix(4))), "\(miner.name): nonce \(nonce) outside its prefixes \(held)")
            }
            if let first = events.first(where: { $0["event"] == "connect" })?["nonceprefix"]?.stringValue { firstPrefixes.append(first) }
        }
        XCTAssertEqual(firstPrefixes.count, miners.count)
        XCTAssertEqual(Set(firstPrefixes).count, miners.count, "distinct prefixes: \(firstPrefixes)")

        // B takes A's chain over P2P, and every new block pays the pool.
        let tipHeight = try XCTUnwrap(try a.rpc("getblockcount").int64Value)
        XCTAssertGreaterThanOrEqual(tipHeight - startHeight, 3)
        let tip = try XCTUnwrap(try a.rpc("getbestblockhash").stringValue)
        try network.waitAll([b], "B on A's tip \(tip.prefix(16))", timeout: 60) { $0.tipHash == tip }
        for height in (startHeight + 1)...tipHeight {
            let hash = try XCTUnwrap(try a.rpc("getblockhash", [.int(height)]).stringValue)
            let block = try a.rpc("getblock", [.string(hash), 2])
            let coinbase = try XCTUnwrap(block["tx"]?.arrayValue?.first)
            let paid = coinbase["vout"]?.arrayValue?.compactMap { $0["scriptPubKey"]?["address"]?.stringValue } ?? []
            XCTAssertTrue(paid.contains(pool.address), "block \(height) pays \(paid), not the pool's \(pool.address)")
        }
        print("[stratum] three miners: \(tipHeight - startHeight) blocks, \(found) found through the pool, rigs \(names.count)")
    }

    /// `rusty mine --rpc` (getblocktemplate, submitblock) mines the pool's transactions, and
    /// its coinbase takes the subsidy plus their fees.
    func testMiningOverRPCTakesTheMempoolAndItsFees() throws {
        let node = try network.makeNode("solo")
        let funds = try StratumPool.offlineAddress(node)
        try node.start(["--no-listen"])
        try node.waitRPC()
        XCTAssertEqual(try node.rpc("generatetoaddress", [101, .string(funds)]).arrayValue?.count, 101)
        try waitRPC(node, "the wallet at 101") { try $0.rpc("getwalletinfo")["lastprocessedblock"]?["height"] == 101 }
        try node.rpc("walletpassphrase", ["stratum test passphrase", 600])
        var txids = [String]()
        for amount in [1, 2, 3] {
            let recipient = try XCTUnwrap(try node.rpc("getnewaddress").stringValue)
            txids.append(try XCTUnwrap(try node.rpc("sendtoaddress", [.string(recipient), .int(Int64(amount))]).stringValue))
        }
        try waitRPC(node, "three transactions in the pool") { node in
            Set(try node.rpc("getrawmempool").arrayValue?.compactMap(\.stringValue) ?? []) == Set(txids)
        }
        let fees = try txids.map { try XCTUnwrap(baseUnits(try node.rpc("getmempoolentry", [.string($0)])["fees"]?["base"])) }
        XCTAssertTrue(fees.allSatisfy { $0 > 0 }, "\(fees)")

        let payout = try XCTUnwrap(try node.rpc("getnewaddress").stringValue)
        let result = try runProcess(TestPaths.rustyExecutable, [
            "mine", "--network", "regtest", "--rpc", "http://127.0.0.1:\(node.rpcPort)", "--rpc-cookie-file", node.cookieFile.path,
            "--address", payout, "--blocks", "1", "--backend", "simd", "--cpu-threads", "1",
        ], timeout: node.remaining(60))
        XCTAssertEqual(result.status, 0, result.stdoutText + result.stderrText)
        XCTAssertEqual(try node.rpc("getblockcount"), 102, "rusty mine --rpc --blocks 1: \(result.stdoutText) \(result.stderrText)")

        let tip = try XCTUnwrap(try node.rpc("getbestblockhash").stringValue)
        let block = try node.rpc("getblock", [.string(tip), 2])
        let transactions = try XCTUnwrap(block["tx"]?.arrayValue)
        XCTAssertEqual(Set(transactions.dropFirst().compactMap { $0["txid"]?.stringValue }), Set(txids), "the block carries the pool's transactions")
        let coinbase = try XCTUnwrap(transactions.first)
        let outputs = try XCTUnwrap(coinbase["vout"]?.arrayValue)
        let paid = try outputs.map { try XCTUnwrap(baseUnits($0["value"]), "\($0)") }.reduce(0, +)
        // Config/regtest.json: 50,000,000,000 base units a block before the first halving.
        XCTAssertEqual(paid, 50_000_000_000 + fees.reduce(0, +), "the coinbase takes the subsidy and the fees \(fees)")
        XCTAssertTrue(outputs.contains { $0["scriptPubKey"]?["address"]?.stringValue == payout }, coinbase.text())
        XCTAssertEqual(try node.rpc("getrawmempool").arrayValue?.count, 0)
    }

    /// Polls `condition` (bounded by the test's time).
    func waitRPC(_ node: TestNode, _ what: String, timeout: Double = 30, _ condition: (TestNode) throws -> Bool) throws {
        let end = Date().addingTimeInterval(node.remaining(timeout))
        while try !condition(node) {
            guard Date() < end else { throw NetworkTestError("\(node.name): no \(what) within \(Int(timeout)) s") }
            usleep(100_000)
        }
    }
}
