import CBLAKE3

extension BLAKE3 {
    /// Tries nonces `start ..< start + count` (wrapping at 2^64) in the second block of a
    /// 128-byte header whose first-block chaining value is `midstate`, at the given SIMD
    /// level. `target` is 32 bytes, big-endian. Returns the qualifying nonces in trial order
    /// (at most `maxResults`) and how many qualified in total.
    public static func powSearch(midstate: [UInt32], secondBlock: [UInt8], start: UInt64, count: UInt64,
                                 target: [UInt8], maxResults: Int = 64, level: BLAKE3Level = .default) -> (nonces: [UInt64], total: Int) {
        precondition(midstate.count == 8 && secondBlock.count == 64 && target.count == 32)
        var results = [UInt64](repeating: 0, count: max(1, maxResults))
        let total = rc_b3_pow_search(midstate, secondBlock, start, count, target, &results, maxResults, level.cValue)
        return (Array(results.prefix(min(total, maxResults))), total)
    }
}
