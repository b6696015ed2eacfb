import ChainParams
import Ed25519
import Foundation
import JSONRPC
import Masternodes
import Primitives
import TestSupport
import Wire
import XCTest

/// Five regtest nodes, three of them masternodes registered on chain by the test (keys it
/// knows, collateral from coins mined to its own key): every masternode authenticates at
/// its peers, a block mined at a non-masternode node reaches the masternodes before the
/// other non-masternode node, and a peer claiming a masternode's id without its operator
/// key (forged, or relayed from a real masternode's answer) is refused.
final class MasternodeNetworkTests: MempoolNetworkTestCase {
    override class var budget: Double { 420 }
    /// Announcements to non-masternode peers wait 2 s: on a loaded machine the masternodes
    /// still connect the block well before (the order is by log timestamps on one clock).
    static let relayDelay = ["--masternoderelaydelay", "2000"]

    func testMasternodesAuthenticateAndReceiveBlocksFirst() throws {
        let parameters = try MasternodeParameters(ChainParameters.builtIn("regtest"))
        let funding = FundingKey()
        let a = try network.makeNode("a"), b = try network.makeNode("b")
        let nodes = try (1...3).map { try network.makeNode("m\($0)") }
        var masternodes = (1...3).map { TestMasternode(name: "m\($0)", index: UInt8($0)) }

        try a.start(["--listen"] + Self.fastRelay + Self.relayDelay)
        try a.waitListening()
        try a.waitRPC()
        XCTAssertEqual(try a.rpc("generatetoaddress", [103, .string(funding.address)]).arrayValue?.count, 103)
        for index in masternodes.indices {
            let (coin, spent) = try a.coinbaseOutput(height: index + 1)
            let registration = try masternodes[index].registration(
                spending: coin, spent, funding: funding, collateral: parameters.collateral,
                service: ServiceAddress(ipv4: (127, 0, 0, 1), port: UInt16(nodes[index].port)))
            let txid = try a.rpc("sendrawtransaction", [.string(HexCoding.encode(registration.encoded))])
            XCTAssertEqual(txid.stringValue, registration.txid.hex)
            masternodes[index].proTxHash = registration.txid
        }
        let registeredHeight = 104
        let readyHeight = registeredHeight + Int(parameters.registrationMaturity)
        XCTAssertEqual(try a.rpc("generatetoaddress", [.int(readyHeight - 103), .string(funding.address)]).arrayValue?.count,
                       readyHeight - 103)
        let ids = masternodes.compactMap { $0.proTxHash?.hex }

        // A full mesh, each node dialling the ones started before it and no others (--connect:
        // no address-manager connections, whose version messages would tell b of the block
        // outside the relay being measured); the masternodes prove themselves.
        try b.start(["--listen", "--connect", a.endpoint] + Self.fastRelay + Self.relayDelay)
        for (index, node) in nodes.enumerated() {
            let keyFile = node.root.appendingPathComponent("operator.json").path
            try masternodes[index].operatorKeys.write(to: keyFile)
            let earlier = [a, b] + nodes[..<index]
            try node.start(["--listen", "--masternode", "--operator-key-file", keyFile] + earlier.flatMap { ["--connect", $0.endpoint] }
                           + Self.fastRelay + Self.relayDelay)
        }
        let everyone = [a, b] + nodes
        for node in everyone { try node.waitRPC() }
        try waitHeight(everyone, readyHeight)
        for (index, node) in nodes.enumerated() {
            let status = try poll(node, "masternode READY", "masternode", ["status"]) { $0["state"]?.stringValue == "READY" }
            XCTAssertEqual(status["proTxHash"]?.stringValue, ids[index])
            XCTAssertEqual(status["registeredHeight"], .int(registeredHeight))
            XCTAssertEqual(status["service"]?.stringValue, "127.0.0.1:\(node.port)")
        }
        XCTAssertThrowsError(try b.rpc("masternode", ["status"])) { XCTAssertEqual(self.code($0), -32603) }

        // Each node sees every masternode but itself authenticated among its peers.
        for (node, own) in zip(everyone, [nil, nil] + ids) {
            let expected = Set(ids.filter { $0 != own })
            try poll(node, "authenticated masternode peers \(expected.count)", "getpeerinfo") { peers in
                Set(peers.arrayValue?.compactMap { $0["masternode"]?.stringValue } ?? []) == expected
            }
        }

        // A block mined at a (not a masternode) reaches the three masternodes before b.
        let hash = try XCTUnwrap(try a.rpc("generatetoaddress", [1, .string(funding.address)]).arrayValue?.first?.stringValue)
        try waitHeight(everyone, readyHeight + 1)
        let connectedAt = try everyone.map { try tipTime($0, height: readyHeight + 1, hash: hash) }
        let masternodeTimes = connectedAt[2...], bTime = connectedAt[1]
        for (node, time) in zip(nodes, masternodeTimes) {
            XCTAssertLessThan(time, bTime, "\(node.name) connected the block at \(time), b at \(bTime): b should be last")
        }
        // Every sender holds b's announcement back for the delay (b's own log shows when it first heard).
        let aTime = connectedAt[0]
        XCTAssertGreaterThanOrEqual(bTime.timeIntervalSince(aTime), 1.9, "b connected the block \(bTime.timeIntervalSince(aTime)) s after a mined it")
        let lead = masternodeTimes.map { Int(bTime.timeIntervalSince($0) * 1000) }
        print("masternode-first relay: b connected the block \(lead) ms after masternodes m1, m2, m3")
        let order = logLines(a, containing: "block \(hash) announced to masternode peers")
        XCTAssertEqual(order.count, 1, "a's announcement order: \(order)")
        XCTAssertTrue(order.first?.contains("other peers after 2000 ms") == true, "\(order)")

        try impersonationFails(at: a, victim: nodes[0], victimID: try XCTUnwrap(masternodes[0].proTxHash), forgerSeed: funding.seed)
    }

    /// A raw peer claiming `victimID` is disconnected, whether it signs with a key of its own
    /// or relays the real masternode's answer to the challenge it was given.
    func impersonationFails(at node: TestNode, victim: TestNode, victimID: Hash256, forgerSeed: [UInt8]) throws {
        let forger = try WirePeer(port: node.port)
        defer { forger.close() }
        try forger.handshake()
        let challenge = try XCTUnwrap(receivedChallenge(forger))
        let digest = MasternodeAuth.signedDigest(magic: forger.magic, challenge: challenge, proTxHash: victimID, signerDialled: true)
        try forger.send(.mnauth(MasternodeAuth(proTxHash: victimID, signature: Ed25519.sign(message: digest, seed: forgerSeed))))
        XCTAssertTrue(forger.waitClosed(timeout: node.remaining(20)), "a forged mnauth left the connection open")
        XCTAssertNotNil(waitForLog(node, timeout: 10) { $0.contains("masternode authentication failed") && $0.contains(forger.logName) })

        // The relay: the node's challenge passed to the real masternode, its answer passed back.
        let relay = try WirePeer(port: node.port), toVictim = try WirePeer(port: victim.port)
        defer { relay.close(); toVictim.close() }
        try relay.handshake()
        try toVictim.handshake()
        let nodeChallenge = try XCTUnwrap(receivedChallenge(relay))
        try toVictim.send(.mnchallenge(nodeChallenge))
        let answer = toVictim.waitFor(timeout: victim.remaining(20)) { if case .mnauth = $0 { true } else { false } }
        guard case .mnauth(let auth) = answer else { return XCTFail("\(victim.name) did not answer the challenge") }
        XCTAssertEqual(auth.proTxHash, victimID)
        try relay.send(.mnauth(auth))
        XCTAssertTrue(relay.waitClosed(timeout: node.remaining(20)), "a relayed mnauth left the connection open")
        XCTAssertNotNil(waitForLog(node, timeout: 10) { $0.contains("masternode authentication failed") && $0.contains(relay.logName) })
        let peers = try node.rpc("getpeerinfo").arrayValue ?? []
        XCTAssertFalse(peers.contains { $0["addr"]?.stringValue?.hasSuffix(":\(relay.localPort)") == true && $0["masternode"] != nil })
    }

    func receivedChallenge(_ peer: WirePeer) -> [UInt8]? {
        guard case .mnchallenge(let challenge) = peer.waitFor(timeout: 15, { if case .mnchallenge = $0 { true } else { false } }) else { return nil }
        return challenge
    }

    /// When `node` logged the block `hash` at `height` as its new tip (its debug.log's timestamp).
    func tipTime(_ node: TestNode, height: Int, hash: String) throws -> Date {
        let line = try XCTUnwrap(waitForLog(node, timeout: 20) { $0.contains("new tip: height \(height) \(hash)") },
                                 "\(node.name) never logged the new tip")
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return try XCTUnwrap(formatter.date(from: String(line.prefix(24))), "\(node.name): no timestamp in \(line)")
    }
}
