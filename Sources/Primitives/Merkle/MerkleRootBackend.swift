import BLAKE3

/// A Merkle root backend: the root of `leaves` as `Merkle.root(of:)` defines it (odd last
/// node promoted; one leaf is its own root; no leaves give all zeros). Declared here, not in
/// MerkleBackends, so block rules (Consensus) can take one without depending on OpenCL.
public protocol MerkleRootBackend: Sendable {
    var name: String { get }
    func root(of leaves: [Hash256]) throws -> Hash256
}

/// `Merkle.root(of:level:)`: the portable compression (`.scalar`) or the best BLAKE3 SIMD level.
public struct CPUMerkleRoot: MerkleRootBackend {
    public let level: BLAKE3Level
    public init(level: BLAKE3Level) { self.level = level }
    public var name: String { level == .scalar ? "scalar" : "simd(\(level))" }
    public func root(of leaves: [Hash256]) throws -> Hash256 { Merkle.root(of: leaves, level: level) }
}
