// Module Primitives: the chain's data types (hashes, amounts, transactions, headers,
// blocks), their strict codec, Merkle roots and PoW targets, plus the package's shared
// helpers (HexCoding, SeededGenerator) for every module above it. It must not hold
// consensus rules, state or I/O, and depends on nothing but BLAKE3.

/// SplitMix64: the package's one seeded generator, stable across platforms and releases.
/// It drives the chain generator (so a seed always gives the same chain and UTXO digest),
/// the inputs of `rusty bench`, and the property tests. Never for keys or anything secret.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` bytes of the stream, eight at a time (little-endian words).
    public mutating func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count { withUnsafeBytes(of: next()) { out += $0 } }
        return Array(out.prefix(count))
    }
}
