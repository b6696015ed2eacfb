import BLAKE3
import Primitives

/// The Merkle tree of PROTOCOL section 6 (`Merkle.root`: pairs hashed level by level, an odd
/// last node promoted) over leaves that change a few at a time. Every level is kept; a
/// change only marks what it made stale, and `root()` re-hashes just that: a leaf replaced
/// in place re-hashes its path (one node a level); inserts and removals re-hash the span of
/// positions they moved, which ends at the last of them when as many leaves were inserted
/// as removed (the positions after it hold what they held), and otherwise runs to the end.
/// The masternode list asks for the root once a block, so several changes share one pass.
struct IncrementalMerkleTree: Sendable {
    private(set) var leaves: [Hash256] = []
    /// Levels above the leaves (`levels[0]` pairs the leaves); the last holds the root.
    /// Valid wherever no mark below says otherwise.
    private var levels: [[Hash256]] = []
    /// Leaf positions replaced in place since the last root (current positions: a later
    /// insert or removal before one moves it).
    private var replaced: [Int] = []
    /// The leaf positions inserts and removals made stale since the last root, as
    /// `shiftedFrom...shiftedThrough`: every leaf after `shiftedThrough` is the one that was
    /// `count - builtCount` positions before it at the last root. Nil when none.
    private var shiftedFrom: Int?
    private var shiftedThrough = -1
    /// The leaf count at the last root; nil before the first (nothing built: all stale).
    private var builtCount: Int?

    init() {}

    /// A tree over `leaves`, built in one pass at the first `root()`.
    init(leaves: [Hash256]) {
        self.leaves = leaves
    }

    var count: Int { leaves.count }
    var isClean: Bool { builtCount != nil && shiftedFrom == nil && replaced.isEmpty }

    mutating func insert(_ leaf: Hash256, at position: Int) {
        leaves.insert(leaf, at: position)
        for index in replaced.indices where replaced[index] >= position { replaced[index] += 1 }
        shiftedThrough = position <= shiftedThrough ? shiftedThrough + 1 : position
        shiftedFrom = min(shiftedFrom ?? position, position)
    }

    mutating func remove(at position: Int) {
        leaves.remove(at: position)
        // A replaced leaf that is gone leaves its old position stale, which is harmless.
        for index in replaced.indices where replaced[index] > position { replaced[index] -= 1 }
        shiftedThrough = (position <= shiftedThrough ? shiftedThrough : position) - 1
        shiftedFrom = min(shiftedFrom ?? position, position)
    }

    mutating func replace(at position: Int, with leaf: Hash256) {
        guard leaves[position] != leaf else { return }
        leaves[position] = leaf
        replaced.append(position)
    }

    /// The root without updating the cached levels (a stale tree is hashed from scratch).
    var computedRoot: Hash256 {
        guard isClean else { return Merkle.root(of: leaves) }
        return leaves.count > 1 ? levels.last?.first ?? .zero : leaves.first ?? .zero
    }

    /// The root, re-hashing only the stale nodes.
    mutating func root() -> Hash256 {
        if isClean { return computedRoot }
        let sameCount = builtCount == leaves.count
        defer {
            replaced.removeAll(keepingCapacity: true)
            shiftedFrom = nil
            shiftedThrough = -1
            builtCount = leaves.count
        }
        guard leaves.count > 1 else {
            levels.removeAll()
            return leaves.first ?? .zero
        }
        // Stale: the span `from...through` (through the end of every level, past its last
        // node, unless the count is what it was at the last root, as the last pair may have
        // changed), and the sorted positions in `paths` outside it.
        var from = builtCount == nil ? 0 : shiftedFrom ?? leaves.count
        var through = sameCount ? max(shiftedThrough, from - 1) : Int.max / 4
        let leafCount = leaves.count, spanFrom = from, spanThrough = through
        var paths = Self.unique(replaced.filter { $0 < leafCount && ($0 < spanFrom || $0 > spanThrough) }.sorted())
        var depth = 0
        var below = leaves.count
        while below > 1 {
            let count = (below + 1) / 2
            if depth == levels.count { levels.append([]) }
            resize(&levels[depth], to: count)
            let start = from / 2, end = through < from ? start - 1 : through / 2
            let parents = Self.unique(paths.map { $0 / 2 }).filter { $0 < start || $0 > end }
            if depth == 0 {
                Self.hash(leaves, into: &levels[0], span: start..<(end + 1), parents: parents)
            } else {
                // Reading one level while writing the next: take the output out of the array.
                var output = levels[depth]
                levels[depth] = []
                Self.hash(levels[depth - 1], into: &output, span: start..<(end + 1), parents: parents)
                levels[depth] = output
            }
            from = start
            through = end
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

    /// Parents `span` of `nodes` (one batch, SIMD lanes), then the single parents in `parents`.
    private static func hash(_ nodes: [Hash256], into output: inout [Hash256], span: Range<Int>, parents: [Int]) {
        let nodeSize = MemoryLayout<Hash256>.stride
        DomainKeys.merkleNode.withUnsafeBytes { key in
            nodes.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { out in
                    let end = min(span.upperBound, out.count / nodeSize)
                    if span.lowerBound < end {
                        BLAKE3.merkleLevel(nodes: input.baseAddress! + 2 * span.lowerBound * nodeSize,
                                           nodeCount: min(2 * (end - span.lowerBound), nodes.count - 2 * span.lowerBound),
                                           key: key.baseAddress!, output: out.baseAddress! + span.lowerBound * nodeSize)
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
