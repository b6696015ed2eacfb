import Primitives
import ProofOfWorkSearch
import Testing
import TestSupport

/// CombinedPoWSearch (moved here from MiningTests with the type, from Mining to ProofOfWorkSearch).
struct CombinedPoWSearchTests {
    @Test("the combined search cuts a range into disjoint pieces that cover it exactly")
    func splitCoversWithoutOverlap() {
        var rng = SeededGenerator(seed: 8)
        for _ in 0..<500 {
            let count = UInt64.random(in: 0...1_000_000, using: &rng)
            let start = Bool.random(using: &rng) ? UInt64.random(in: 0...UInt64.max - count, using: &rng) : UInt64.max - count + (count > 0 ? 1 : 0)
            guard let range = NonceRange(start: start, count: count) else { continue }
            let weights = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Double.random(in: 0...10, using: &rng) }
            let pieces = CombinedPoWSearch.split(range, weights: weights)
            #expect(pieces.count == weights.count)
            #expect(pieces.reduce(0) { $0 + $1.count } == count)
            var next = range.start
            for piece in pieces where piece.count > 0 {
                #expect(piece.start == next, "pieces must be consecutive: \(pieces)")
                next = piece.start &+ piece.count
            }
        }
    }

    @Test("two backends searching together find exactly what the scalar search finds")
    func combinedEqualsScalar() throws {
        var rng = SeededGenerator(seed: 21)
        let header = rng.bytes(128)
        var targetBytes = [UInt8](repeating: 0xFF, count: 32)
        targetBytes[0] = 0x00
        let job = PoWJob(header: header, target: UInt256(bigEndian: targetBytes))
        let range = NonceRange(start: 0xFFFF_F000, count: 60_000)!
        let expected = try ScalarPoWSearch().search(job, range: range)
        let combined = CombinedPoWSearch([SIMDPoWSearch(threads: 1), ThreadedPoWSearch(threads: 1)])
        #expect(try combined.search(job, range: range) == expected)
        #expect(try combined.search(job, range: range) == expected) // after re-weighting by measured speed
        #expect(!expected.isEmpty)
    }
}
