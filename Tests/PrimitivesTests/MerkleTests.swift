import BLAKE3
import Primitives
import Testing
import TestSupport

struct MerkleTests {
    static func leaves(_ count: Int, seed: UInt64 = 1, test: String = #function) -> [Hash256] {
        var rng = SeededGenerator.logged(seed, test)
        return (0..<count).map { _ in rng.hash() }
    }

    @Test("roots for 1...2049 leaves equal the recursive RFC 6962-shaped reference at every level")
    func rootsAgainstReference() {
        let all = Self.leaves(2049)
        var sizes = Array(1...300) + [511, 512, 513, 1023, 1024, 1025, 2047, 2048, 2049]
        var rng = SeededGenerator.logged(3)
        sizes += (0..<20).map { _ in Int.random(in: 301...2049, using: &rng) }
        for size in sizes {
            let leaves = Array(all[0..<size])
            let reference = Merkle.referenceRoot(of: leaves[...])
            for level in BLAKE3Level.supported {
                #expect(Merkle.root(of: leaves, level: level) == reference, "size \(size) level \(level)")
            }
        }
    }

    @Test("small trees by hand: one leaf is the root, odd nodes are promoted, empty is zero")
    func smallTrees() {
        let l = Self.leaves(3)
        #expect(Merkle.root(of: []) == .zero)
        #expect(Merkle.root(of: [l[0]]) == l[0])
        #expect(Merkle.root(of: [l[0], l[1]]) == Merkle.parent(l[0], l[1]))
        #expect(Merkle.root(of: l) == Merkle.parent(Merkle.parent(l[0], l[1]), l[2]))
        // The parent is keyed_hash(K_node, left || right) with K_node from derive_key.
        let key = BLAKE3.deriveKey(context: "RustyCoin v1 merkle node", material: [UInt8]())
        #expect(Merkle.parent(l[0], l[1]).bytes == BLAKE3.keyedHash(key: key, l[0].bytes + l[1].bytes))
    }

    @Test("CVE-2012-2459: duplicating trailing transactions changes the root")
    func duplicationChangesRoot() {
        for size in [3, 5, 6, 7, 9, 11, 100, 1001] {
            let leaves = Self.leaves(size, seed: UInt64(size))
            let root = Merkle.root(of: leaves)
            #expect(Merkle.root(of: leaves + [leaves.last!]) != root, "size \(size), last duplicated")
            if size >= 2 {
                #expect(Merkle.root(of: leaves + leaves.suffix(2)) != root, "size \(size), last two duplicated")
            }
        }
    }

    @Test("inclusion proofs for every leaf of trees of 1...2049 leaves verify; tampering fails")
    func proofs() throws {
        let all = Self.leaves(2049, seed: 8)
        var sizes = Array(1...70) + [127, 128, 129, 1000, 2049]
        sizes.sort()
        for size in sizes {
            let leaves = Array(all[0..<size])
            let root = Merkle.root(of: leaves)
            let indices = size <= 129 ? Array(0..<size) : [0, 1, size / 2, size - 2, size - 1]
            for index in indices {
                let proof = try #require(Merkle.proof(of: index, in: leaves))
                #expect(proof.verify(leaf: leaves[index], root: root), "size \(size) index \(index)")
                #expect(try MerkleProof(decoding: proof.encoded) == proof)
                #expect(!proof.verify(leaf: all[2048 - index % 7], root: root) || all[2048 - index % 7] == leaves[index])
                var wrongIndex = proof
                wrongIndex.leafIndex = UInt64((index + 1) % size)
                if size > 1 { #expect(!wrongIndex.verify(leaf: leaves[index], root: root), "size \(size) index \(index)") }
                if !proof.siblings.isEmpty {
                    var truncated = proof
                    truncated.siblings.removeLast()
                    #expect(truncated.root(from: leaves[index]) == nil)
                    var extended = proof
                    extended.siblings.append(root)
                    #expect(extended.root(from: leaves[index]) == nil)
                }
            }
        }
        #expect(Merkle.proof(of: 5, in: Array(all[0..<5])) == nil)
        #expect(MerkleProof(leafIndex: 3, leafCount: 3, siblings: []).root(from: all[0]) == nil)
    }
}
