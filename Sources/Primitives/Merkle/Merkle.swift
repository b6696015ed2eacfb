import BLAKE3

/// Merkle trees over txids (and wtxids): parent = keyed_hash(K_node, left || right), one
/// compression per node; an odd last node is promoted to the next level unchanged, never
/// duplicated, so the tree has RFC 6962's shape and no CVE-2012-2459 style mutation.
/// The root of one leaf is the leaf; the root of no leaves is all zeros.
public enum Merkle {
    /// Root computed level by level with the batch compression at `level`.
    public static func root(of leaves: [Hash256], level: BLAKE3Level = .default) -> Hash256 {
        guard leaves.count > 1 else { return leaves.first ?? .zero }
        var nodes = leaves
        var count = nodes.count
        DomainKeys.merkleNode.withUnsafeBytes { key in
            nodes.withUnsafeMutableBytes { buffer in
                while count > 1 {
                    BLAKE3.merkleLevel(nodes: buffer.baseAddress!, nodeCount: count, key: key.baseAddress!,
                                       output: buffer.baseAddress!, level: level)
                    count = (count + 1) / 2
                }
            }
        }
        return nodes[0]
    }

    /// Parent of two nodes, computed with the general keyed hash (the readable reference).
    public static func parent(_ left: Hash256, _ right: Hash256) -> Hash256 {
        Hash256(bytes: BLAKE3.keyedHash(key: DomainKeys.merkleNode, left.bytes + right.bytes, level: .scalar))!
    }

    /// The reference definition, recursive as RFC 6962 writes it: split at the largest
    /// power of two below the count. Used to check `root(of:level:)`.
    public static func referenceRoot(of leaves: ArraySlice<Hash256>) -> Hash256 {
        switch leaves.count {
        case 0: return .zero
        case 1: return leaves.first!
        default:
            var split = 1
            while split * 2 < leaves.count { split *= 2 }
            let middle = leaves.startIndex + split
            return parent(referenceRoot(of: leaves[..<middle]), referenceRoot(of: leaves[middle...]))
        }
    }

    /// Inclusion proof of the leaf at `index`: the sibling at every level where the node
    /// has one (levels where it is promoted contribute nothing).
    public static func proof(of index: Int, in leaves: [Hash256], level: BLAKE3Level = .default) -> MerkleProof? {
        guard index >= 0, index < leaves.count else { return nil }
        var siblings = [Hash256]()
        var nodes = leaves
        var position = index
        while nodes.count > 1 {
            let sibling = position ^ 1
            if sibling < nodes.count { siblings.append(nodes[sibling]) }
            nodes = nextLevel(nodes, level: level)
            position /= 2
        }
        return MerkleProof(leafIndex: UInt64(index), leafCount: UInt64(leaves.count), siblings: siblings)
    }

    static func nextLevel(_ nodes: [Hash256], level: BLAKE3Level) -> [Hash256] {
        var out = [Hash256](repeating: .zero, count: (nodes.count + 1) / 2)
        DomainKeys.merkleNode.withUnsafeBytes { key in
            nodes.withUnsafeBytes { input in
                out.withUnsafeMutableBytes { output in
                    BLAKE3.merkleLevel(nodes: input.baseAddress!, nodeCount: nodes.count, key: key.baseAddress!,
                                       output: output.baseAddress!, level: level)
                }
            }
        }
        return out
    }
}

/// Proof that a leaf is at `leafIndex` of a tree of `leafCount` leaves.
public struct MerkleProof: Hashable, Sendable, BinaryCodable {
    public var leafIndex: UInt64
    public var leafCount: UInt64
    public var siblings: [Hash256]

    public init(leafIndex: UInt64, leafCount: UInt64, siblings: [Hash256]) {
        self.leafIndex = leafIndex
        self.leafCount = leafCount
        self.siblings = siblings
    }

    /// The root this proof leads to from `leaf`, or nil when the proof's shape does not fit
    /// its tree size (wrong number of siblings, index out of range).
    public func root(from leaf: Hash256) -> Hash256? {
        guard leafIndex < leafCount else { return nil }
        var node = leaf
        var position = leafIndex
        var width = leafCount
        var used = 0
        while width > 1 {
            let isRight = position & 1 == 1
            if isRight || position + 1 < width {
                guard used < siblings.count else { return nil }
                let sibling = siblings[used]
                used += 1
                node = isRight ? Merkle.parent(sibling, node) : Merkle.parent(node, sibling)
            }
            position /= 2
            width = (width + 1) / 2
        }
        return used == siblings.count ? node : nil
    }

    public func verify(leaf: Hash256, root expected: Hash256) -> Bool { root(from: leaf) == expected }

    public func encode(to writer: inout ByteWriter) {
        writer.write(leafIndex)
        writer.write(leafCount)
        writer.writeCompactSize(UInt64(siblings.count))
        for sibling in siblings { writer.write(sibling) }
    }

    public static func decode(from reader: inout ByteReader) throws -> MerkleProof {
        let index = try reader.readUInt64("leaf_index")
        let count = try reader.readUInt64("leaf_count")
        // A tree of 2^64 leaves has depth 64: no valid proof is longer.
        let siblingCount = try reader.readCount("sibling_count", limit: 64, minimumItemSize: 32)
        var siblings = [Hash256]()
        for i in 0..<siblingCount { siblings.append(try reader.readHash("sibling[\(i)]")) }
        return MerkleProof(leafIndex: index, leafCount: count, siblings: siblings)
    }
}
