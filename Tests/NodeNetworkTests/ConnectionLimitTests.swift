import Foundation
import Wire
import XCTest

/// Inbound slots: `--maxconnections` minus the 8 outbound slots. A full node evicts an
/// unprotected inbound peer for a newcomer, and refuses the newcomer when every inbound peer
/// is protected (here the only one: protected by its own network group).
final class ConnectionLimitTests: NetworkTestCase {
    func testFullNodeRefusesAnInboundPeerWhenNoneCanBeEvicted() throws {
        let node = try network.makeNode("full")
        try node.start(["--listen", "--maxconnections", "9"])
        try node.wait("listening", timeout: 30) { !$0.listening.isEmpty }

        let first = try WirePeer(port: node.port)
        defer { first.close() }
        try first.handshake()

        // The one inbound slot is taken: the next connection is closed at once, unanswered.
        let second = try WirePeer(port: node.port)
        defer { second.close() }
        XCTAssertTrue(second.waitClosed(timeout: 10), "the node closed the connection beyond its inbound slots")
        let refused = waitForLog(node, timeout: 10) { $0.contains("refused inbound connection from") && $0.contains("no free inbound slot") }
        XCTAssertNotNil(refused, "debug.log names the refusal")
        XCTAssertTrue(first.roundTrip(), "the peer holding the slot keeps it")

        // Once the slot is free again, a newcomer is taken.
        first.close()
        try node.wait("the first peer gone", timeout: 30) { $0.inboundCount == 0 }
        let third = try WirePeer(port: node.port)
        defer { third.close() }
        try third.handshake()
        XCTAssertTrue(third.roundTrip(), "a newcomer is served once a slot is free")
    }
}
