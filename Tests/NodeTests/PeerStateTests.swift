import Primitives
import TestSupport
import XCTest
@testable import Node

/// The small bounded structures each peer carries, and the presync commitments.
final class PeerStateTests: XCTestCase {
    func testBoundedSetForgetsOldestPastCapacity() {
        var set = BoundedSet<Int>(capacity: 100)
        for value in 0..<10_000 { set.insert(value) }
        XCTAssertEqual(set.count, 100)
        XCTAssertFalse(set.contains(9_899))
        XCTAssertTrue(set.contains(9_900))
        XCTAssertTrue(set.contains(9_999))
        // Re-inserting a member changes nothing.
        set.insert(9_950)
        XCTAssertEqual(set.count, 100)
        XCTAssertTrue(set.contains(9_900))
    }

    func testRateLimiterGrantsBurstThenRefills() {
        var limiter = RateLimiter(burst: 1000, perSecond: 0.1)
        XCTAssertEqual(limiter.take(600, now: 0), 600)
        XCTAssertEqual(limiter.take(600, now: 0), 400)
        XCTAssertEqual(limiter.take(1, now: 5), 0)
        // 0.5 tokens left at 5 s, 9.5 more by 100 s: 10 whole tokens.
        XCTAssertEqual(limiter.take(5, now: 100), 5)
        XCTAssertEqual(limiter.take(10, now: 100), 5)
        XCTAssertEqual(limiter.take(5000, now: 1_000_000), 1000) // never above the burst
    }

    func testPresyncCommitmentsAcceptTheSameChainAndRejectAnother() {
        var generator = SeededGenerator(testSeed: 0x5EED_2026)
        func header(_ height: UInt64) -> BlockHeader {
            BlockHeader(version: 1, height: height, previousHash: Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!,
                        merkleRoot: .zero, stateRoot: .zero, time: height, bits: 0x207fffff, nonce: generator.next())
        }
        let chain = (1...2000).map { header($0) }
        let salt: [UInt8] = Array(repeating: 7, count: 16)
        var presync = HeaderPresync(startLocator: [.zero], lastHash: .zero, work: .zero)
        XCTAssertTrue(presync.record(chain, salt: salt))
        XCTAssertEqual(presync.count, 2000)
        XCTAssertEqual(presync.lastHash, chain.last!.hash)

        var same = presync
        XCTAssertTrue(same.check(Array(chain[..<1000]), salt: salt))
        XCTAssertTrue(same.check(Array(chain[1000...]), salt: salt))
        // Nothing beyond what was committed.
        XCTAssertFalse(same.check([header(2001)], salt: salt))

        // Another chain of the same length passes each bit with probability 1/2.
        var other = presync
        XCTAssertFalse(other.check((1...2000).map { header($0) }, salt: salt))
        // A different salt gives different bits for the same chain.
        var salted = presync
        XCTAssertFalse(salted.check(chain, salt: Array(repeating: 8, count: 16)))
    }

    func testPresyncRefusesMoreThanItsBound() {
        var presync = HeaderPresync(startLocator: [], lastHash: .zero, work: .zero)
        presync.count = HeaderPresync.maxHeaders - 1
        let header = BlockHeader(version: 1, height: 1, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero, time: 0, bits: 0, nonce: 0)
        XCTAssertFalse(presync.record([header, header], salt: []))
    }
}
