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
        let solvedBlock = solved["block"] == true

        let stale = try StratumScript.run("stale", pool, user: user)
        XCTAssertEqual(stale["stale"], 21, stale.text())
        let block = try XCTUnwrap(stale["block"]?.stringValue)
        // The block the script found is the node's tip, or under it if the solve share was one too.
        XCTAssertEqual(try pool.node.rpc("getblock", [.string(block)])["confirmations"]?.int64Value, 1)

        let abuse = try StratumScript.run("abuse", pool, user: user)
        XCTAssertEqual(abuse["flood"], 5_000, abuse.text())
        print("[stratum] abuse: \(abuse.text())")

        // The accounting matches what the script did: a good share from solve, a block from
        // stale and a good share after the abuse; its refusals by kind.
        let info = try pool.info()
        let worker = try XCTUnwrap(pool.worker(user, in: info), info.text())
        let sent = try XCTUnwrap(abuse["floodsent"])
        let floodUnknown = try XCTUnwrap(sent["unknownjob"]?.int64Value), floodInvalid = try XCTUnwrap(sent["invalid"]?.int64Value)
        XCTAssertEqual(worker["accepted"]?.int64Value, 3, worker.text())
        XCTAssertGreaterThanOrEqual(worker["blocks"]?.int64Value ?? 0, 1, worker.text())
        let rejected = try XCTUnwrap(worker["rejected"], worker.text())
        XCTAssertEqual(rejected["unknown-job"]?.int64Value, 1 + floodUnknown, rejected.text())
        XCTAssertEqual(rejected["invalid"]?.int64Value, 1 + floodInvalid, rejected.text())
        // The solve share's repeat: 22 duplicate, or 21 stale when that share was a block (the tip moved).
        let repeatWasStale = solvedBlock && solved["duplicate"] == 21
        XCTAssertEqual(rejected["stale"]?.int64Value, repeatWasStale ? 2 : 1, rejected.text())
        XCTAssertEqual(rejected["duplicate"]?.int64Value ?? 0, repeatWasStale ? 0 : 1, rejected.text())
        XCTAssertEqual(rejected["low-difficulty"]?.int64Value ?? 0, solved["lowdifficulty"] == 23 ? 1 : 0, rejected.text())
        let totals = try XCTUnwrap(info["totals"])
        XCTAssertGreaterThanOrEqual(totals["rejected"]?["unauthorized"]?.int64Value ?? 0, 1, totals.text())
        XCTAssertGreaterThanOrEqual(totals["blocks"]?.int64Value ?? 0, 1, totals.text())

        // Still a working node: RPC answers, the chain holds the script's blocks, and the
        // pool still hands out a subscription.
        XCTAssertGreaterThanOrEqual(try pool.node.rpc("getblockcount").int64Value ?? 0, 1)
        XCTAssertTrue(pool.node.isRunning)
        _ = try StratumScript.run("solve", pool, user: pool.address + ".after")
    }
}
