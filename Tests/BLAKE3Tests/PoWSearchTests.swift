import BLAKE3
import Testing
import TestSupport

/// The SIMD nonce search against the scalar level and against whole-header hashing.
struct PoWSearchTests {
    static func hashOfHeader(_ firstBlock: [UInt8], _ secondBlock: [UInt8], nonce: UInt64) -> [UInt8] {
        var block = secondBlock
        for i in 0..<8 { block[56 + i] = UInt8(truncatingIfNeeded: nonce >> (8 * UInt64(i))) }
        return BLAKE3.hash(firstBlock + block, level: .scalar)
    }

    @Test("every level finds exactly the scalar level's nonces, across 2^32 and 2^64 boundaries", arguments: BLAKE3Level.supported)
    func levelsAgree(level: BLAKE3Level) {
        var rng = SeededGenerator(testSeed: 0x90E)
        for round in 0..<12 {
            let first = rng.bytes(64), second = rng.bytes(64)
            var midstate = BLAKE3.ivWords
            first.withUnsafeBytes { BLAKE3.compress(chainingValue: &midstate, block: $0.baseAddress!, blockLength: 64, counter: 0, flags: BLAKE3.Flag.chunkStart) }
            // About one nonce in 256 qualifies.
            let target = [0x00] + [UInt8](repeating: 0xFF, count: 31)
            let starts: [UInt64] = [0, 0xFFFF_FF00, 0x1_FFFF_FFF0, UInt64.max - 300, rng.next()]
            let start = starts[round % starts.count]
            let count = UInt64([1, 15, 16, 17, 1000, 5000][round % 6])
            let reference = BLAKE3.powSearch(midstate: midstate, secondBlock: second, start: start, count: count,
                                             target: target, maxResults: 1000, level: .scalar)
            let simd = BLAKE3.powSearch(midstate: midstate, secondBlock: second, start: start, count: count,
                                        target: target, maxResults: 1000, level: level)
            #expect(simd.nonces == reference.nonces && simd.total == reference.total, "round \(round) start \(start) count \(count)")
            // Each hit really meets the target, and the brute force finds the same set.
            var expected = [UInt64]()
            for offset in 0..<count {
                let nonce = start &+ offset
                if Self.hashOfHeader(first, second, nonce: nonce)[0] == 0 { expected.append(nonce) }
            }
            #expect(reference.nonces == expected, "round \(round)")
        }
    }

    @Test("result overflow reports the full count; an impossible target finds nothing", arguments: BLAKE3Level.supported)
    func overflowAndEmpty(level: BLAKE3Level) {
        let midstate = BLAKE3.ivWords, second = [UInt8](repeating: 7, count: 64)
        let everything = BLAKE3.powSearch(midstate: midstate, secondBlock: second, start: 10, count: 100,
                                          target: [UInt8](repeating: 0xFF, count: 32), maxResults: 5, level: level)
        #expect(everything.total == 100 && everything.nonces == [10, 11, 12, 13, 14])
        let nothing = BLAKE3.powSearch(midstate: midstate, secondBlock: second, start: 0, count: 10_000,
                                       target: [UInt8](repeating: 0, count: 32), level: level)
        #expect(nothing.total == 0 && nothing.nonces.isEmpty)
    }
}
