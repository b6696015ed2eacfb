import Foundation
import XCTest

/// Several nodes on a common chain: partitions that mine apart and then join converge on the
/// most-work chain, and a block mined at one end of a line of five reaches the other end.
final class TopologyTests: NetworkTestCase {
    nonisolated(unsafe) static var fixture: ClassFixture<ChainFixture>?

    override class func setUp() {
        super.setUp()
        fixture = ClassFixture { try ChainFixture.make("topology", blocks: 150, transactionsPerBlock: 2, seed: 0x5eed_0002) }
    }

    override class func tearDown() {
        fixture?.value?.remove()
        fixture = nil
        super.tearDown()
    }

    private func chain() throws -> ChainFixture { try XCTUnwrap(Self.fixture).get() }

    func testPartitionsConvergeOnTheMostWorkChain() throws {
        let chain = try chain()
        let a1 = try network.makeNode("a1", from: chain.template), a2 = try network.makeNode("a2", from: chain.template)
        let b1 = try network.makeNode("b1", from: chain.template), b2 = try network.makeNode("b2", from: chain.template)
        try a1.start(["--listen"])
        try b1.start(["--listen"])
        try a1.waitListening()
        try b1.waitListening()
        try a2.start(["--listen", "--addnode", a1.endpoint])
        try b2.start(["--listen", "--addnode", b1.endpoint])
        let all = [a1, a2, b1, b2]
        try network.waitAll(all, "each partition connected on the common chain", timeout: 60) {
            // At least: a listener also dials back the address its peer advertised.
            $0.peers.count >= 1 && $0.height == chain.height && $0.tipHash == chain.tipHash
        }

        // Each side mines apart; b mines more blocks at the same (limit) difficulty: more work.
        // The miner's partner is restarted after it, so it dials a node that already listens:
        // retrying a refused dial is testConnectPeerThatComesUpLaterIsConnectedPromptly's
        // subject, not this test's.
        let started = Date()
        func mineApart(_ miner: TestNode, _ partner: TestNode, blocks: Int) throws -> String {
            try partner.stop()
            try miner.stop()
            let tip = try miner.mine(blocks)
            try miner.start(["--listen"])
            try miner.waitListening()
            try partner.start(["--listen", "--addnode", miner.endpoint])
            return tip
        }
        // More blocks than one announcement carries (8 headers), so the join also takes the
        // path where an announcement does not connect and the receiver asks for the rest.
        let aTip = try mineApart(a1, a2, blocks: 12)
        let bTip = try mineApart(b1, b2, blocks: 15)
        XCTAssertNotEqual(aTip, bTip)
        try network.waitAll([a1, a2], "side a on its own 12 blocks", timeout: 60) { $0.tipHash == aTip && $0.height == chain.height + 12 }
        try network.waitAll([b1, b2], "side b on its own 15 blocks", timeout: 60) { $0.tipHash == bTip && $0.height == chain.height + 15 }

        // Join: a2 comes back connected to both sides.
        try a2.stop()
        try a2.start(["--listen", "--addnode", a1.endpoint, "--addnode", b1.endpoint])
        print("[time] partitions: mined and resynced apart in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        let joined = Date()
        try network.waitAll(all, "every node on side b's chain", timeout: 60) { $0.tipHash == bTip && $0.height == chain.height + 15 }
        print("[time] partitions: all four on side b's tip \(String(format: "%.1f", Date().timeIntervalSince(joined))) s after the join")
        for node in [a1, a2] {
            let lines = logLines(node, containing: "reorganization: fork at height \(chain.height)")
            XCTAssertFalse(lines.isEmpty, "\(node.name) logged its reorganization from side a's chain to side b's")
        }
        for node in [b1, b2] {
            XCTAssertTrue(logLines(node, containing: "reorganization").isEmpty, "\(node.name) had the most work all along: no reorganization")
        }
        // The reorganized UTXO sets (side a's blocks undone, side b's connected) are exactly
        // the set of a node that never left side b's chain.
        for node in all { try node.stop() }
        let reference = try b1.utxoInfo()
        XCTAssertEqual(reference["bestHash"] as? String, bTip)
        for node in [a1, a2, b2] {
            let info = try node.utxoInfo()
            XCTAssertEqual(info["bestHash"] as? String, bTip, "\(node.name)'s stored best block")
            XCTAssertEqual(info["digest"] as? String, reference["digest"] as? String, "\(node.name)'s UTXO digest vs b1's")
        }
    }

    func testConnectPeerThatComesUpLaterIsConnectedPromptly() throws {
        let chain = try chain()
        let later = try network.makeNode("later", from: chain.template)
        let dialer = try network.makeNode("dialer", from: chain.template)
        // The dialer's first attempts are refused (nothing listens yet); it must keep trying
        // every few seconds (12.6 Connections; the node retries manual peers every 2 s).
        try dialer.start(["--connect", later.endpoint])
        try dialer.wait("a first status", timeout: 30) { _ in true }
        sleep(3)
        try later.start(["--listen"])
        try later.waitListening()
        let up = Date()
        try dialer.wait("the --connect peer connected once it listens", timeout: 15) { $0.outboundCount == 1 }
        print("[reconnect] connected \(String(format: "%.1f", Date().timeIntervalSince(up))) s after the peer started listening")
    }

    func testConnectionToItselfIsDroppedAndNotRetried() throws {
        let chain = try chain()
        let node = try network.makeNode("self", from: chain.template)
        // Its own address as an --addnode peer: the version comes back with its own nonce (12.4 rule 4).
        try node.start(["--listen", "--addnode", node.endpoint])
        let found = waitForLog(node, timeout: 15) { $0.contains("connected to self") }
        XCTAssertNotNil(found, "the node noticed it connected to itself")
        // Manual peers are retried every 2 s; a self-connection must not be (three retry periods).
        sleep(6)
        let lines = logLines(node, containing: "disconnected: connected to self (")
        print("[self] \(lines.count) self-connection(s) in 6 s after the first: \(lines.first.map(String.init) ?? "none")")
        XCTAssertEqual(lines.count, 1, "dialled itself once, not again")
        XCTAssertEqual(node.status()?.peers.count, 0)
    }

    func testBlockMinedAtOneEndReachesEveryNodeOfALine() throws {
        let chain = try chain()
        let nodes = try (1...5).map { try network.makeNode("n\($0)", from: chain.template) }
        // n1 -> n2 <- n3 -> n4 <- n5: n2 and n4 listen, the others only --connect. So no node
        // learns a listening address it could dial on its own (a listener would advertise
        // itself to its outbound peers, whose address managers would then add links), and
        // the line stays a line: the block has to be relayed across four hops.
        try nodes[1].start(["--listen"])
        try nodes[3].start(["--listen"])
        try nodes[1].waitListening()
        try nodes[3].waitListening()
        try nodes[0].start(["--connect", nodes[1].endpoint])
        try nodes[2].start(["--connect", nodes[1].endpoint, "--connect", nodes[3].endpoint])
        try nodes[4].start(["--connect", nodes[3].endpoint])
        let expectedPeers = [1, 2, 2, 2, 1]
        for (node, peers) in zip(nodes, expectedPeers) {
            try node.wait("\(peers) peers on the common chain", timeout: 60) { $0.peers.count == peers && $0.tipHash == chain.tipHash }
        }

        try nodes[0].stop()
        let tip = try nodes[0].mine(1)
        let restarted = Date()
        try nodes[0].start(nodes[0].arguments)
        try network.waitAll(nodes, "the new block everywhere", timeout: 60) { $0.tipHash == tip && $0.height == chain.height + 1 }
        print("[time] line of 5: the block reached n5 within \(String(format: "%.1f", Date().timeIntervalSince(restarted))) s of n1's restart")
        XCTAssertFalse(logLines(nodes[4], containing: "new tip: height \(chain.height + 1) \(tip)").isEmpty, "n5 logged the new tip")
        // The line stayed a line, so the block came through n2, n3 and n4.
        for (node, peers) in zip(nodes, expectedPeers) {
            // n1's status may predate its reconnection by up to a second.
            try node.wait("still exactly \(peers) peers", timeout: 10) { $0.peers.count == peers }
        }

        // And back from the other end, ten blocks at once: more than one announcement (8
        // headers) carries, so each hop must ask for the headers it is missing.
        try nodes[4].stop()
        let tenTip = try nodes[4].mine(10)
        let again = Date()
        try nodes[4].start(nodes[4].arguments)
        try network.waitAll(nodes, "the ten blocks everywhere", timeout: 60) { $0.tipHash == tenTip && $0.height == chain.height + 11 }
        print("[time] line of 5: ten blocks from n5 reached n1 within \(String(format: "%.1f", Date().timeIntervalSince(again))) s")
    }
}
