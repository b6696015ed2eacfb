@testable import AddressBook
import TestSupport
import XCTest

final class InboundEvictionTests: XCTestCase {
    func group(_ g: Int) -> [UInt8] { [4, UInt8(g / 256), UInt8(g % 256)] }

    func testFloodingGroupLosesItsYoungest() throws {
        var candidates = [EvictionCandidate]()
        // Ten honest peers in distinct groups, connected long ago.
        for i in 0..<10 {
            candidates.append(EvictionCandidate(id: i, connectedAt: Double(i), networkGroup: group(100 + i)))
        }
        // Thirty attacker connections from one /16, connected later.
        for i in 0..<30 {
            candidates.append(EvictionCandidate(id: 100 + i, connectedAt: 1000 + Double(i), networkGroup: group(7)))
        }
        XCTAssertEqual(InboundEviction.select(candidates), 129)
        XCTAssertEqual(InboundEviction.select(candidates.shuffled()), 129, "input order does not matter")
        XCTAssertEqual(InboundEviction.select(candidates, salt: [1, 2, 3]), 129)
    }

    func testDiscouragedGoFirstYoungestFirst() {
        var candidates = (0..<20).map {
            EvictionCandidate(id: $0, connectedAt: Double($0), minPingMillis: 5, lastBlockTime: 1000, networkGroup: group(1))
        }
        // Even with the best ping and blocks, a misbehaving peer goes.
        candidates.append(EvictionCandidate(id: 50, connectedAt: 1, minPingMillis: 0.1, lastBlockTime: 9999,
                                            networkGroup: group(50), discouraged: true))
        XCTAssertEqual(InboundEviction.select(candidates), 50)
        candidates.append(EvictionCandidate(id: 51, connectedAt: 2, networkGroup: group(51), discouraged: true))
        XCTAssertEqual(InboundEviction.select(candidates), 51)
        // A discouraged outbound or noban peer is not an inbound candidate.
        let others = [EvictionCandidate(id: 1, connectedAt: 1, networkGroup: group(1), discouraged: true, outbound: true),
                      EvictionCandidate(id: 2, connectedAt: 1, networkGroup: group(1), discouraged: true, noBan: true)]
        XCTAssertNil(InboundEviction.select(others))
    }

    func testNilWhenEveryoneIsProtected() {
        XCTAssertNil(InboundEviction.select([]))
        // Four groups: all protected by network diversity.
        let diverse = (0..<4).map { EvictionCandidate(id: $0, connectedAt: Double($0), networkGroup: group($0)) }
        XCTAssertNil(InboundEviction.select(diverse))
        // One more from a seen group: protections run out.
        XCTAssertNotNil(InboundEviction.select(diverse + [EvictionCandidate(id: 9, connectedAt: 9, networkGroup: group(0))]))
        let outbound = (0..<40).map { EvictionCandidate(id: $0, connectedAt: 0, networkGroup: group(1), outbound: true) }
        XCTAssertNil(InboundEviction.select(outbound))
    }

    func testProtectedPeersAreNeverEvicted() throws {
        var rng = SeededGenerator(testSeed: 13)
        for _ in 0..<300 {
            let n = Int.random(in: 1...60, using: &rng)
            let groups = Int.random(in: 1...8, using: &rng)
            // Distinct values so "the 8 lowest" is well defined.
            let pings = (0..<n).map { Double($0) + 0.5 }.shuffled(using: &rng)
            let blocks = (0..<n).map { UInt64($0 + 1) }.shuffled(using: &rng)
            let txs = (0..<n).map { UInt64($0 + 1) }.shuffled(using: &rng)
            let candidates = (0..<n).map { i in
                EvictionCandidate(
                    id: i, connectedAt: Double(Int.random(in: 0...1000, using: &rng)),
                    minPingMillis: Bool.random(using: &rng) ? pings[i] : nil,
                    lastBlockTime: Bool.random(using: &rng) ? blocks[i] : 0,
                    lastTxTime: Bool.random(using: &rng) ? txs[i] : 0,
                    networkGroup: group(Int.random(in: 0..<groups, using: &rng)),
                    outbound: Int.random(in: 0..<10, using: &rng) == 0,
                    noBan: Int.random(in: 0..<10, using: &rng) == 0)
            }
            let salt = rng.bytes(8)
            guard let victim = InboundEviction.select(candidates, salt: salt) else { continue }
            let chosen = try XCTUnwrap(candidates.first { $0.id == victim })
            XCTAssertFalse(chosen.outbound || chosen.noBan)
            let inbound = candidates.filter { !$0.outbound && !$0.noBan }
            let lowestPing = inbound.filter { $0.minPingMillis != nil }.sorted { $0.minPingMillis! < $1.minPingMillis! }.prefix(8)
            let recentBlocks = inbound.filter { $0.lastBlockTime > 0 }.sorted { $0.lastBlockTime > $1.lastBlockTime }.prefix(4)
            let recentTxs = inbound.filter { $0.lastTxTime > 0 }.sorted { $0.lastTxTime > $1.lastTxTime }.prefix(4)
            XCTAssertFalse(lowestPing.contains { $0.id == victim }, "evicted a low-ping peer")
            XCTAssertFalse(recentBlocks.contains { $0.id == victim }, "evicted a block relayer")
            XCTAssertFalse(recentTxs.contains { $0.id == victim }, "evicted a transaction relayer")
            // Nobody younger in the victim's group was kept unless something protected it: a
            // peer with no ping, block or transaction can only be protected as its group's
            // oldest or by uptime, and the victim is older than it.
            XCTAssertFalse(inbound.contains {
                $0.networkGroup == chosen.networkGroup && $0.minPingMillis == nil && $0.lastBlockTime == 0
                    && $0.lastTxTime == 0 && InboundEviction.isOlder(chosen, $0)
            }, "a younger unprotected peer of the same group was kept")
        }
    }

    func testLongestConnectedHalfIsProtected() {
        // One group, no pings or relays: the group protection takes its oldest, then the
        // older half of the rest is protected by uptime; the youngest goes.
        let candidates = (0..<11).map { EvictionCandidate(id: $0, connectedAt: Double($0), networkGroup: group(3)) }
        XCTAssertEqual(InboundEviction.select(candidates), 10)
        // Two groups of equal size: the one with the youngest member loses it.
        let tie = [EvictionCandidate(id: 1, connectedAt: 100, networkGroup: group(1)),
                   EvictionCandidate(id: 2, connectedAt: 101, networkGroup: group(1)),
                   EvictionCandidate(id: 3, connectedAt: 102, networkGroup: group(2)),
                   EvictionCandidate(id: 4, connectedAt: 200, networkGroup: group(2)),
                   EvictionCandidate(id: 5, connectedAt: 0, networkGroup: group(9)),
                   EvictionCandidate(id: 6, connectedAt: 0, networkGroup: group(8)),
                   EvictionCandidate(id: 7, connectedAt: 0, networkGroup: group(7)),
                   EvictionCandidate(id: 8, connectedAt: 0, networkGroup: group(6))]
        // Whichever 4 groups the salt protects, group 2 ends up the largest (or tied with the
        // youngest member), so id 4 goes.
        for salt in 0..<32 {
            XCTAssertEqual(InboundEviction.select(tie, salt: [UInt8(salt)]), 4, "salt \(salt)")
        }
    }
}
