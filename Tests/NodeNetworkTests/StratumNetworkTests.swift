import Foundation
import JSONRPC
import TestSupport
import XCTest

/// The node's Stratum pool server as an independent client sees it: Tests/Scripts/stratum_client.py
/// (Python's standard library, its own BLAKE3) solves and submits shares, makes a job stale
/// with a block of its own, and throws malformed lines, a huge line, a flood and a slow reader
/// at the server while an honest connection keeps being answered. The server's accounting
/// (getstratuminfo) must match what the script did.
final class StratumNetworkTests: NetworkTestCase {
    override class var budget: Double { 150 }

    /// The script's own BLAKE3 and share-target arithmetic against the official BLAKE3 vectors
    /// and the regtest genesis header, before any of the tests below trust it.
    func testThePythonClientPassesItsSelfTest() throws {
        let result = try runProcess(try StratumScript.python(), [StratumScript.path.path, "--self-test"], timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertTrue(result.stdoutText.contains("\"blake3_vectors\": 10"), result.stdoutText)
    }

    func testAnIndependentPythonClientMinesAndTheServerSurvivesAbuse() throws {
        // Difficulty 0.5: the share target is twice the PoW limit, so about half the hashes are
        // shares that are not blocks (at 1 every share would also be a block on regtest).
        let pool = try StratumPool.start(try network.makeNode("pool"), difficulty: 0.5, ["--no-listen"])
        let user = pool.address + ".py"

        let solved = try StratumScript.run("solve", pool, user: user)
        XCTAssertEqual(solved["accepted"], 1, solved.text())
        XCTAssertEqual(solved["unknownjob"], 21, solved.text())
        XCTAssertEqual(solved["outsideprefix"], 20, solved.text())
        XCTAssertEqual(solved["unauthorized"], 24, solved.text())
        // At 0.5 the script can pick a share that is not a block, so its repeat meets the same tip.
        XCTAssertEqual(solved["block"], false, solved.text())
        XCTAssertEqual(solved["duplicate"], 22, solved.text())

        try pool.waitForJobOnTip()
        let stale = try StratumScript.run("stale", pool, user: user)
        XCTAssertEqual(stale["stale"], 21, stale.text())
        let block = try XCTUnwrap(stale["block"]?.stringValue)
        XCTAssertEqual(try pool.node.rpc("getbestblockhash").stringValue, block, "the script's block is the node's tip")

        try pool.waitForJobOnTip()  // the stale script's block moved the tip
        let abuse = try StratumScript.run("abuse", pool, user: user)
        print("[stratum] abuse: \(abuse.text())")
        XCTAssertEqual(abuse["sharefloodanswers"], 5_000, abuse.text())
        // The huge line's error answer may be lost to the reset of the close; the close is asserted by the script.
        XCTAssertLessThanOrEqual(abuse["garbageanswers"]?.int64Value ?? 0, 5_000, abuse.text())

        // The accounting matches what the script did: good shares from solve, stale (a block)
        // and abuse (the share flood's first and the honest miner's last); refusals by kind.
        let info = try pool.info()
        let worker = try XCTUnwrap(pool.worker(user, in: info), info.text())
        func count(_ key: String) throws -> Int64 { try XCTUnwrap(abuse[key]?.int64Value, key) }
        XCTAssertEqual(worker["accepted"]?.int64Value, 4, worker.text())
        XCTAssertGreaterThanOrEqual(worker["blocks"]?.int64Value ?? 0, 1, worker.text())
        let rejected = try XCTUnwrap(worker["rejected"], worker.text())
        XCTAssertEqual(rejected["duplicate"]?.int64Value, 1 + (try count("sharefloodduplicate")), rejected.text())
        XCTAssertEqual(rejected["unknown-job"]?.int64Value, 1 + (try count("sharefloodunknownjob")), rejected.text())
        // Counted from what the server judged: answers lost to the reset of its close are still counted there.
        XCTAssertEqual(rejected["invalid"]?.int64Value, 1 + (try count("garbageinvalidjudged")), rejected.text())
        XCTAssertEqual(rejected["stale"]?.int64Value, 1, rejected.text())
        let totals = try XCTUnwrap(info["totals"])
        XCTAssertGreaterThanOrEqual(totals["rejected"]?["unauthorized"]?.int64Value ?? 0, 1, totals.text())
        XCTAssertGreaterThanOrEqual(totals["blocks"]?.int64Value ?? 0, 1, totals.text())

        // Still a working node: RPC answers, the chain holds the script's blocks, and the
        // pool still hands out a subscription.
        XCTAssertGreaterThanOrEqual(try pool.node.rpc("getblockcount").int64Value ?? 0, 1)
        XCTAssertTrue(pool.node.isRunning)
        try pool.waitForJobOnTip()  // the honest miner's last share may have been a block
        _ = try StratumScript.run("solve", pool, user: pool.address + ".after")
    }

    /// `rusty bench stratum` (the load generator) against a pool pinned at 0.5: every share it
    /// sends is a real one the pool accepts, none is a block, and the pool counts them too.
    func testTheLoadBenchSubmitsRealSharesThePoolAccepts() throws {
        let pool = try StratumPool.start(try network.makeNode("pool"), difficulty: 0.5, ["--no-listen"])
        let result = try runProcess(TestPaths.rustyExecutable, [
            "bench", "stratum", "--url", pool.url, "--user", pool.address + ".load", "--connections", "5", "--seconds", "1", "--json",
        ], timeout: pool.node.remaining(60))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let report = try JSONParser.parse(Array(result.stdoutText.utf8))
        let accepted = try XCTUnwrap(report["accepted"]?.int64Value, report.text())
        XCTAssertGreaterThan(accepted, 0, report.text())
        XCTAssertEqual(report["rejected"], .object([:]), report.text())
        XCTAssertEqual(report["disconnects"], 0, report.text())
        let p50 = try XCTUnwrap(report["latencyP50Milliseconds"]?.doubleValue), p99 = try XCTUnwrap(report["latencyP99Milliseconds"]?.doubleValue)
        XCTAssertLessThanOrEqual(p50, p99)
        XCTAssertLessThanOrEqual(p99, try XCTUnwrap(report["latencyMaxMilliseconds"]?.doubleValue))
        // The pool saw at least the measured shares (the bench also submits before and after its window).
        let totals = try XCTUnwrap(try pool.info()["totals"])
        XCTAssertGreaterThanOrEqual(totals["accepted"]?.int64Value ?? 0, accepted, totals.text())
        XCTAssertEqual(totals["blocks"], 0, "the bench skips shares that are blocks: \(totals.text())")
        XCTAssertEqual(try pool.node.rpc("getblockcount"), 0)
    }
}
