import Foundation
import XCTest

/// The seed's bootstrap flow: a new node knows only a bootstrap node (`--seednode`); it
/// connects, asks for addresses, disconnects, and connects to the peers it learnt of.
final class BootstrapTests: NetworkTestCase {
    func testNodeFindsPeersThroughABootstrapNode() throws {
        let seed = try network.makeNode("seed")
        try seed.start(["--listen"])
        try seed.wait("seed listening", timeout: 30) { !$0.listening.isEmpty }
        // Two nodes known to the seed: each dials it and advertises where it listens.
        var members = [TestNode]()
        for name in ["a", "b"] {
            let node = try network.makeNode(name)
            try node.start(["--listen", "--addnode", seed.endpoint])
            members.append(node)
        }
        try seed.wait("both members connected to the seed", timeout: 30) { $0.inboundCount == 2 }

        let newcomer = try network.makeNode("newcomer")
        try newcomer.start(["--listen", "--seednode", seed.endpoint])
        // The newcomer ends up connected outbound to both members, which it heard of only from the seed.
        try newcomer.wait("connected to the members it learnt of", timeout: 60) { status in
            let addresses = Set(status.peers.filter { ($0["inbound"] as? Bool) == false }.compactMap { $0["address"] as? String })
            return members.allSatisfy { addresses.contains($0.endpoint) }
        }
        XCTAssertNotNil(waitForLog(newcomer, timeout: 30) { $0.contains("bootstrap node done (addresses received)") },
                        "the bootstrap connection was closed once the addresses came")
    }
}
