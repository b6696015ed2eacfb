import Foundation
import JSONRPC
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `rusty rpc` (bitcoin-cli's habits) and the independent Python client against real
/// `rusty node` processes: output, exit codes, credentials, --rpcwait, and -txindex lookups.
final class RPCClientTests: NetworkTestCase {
    override class var budget: Double { 150 }

    /// A chain whose last blocks carry transactions besides their coinbases (regtest
    /// coinbases mature after 100 blocks), for the transaction index.
    nonisolated(unsafe) static var fixture: ClassFixture<ChainFixture>?

    override class func setUp() {
        super.setUp()
        fixture = ClassFixture { try ChainFixture.make("rpcclient", blocks: 104, transactionsPerBlock: 3, seed: 0x5eed_0c11) }
    }

    override class func tearDown() {
        fixture?.value?.remove()
        fixture = nil
        super.tearDown()
    }

    func startNode(_ extra: [String] = [], from template: URL? = nil) throws -> TestNode {
        let node = try network.makeNode("rpc", from: template)
        try node.start(["--no-listen"] + extra)
        try node.waitRPC()
        return node
    }

    /// `rusty rpc` against `node` (its datadir and port) with `arguments`.
    func cli(_ node: TestNode, _ arguments: [String], stdin: String? = nil, timeout: Double = 30) throws -> ProcessResult {
        try cli(["--regtest", "--datadir", node.root.path, "--rpcport", String(node.rpcPort)] + arguments, stdin: stdin, timeout: timeout)
    }

    func cli(_ arguments: [String], stdin: String? = nil, timeout: Double = 30) throws -> ProcessResult {
        let result = try runProcess(TestPaths.rustyExecutable, ["rpc"] + arguments, stdin: stdin.map { Data($0.utf8) }, timeout: timeout)
        XCTAssertFalse(result.timedOut, "rusty rpc \(arguments.joined(separator: " ")) ran past \(timeout) s")
        return result
    }

    func testOutputExitCodesAndSpellings() throws {
        let node = try startNode()
        let genesis = try XCTUnwrap(node.rpc("getblockhash", [0]).stringValue)

        let count = try cli(node, ["getblockcount"])
        XCTAssertEqual(count.status, 0, count.stderrText)
        XCTAssertEqual(count.stdoutText, "0\n")
        // A string result is printed raw, without JSON quotes.
        let hash = try cli(node, ["getblockhash", "0"])
        XCTAssertEqual(hash.stdoutText, genesis + "\n")
        // bitcoin-cli's single-dash spellings, and named parameters.
        let named = try cli(["-regtest", "-datadir=" + node.root.path, "-rpcport=\(node.rpcPort)", "-named", "getblockhash", "height=0"])
        XCTAssertEqual(named.status, 0, named.stderrText)
        XCTAssertEqual(named.stdoutText, genesis + "\n")
        // Objects are pretty-printed with two-space indentation, keys in the server's order.
        let info = try cli(node, ["getblockchaininfo"])
        XCTAssertTrue(info.stdoutText.hasPrefix("{\n  \"chain\": \"regtest\",\n  \"blocks\": 0,\n"), info.stdoutText)
        // Parameters from standard input, the method too when none is on the command line.
        let piped = try cli(node, ["--stdin"], stdin: "getblockhash\n0\n")
        XCTAssertEqual(piped.stdoutText, genesis + "\n", piped.stderrText)

        // An error answer: bitcoin-cli's text on standard error, exit abs(code) (low 8 bits).
        let outOfRange = try cli(node, ["getblockhash", "-1"])
        XCTAssertEqual(outOfRange.status, 8)
        XCTAssertEqual(outOfRange.stderrText, "error code: -8\nerror message:\nBlock height out of range\n")
        XCTAssertEqual(outOfRange.stdoutText, "")
        let unknown = try cli(node, ["nosuchmethod"])
        XCTAssertEqual(unknown.status, Int32(32601 & 0xFF))
        XCTAssertTrue(unknown.stderrText.hasPrefix("error code: -32601\nerror message:\n"), unknown.stderrText)
        // A JSON parameter of the wrong type reaches the server as JSON (a number, not "abc").
        let wrongType = try cli(node, ["getblockhash", "\"0\""])
        XCTAssertEqual(wrongType.status, 3, wrongType.stderrText)
    }

    func testCredentialsAndConnectionErrors() throws {
        let node = try startNode()
        // Wrong password, and a cookie file that is not the node's.
        let wrong = try cli(node, ["--rpcuser", "__cookie__", "--rpcpassword", String(repeating: "0", count: 64), "getblockcount"])
        XCTAssertEqual(wrong.status, 1)
        XCTAssertEqual(wrong.stderrText, "error: Authorization failed: Incorrect rpcuser or rpcpassword\n")
        let staleCookie = network.base.appendingPathComponent("stale.cookie")
        try Data("__cookie__:\(String(repeating: "ab", count: 32))".utf8).write(to: staleCookie)
        let stale = try cli(node, ["--rpccookiefile", staleCookie.path, "getblockcount"])
        XCTAssertEqual(stale.status, 1)
        XCTAssertTrue(stale.stderrText.contains("Authorization failed"), stale.stderrText)
        // The right cookie given explicitly works.
        let explicit = try cli(["--regtest", "--rpcport", String(node.rpcPort), "--rpccookiefile", node.cookieFile.path, "getblockcount"])
        XCTAssertEqual(explicit.stdoutText, "0\n", explicit.stderrText)
        // No cookie where the datadir says.
        let elsewhere = network.base.appendingPathComponent("empty-datadir")
        let missing = try cli(["--regtest", "--datadir", elsewhere.path, "--rpcport", String(node.rpcPort), "getblockcount"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderrText.contains("Could not locate RPC credentials"), missing.stderrText)
        XCTAssertTrue(missing.stderrText.contains(elsewhere.path + "/regtest/.cookie"), missing.stderrText)
        // Nothing listening.
        let closedPort = try FreePort.allocate()
        let refused = try cli(["--regtest", "--rpcpassword", "x", "--rpcport", String(closedPort), "getblockcount"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderrText.hasPrefix("error: Could not connect to the server 127.0.0.1:\(closedPort)"), refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("Make sure the rusty node is running"), refused.stderrText)
        // --rpcwait gives up after --rpcwaittimeout.
        let started = Date()
        let gaveUp = try cli(["--regtest", "--rpcpassword", "x", "--rpcport", String(closedPort), "--rpcwait", "--rpcwaittimeout", "2", "getblockcount"])
        XCTAssertEqual(gaveUp.status, 1)
        XCTAssertTrue(gaveUp.stderrText.contains("Could not connect"), gaveUp.stderrText)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 1.9)
    }

    func testRPCWaitForANodeThatStartsLater() throws {
        let node = try network.makeNode("late")
        // The client starts first: no server and no cookie yet.
        let client = Process()
        client.executableURL = TestPaths.rustyExecutable
        client.arguments = ["rpc", "--regtest", "--datadir", node.root.path, "--rpcport", String(node.rpcPort),
                            "--rpcwait", "--rpcwaittimeout", "60", "getblockcount"]
        let output = Pipe()
        client.standardOutput = output
        client.standardError = FileHandle.nullDevice
        try client.run()
        usleep(1_500_000)
        XCTAssertTrue(client.isRunning, "rusty rpc --rpcwait returned before the node started")
        try node.start(["--no-listen"])
        XCTAssertTrue(TestSupport.waitBounded(client, seconds: node.remaining(60)), "rusty rpc --rpcwait did not return")
        XCTAssertEqual(client.terminationStatus, 0)
        XCTAssertEqual(String(decoding: readToEnd(output.fileHandleForReading), as: UTF8.self), "0\n")
    }

    func testPythonStandardLibraryClient() throws {
        // .ci/run and scripts/setup.sh install Debian's python3: the second client must run.
        let python = try XCTUnwrap(["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.isExecutableFile),
                                   "python3 is not installed")
        let node = try startNode()
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/rpc-client-check.py")
        let result = try runProcess(URL(fileURLWithPath: python),
                                    [script.path, "--datadir", node.root.path, "--network", "regtest", "--rpcport", String(node.rpcPort)],
                                    timeout: node.remaining(60))
        XCTAssertEqual(result.status, 0, result.stdoutText + result.stderrText)
        XCTAssertTrue(result.stdoutText.contains("all 8 checks passed"), result.stdoutText)
        // It fails, naming the check, against a server with other credentials.
        let wrong = try runProcess(URL(fileURLWithPath: python),
                                   [script.path, "--rpcpassword", "wrong", "--rpcport", String(node.rpcPort)], timeout: node.remaining(60))
        XCTAssertEqual(wrong.status, 1)
        XCTAssertTrue(wrong.stderrText.hasPrefix("FAIL single calls"), wrong.stderrText)
    }

    func testTransactionIndexAnswersGetRawTransaction() throws {
        let chain = try XCTUnwrap(Self.fixture).get()
        let node = try startNode(["--txindex"], from: chain.template)
        // The index builds in the background; getindexinfo says when it has reached the tip.
        let end = Date().addingTimeInterval(node.remaining(60))
        var info = JSON.null
        while Date() < end {
            info = try node.rpc("getindexinfo")
            if info["txindex"]?["synced"] == true { break }
            usleep(100_000)
        }
        XCTAssertEqual(info["txindex"]?["synced"], true, "\(info)")
        XCTAssertEqual(info["txindex"]?["best_block_height"]?.int64Value, Int64(chain.height))
        let filtered = try cli(node, ["getindexinfo", "txindex"])
        XCTAssertTrue(filtered.stdoutText.contains("\"best_block_height\": \(chain.height)"), filtered.stdoutText)
        XCTAssertEqual(try cli(node, ["getindexinfo", "coinstatsindex"]).stdoutText, "{}\n")

        // A transaction of the tip block, found by txid alone.
        let block = try node.rpc("getblock", [.string(chain.tipHash)])
        let txids = try XCTUnwrap(block["tx"]?.arrayValue?.compactMap(\.stringValue))
        XCTAssertGreaterThan(txids.count, 1, "the tip block carries transactions besides its coinbase")
        let txid = try XCTUnwrap(txids.last)
        let raw = try cli(node, ["getrawtransaction", txid])
        XCTAssertEqual(raw.status, 0, raw.stderrText)
        let hex = raw.stdoutText.trimmingCharacters(in: .newlines)
        XCTAssertEqual(try node.rpc("decoderawtransaction", [.string(hex)])["txid"]?.stringValue, txid)
        let verbose = try cli(node, ["getrawtransaction", txid, "1"])
        let object = try JSONParser.parse(verbose.stdoutText)
        XCTAssertEqual(object["blockhash"]?.stringValue, chain.tipHash)
        XCTAssertEqual(object["confirmations"]?.int64Value, 1)
        // An unknown txid is not found (bitcoind's -5).
        let unknown = try cli(node, ["getrawtransaction", String(repeating: "ab", count: 32)])
        XCTAssertEqual(unknown.status, 5, unknown.stderrText)
    }
}
