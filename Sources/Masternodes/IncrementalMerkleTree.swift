import BLAKE3
import Primitives

/// The Merkle tree of PROTOCOL section 6 (`Merkle.root`: pairs hashed level by level, an odd
/// last node promoted) over leaves that change a few at a time. Every level is kept; a
/// change only marks what it made stale, and `root()` re-hashes just that: a leaf replaced
/// in place re-hashes its path (one node a level), an insert or a removal re-hashes
/// everything right of its position at every level (the positions after it shift, so
/// their pairs change). The masternode list asks for the root once a block, so several
/// changes share one pass.
struct IncrementalMerkleTree: Sendable {
    private(set) var leaves: [Hash256] = []
    /// Levels above the leaves (`levels[0]` pairs the leaves); the last holds the root.
    /// Valid wherever no mark below says otherwise.
    private var levels: [[Hash256]] = []
    /// Leaf positions replaced in place since the last root.
    private var replaced: [Int] = []
    /// The first leaf position inserted or removed since the last root: everything from it
    /// on is stale at every level. Zero initially (nothing built yet).
    private var shiftedFrom: Int? = 0

    init() {}

    var count: Int { leaves.count }
    var isClean: Bool { shiftedFrom == nil && replaced.isEmpty }

    mutating func insert(_ leaf: Hash256, at position: Int) {
        leaves.insert(leaf, at: position)
        markShifted(from: position)
    }

    mutating func remove(at position: Int) {
        leaves.remove(at: position)
        markShifted(from: position)
    }

    mutating func replace(at position: Int, with leaf: Hash256) {
        guard leaves[position] != leaf else { return }
        leaves[position] = leaf
        // A position at or after a shift is re-hashed anyway.
        if shiftedFrom.map({ position < $0 }) ?? true { replaced.append(position) }
    }

    private mutating func markShifted(from position: Int) {
        shiftedFrom = min(shiftedFrom ?? position, position)
    }

    /// The root without updating the cached levels (a stale tree is hashed from scratch).
    var computedRoot: Hash256 {
        guard isClean else { return Merkle.root(of: leaves) }
        return leaves.count > 1 ? levels.last?.first ?? .zero : leaves.first ?? .zero
    }

    /// The root, re-hashing only the stale nodes.
    mutating func root() -> Hash256 {
        if isClean { return computedRoot }
        defer {
            replaced.removeAll(keepingCapacity: true)
            shiftedFrom = nil
        }
        guard leaves.count > 1 else {
            levels.removeAll()
            return leaves.first ?? .zero
        }
        // Stale from `from` on (shifted), and at the sorted positions in `paths` before it.
        var from = shiftedFrom ?? leaves.count
        var paths = Array(Set(replaced.lazy.filter { $0 < from })).sorted()
        var depth = 0
        var below = leaves.count
        while below > 1 {
            let count = (below + 1) / 2
            if depth == levels.count { levels.append([]) }
            resize(&levels[depth], to: count)
            let start = from / 2
            let parents = Self.unique(paths.map { $0 / 2 }).filter { $0 < start }
            if depth == 0 {
                Self.hash(leaves, into: &levels[0], from: start, parents: parents)
            } else {
                // Reading one level while writing the next: take the output out of the array.
                var output = levels[depth]
                levels[depth] = []
                Self.hash(levels[depth - 1], into: &output, from: start, parents: parents)
                levels[depth] = output
            }
            from = start
            paths = parents
            below = count
            depth += 1
        }
        levels.removeLast(levels.count - depth)
        return levels[depth - 1][0]
    }

    private func resize(_ level: inout [Hash256], to count: Int) {
        if level.count > count {
            level.removeLast(level.count - count)
        } else if level.count < count {
            level.append(contentsOf: repeatElement(Hash256.zero, count: count - level.count))
        }
    }

    /// Parents `from...` of `nodes` (one batch, SIMD lanes), then the single parents in `parents`.
    private static func hash(_ nodes: [Hash256], into output: inout [Hash256], from: Int, parents: [Int]) {
        let nodeSize = MemoryLayout<Hash256>.stride
        DomainKeys.merkleNode.withUnsafeBytes { key in
            nodes.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { out in
                    if from < out.count / nodeSize {
                        BLAKE3.merkleLevel(nodes: input.baseAddress! + 2 * from * nodeSize, nodeCount: nodes.count - 2 * from,
                                           key: key.baseAddress!, output: out.baseAddress! + from * nodeSize)
                    }
                    for parent in parents {
                        BLAKE3.merkleLevel(nodes: input.baseAddress! + 2 * parent * nodeSize, nodeCount: min(2, nodes.count - 2 * parent),
                                           key: key.baseAddress!, output: out.baseAddress! + parent * nodeSize)
                    }
                }
            }
        }
    }

    /// `sorted` without repeats.
    private static func unique(_ sorted: [Int]) -> [Int] {
        var result = [Int]()
        result.reserveCapacity(sorted.count)
        for value in sorted where result.last != value { result.append(value) }
        return result
    }
}
