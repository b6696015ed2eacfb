import Ed25519

/// The group key check of PROTOCOL section 17.4 (`qc-group-key`).
enum QuorumGroupKey {
    /// A canonical encoding of a point of the prime-order subgroup other than the identity:
    /// a key with a small-order component would let signatures verify ambiguously.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == 32, let point = Ed25519.Point(encoded: bytes) else { return false }
        return !point.isIdentity && point.isInPrimeOrderSubgroup
    }
}
