import Foundation
import TestSupport
import XCTest

/// Fresh nodes sync a 2,100-block chain over loopback TCP, from one peer and from three at
/// once, and after a SIGKILL mid-sync; each ends with exactly verify-chain's UTXO set.
final class SyncTests: NetworkTestCase {
    nonisolated(unsafe) static var fixture: ClassFixture<ChainFixture>?

    override class func setUp() {
        super.setUp()
        // One transaction per block (about 4,700 inputs in all): a UTXO digest that is more than
        // coinbases, at a generation cost (about 25 s in a debug build) paid once per class.
        fixture = ClassFixture { try ChainFixture.make("sync", blocks: 2_100, transactionsPerBlock: 1, seed: 0x5eed_0001) }
    }

    override class func tearDown() {
        fixture?.value?.remove()
        fixture = nil
        super.tearDown()
    }

    private func chain() throws -> ChainFixture { try XCTUnwrap(Self.fixture).get() }

    private func atTip(_ chain: ChainFixture) -> (NodeStatus) -> Bool {
        { $0.height == chain.height && $0.tipHash == chain.tipHash }
    }

    /// `--backend opencl` (PoCL here, a GPU where there is one): the downloaded blocks'
    /// signatures go through the OpenCL verifier, to the same state.
    func testFreshNodeSyncsWithTheOpenCLBackend() throws {
        let chain = try chain()
        let source = try network.makeNode("source", from: chain.template)
        try source.start(["--listen"])
        try source.wait("at the chain's tip", timeout: 60, atTip(chain))
        let fresh = try network.makeNode("opencl")
        try fresh.start(["--connect", source.endpoint, "--backend", "opencl"])
        try fresh.wait("sync to the tip", timeout: 150, atTip(chain))
        XCTAssertNotNil(waitForLog(fresh, timeout: 5) { $0.contains("signatures verified by opencl(") }, "the OpenCL verifier was chosen")
        try fresh.stop()
        try assertChainState(fresh, height: chain.height, tipHash: chain.tipHash, digest: chain.utxoDigest)
    }

    func testFreshNodeSyncsFromOnePeer() throws {
        let chain = try chain()
        let source = try network.makeNode("source", from: chain.template)
        try source.start(["--listen"])
        try source.wait("at the chain's tip", timeout: 60, atTip(chain))

        let fresh = try network.makeNode("fresh")
        let started = Date()
        try fresh.start(["--connect", source.endpoint])
        try fresh.wait("sync to the tip", timeout: 150, atTip(chain))
        try fresh.wait("state synced", timeout: 15) { $0.state == "synced" }
        // `rusty node --status --json` reports the same running node.
        let report = try runProcess(TestPaths.rustyExecutable, ["node", "--status", "--json", "--network", "regtest", "--datadir", fresh.root.path],
                                    timeout: fresh.remaining(30))
        XCTAssertEqual(report.status, 0, report.stderrText)
        let reported = (try? JSONSerialization.jsonObject(with: Data(report.stdoutText.utf8)) as? [String: Any])?["status"] as? [String: Any]
        XCTAssertEqual((reported?["height"] as? NSNumber)?.intValue, chain.height, "node --status height: \(report.stdoutText)")
        XCTAssertEqual(reported?["tipHash"] as? String, chain.tipHash)
        XCTAssertEqual((reported?["pid"] as? NSNumber)?.int32Value, fresh.pid)
        print("[time] one peer: \(chain.height) blocks synced in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        // Logged by the node's next timer tick after the tip, so it may trail the status file.
        XCTAssertNotNil(waitForLog(fresh, timeout: 5) { $0.contains("sync: caught up at height \(chain.height)") }, "debug.log has the caught-up line")
        // SIGINT stops as gracefully as SIGTERM (exit 0), and the last status says so.
        let pid = fresh.pid
        try fresh.stop(signal: SIGINT)
        let final = try XCTUnwrap(fresh.lastStatus())
        XCTAssertEqual(final.state, "stopped")
        XCTAssertEqual(final.pid, pid)
        XCTAssertEqual(final.height, chain.height)
        try assertChainState(fresh, height: chain.height, tipHash: chain.tipHash, digest: chain.utxoDigest)
    }

    func testFreshNodeSyncsFromThreePeersAtOnce() throws {
        let chain = try chain()
        let sources = try (1...3).map { try network.makeNode("source\($0)", from: chain.template) }
        for source in sources { try source.start(["--listen"]) }
        try network.waitAll(sources, "sources at the tip", timeout: 60, atTip(chain))

        let fresh = try network.makeNode("fresh")
        let started = Date()
        try fresh.start(sources.flatMap { ["--connect", $0.endpoint] })
        var peakPeers = 0
        try fresh.wait("sync to the tip", timeout: 150) { status in
            peakPeers = max(peakPeers, status.peers.count)
            return self.atTip(chain)(status)
        }
        print("[time] three peers: \(chain.height) blocks synced in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        try fresh.wait("three outbound peers", timeout: 20) { $0.outboundCount == 3 && $0.peers.count == 3 }
        // All three handshakes happened (each source logged as an outbound peer of the fresh node).
        for source in sources {
            XCTAssertFalse(logLines(fresh, containing: "connected: \(source.endpoint) outbound").isEmpty, "fresh node connected to \(source.name)")
        }
        print("[peers] most peers seen during the sync: \(peakPeers)")
        // "At once": the blocks came from more than one of them (each source's bytes sent,
        // against the chain's size). The sources' status files lag by up to a second.
        sleep(2)
        let sent = sources.map { $0.status()?.bytesSent ?? -1 }
        print("[peers] bytes sent by each source: \(sent) (chain: \(chain.bytes) bytes)")
        XCTAssertGreaterThanOrEqual(sent.filter { $0 > chain.bytes / 20 }.count, 2,
                                    "at least two sources served a real share (over 5%) of the chain's blocks")
        try fresh.stop()
        try assertChainState(fresh, height: chain.height, tipHash: chain.tipHash, digest: chain.utxoDigest)
    }

    func testNodeKilledMidSyncRestartsAndCompletes() throws {
        let chain = try chain()
        let source = try network.makeNode("source", from: chain.template)
        try source.start(["--listen"])
        try source.wait("at the chain's tip", timeout: 60, atTip(chain))

        let fresh = try network.makeNode("fresh")
        try fresh.start(["--connect", source.endpoint])
        // A debug build syncs this chain in about two seconds once it has the headers, faster
        // than the status file is rewritten (every second). So the kill is timed from the
        // log: the first progress line ("sync: height H of B") is written within half a
        // second of the headers, as block download starts; a quarter of a second later the
        // node is downloading and connecting blocks (over a second from the end).
        let progress = waitForLog(fresh, timeout: 120, poll: 0.01) { $0.contains("sync: height ") }
        XCTAssertNotNil(progress, "the node logged sync progress")
        usleep(250_000)
        fresh.kill()
        print("[kill] SIGKILL right after: \(progress.map(String.init) ?? "no progress line")")
        // Read the log once the process is gone: it must not have reached the tip before the kill.
        XCTAssertTrue(logLines(fresh, containing: "new tip: height \(chain.height)").isEmpty, "killed before reaching the tip")

        try fresh.start(["--connect", source.endpoint])
        let resumed = try fresh.wait("a first status after the restart", timeout: 60, poll: 0.01) { _ in true }
        print("[kill] restarted at height \(resumed.height)")
        XCTAssertLessThan(resumed.height, chain.height, "the restarted node still had blocks to fetch (the kill was mid-sync)")
        try fresh.wait("sync to the tip after the restart", timeout: 150, atTip(chain))
        try fresh.stop()
        try assertChainState(fresh, height: chain.height, tipHash: chain.tipHash, digest: chain.utxoDigest)
    }
}
