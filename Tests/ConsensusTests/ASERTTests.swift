import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

struct ASERTTests {
    struct VectorFile: Decodable {
        struct Params: Decodable { let powLimit: String; let targetSecsPerBlock: Int64; let halfLifeSecs: Int64 }
        struct Check: Decodable { let height: UInt64; let timestamp: Int64; let expectedDiffBits: UInt32 }
        struct Scenario: Decodable {
            let description: String; let params: String; let startDiffBits: UInt32
            let startHeight: Int64; let startTime: Int64; let tests: [Check]
        }
        let params: [String: Params]
        let scenarios: [Scenario]
    }

    @Test("reproduces all of Decred's DCP-0011 vectors with Decred's parameters and formula variant")
    func decredVectors() throws {
        let file = try JSONDecoder().decode(VectorFile.self, from: TestPaths.vector("decred_dcp0011_asert_test_vectors.json"))
        var checked = 0
        for scenario in file.scenarios {
            let params = try #require(file.params[scenario.params])
            let asert = ASERT(targetSpacing: params.targetSecsPerBlock, halfLife: params.halfLifeSecs,
                              powLimit: try #require(UInt256(hex: params.powLimit)), heightOffset: 0)
            let anchor = try CompactTarget(bits: scenario.startDiffBits).target()
            for check in scenario.tests {
                // Heights are u64 in the file (one scenario crosses 2^63): the delta wraps as in dcrd.
                let heightDelta = Int64(bitPattern: check.height &- UInt64(bitPattern: scenario.startHeight))
                let target = asert.nextTarget(anchorTarget: anchor, timeDelta: check.timestamp - scenario.startTime,
                                              heightDelta: heightDelta)
                let bits = CompactTarget(target: target).bits
                #expect(bits == check.expectedDiffBits, "\(scenario.description): height \(check.height)")
                checked += 1
            }
        }
        #expect(checked == 1424)
    }

    @Test("on schedule the target stays; one half-life ahead it halves, one behind it doubles")
    func halfLife() throws {
        let limit = try CompactTarget(bits: 0x207F_FFFF).target()
        let asert = ASERT(targetSpacing: 150, halfLife: 172_800, powLimit: limit)
        let anchor = try CompactTarget(bits: 0x1D00_FFFF).target()
        #expect(asert.nextTarget(anchorTarget: anchor, timeDelta: 150 * 101, heightDelta: 100) == anchor)
        #expect(asert.nextTarget(anchorTarget: anchor, timeDelta: 150 * 101 + 172_800, heightDelta: 100) == anchor << 1)
        #expect(asert.nextTarget(anchorTarget: anchor, timeDelta: 150 * 101 - 172_800, heightDelta: 100) == anchor >> 1)
    }

    @Test("extreme and hostile inputs never trap and stay within 1...powLimit")
    func extremes() throws {
        let limit = try CompactTarget(bits: 0x207F_FFFF).target()
        let asert = ASERT(targetSpacing: 150, halfLife: 172_800, powLimit: limit)
        let anchors = [limit, UInt256(1), try CompactTarget(bits: 0x1D00_FFFF).target()]
        for anchor in anchors {
            for (time, height) in [(Int64.max, 0), (Int64.min, 0), (0, Int64.max), (0, Int64.min), (Int64.max, Int64.min),
                                   (Int64.min, Int64.max), (-1, 1), (172_800 * 300, 1), (-172_800 * 300, 1)] as [(Int64, Int64)] {
                let target = asert.nextTarget(anchorTarget: anchor, timeDelta: time, heightDelta: height)
                #expect(!target.isZero && !(limit < target), "time \(time) height \(height)")
            }
        }
        #expect(asert.nextTarget(anchorTarget: limit, timeDelta: .max, heightDelta: 0) == limit)
        #expect(asert.nextTarget(anchorTarget: UInt256(1), timeDelta: .min, heightDelta: 0) == UInt256(1))
    }

    @Test("monotonic: a later parent time never gives a harder target (property)")
    func monotonic() throws {
        let limit = try CompactTarget(bits: 0x1E00_FFFF).target()
        let asert = ASERT(targetSpacing: 150, halfLife: 172_800, powLimit: limit)
        let anchor = try CompactTarget(bits: 0x1C0F_FFFF).target()
        var rng = SeededGenerator.logged(42)
        for _ in 0..<2000 {
            let height = Int64.random(in: 0...1_000_000, using: &rng)
            let time = Int64.random(in: -10_000_000...200_000_000, using: &rng)
            let step = Int64.random(in: 1...5000, using: &rng)
            let earlier = asert.nextTarget(anchorTarget: anchor, timeDelta: time, heightDelta: height)
            let later = asert.nextTarget(anchorTarget: anchor, timeDelta: time + step, heightDelta: height)
            #expect(!(later < earlier), "height \(height) time \(time) step \(step)")
        }
    }
}
