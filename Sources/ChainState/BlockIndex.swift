// The block tree: index nodes, loading them, header checks in context, invalidity marks.

import Consensus
import Primitives
import Storage

/// One block known to the node: header, place in the tree, cumulative work.
/// Its `let` fields never change, so readers on other threads may use them (`ChainSnapshot`);
/// the `var` fields belong to the writer.
public final class BlockNode {
    public let hash: Hash256
    public let header: BlockHeader
    public let chainWork: UInt256
    public let parent: BlockNode?
    /// An ancestor further back (Bitcoin's pskip), so `ancestor(at:)` takes O(log n) steps.
    let skip: BlockNode?
    public internal(set) var isInvalid: Bool
    /// False for a header accepted ahead of its block (headers-first); such nodes live only
    /// in memory and never reach the database's index.
    public internal(set) var hasBlock: Bool

    init(hash: Hash256, header: BlockHeader, chainWork: UInt256, parent: BlockNode?, isInvalid: Bool = false, hasBlock: Bool = true) {
        self.hash = hash
        self.header = header
        self.chainWork = chainWork
        self.parent = parent
        self.skip = parent?.ancestor(at: Self.skipHeight(header.height))
        self.isInvalid = isInvalid
        self.hasBlock = hasBlock
    }

    /// The ancestor at `height` (self at its own height), nil above it.
    public func ancestor(at height: UInt64) -> BlockNode? {
        guard height <= self.height else { return nil }
        var cursor = self
        while cursor.height > height {
            // Bitcoin's GetAncestor: take the skip unless it overshoots.
            if let skip = cursor.skip, skip.height >= height {
                cursor = skip
            } else {
                cursor = cursor.parent!
            }
        }
        return cursor
    }

    /// Bitcoin's GetSkipHeight: any height below, chosen so walks back take O(log n) jumps.
    static func skipHeight(_ height: UInt64) -> UInt64 {
        func clearLowestBit(_ n: UInt64) -> UInt64 { n & (n &- 1) }
        guard height >= 2 else { return 0 }
        return height & 1 == 1 ? clearLowestBit(clearLowestBit(height - 1)) + 1 : clearLowestBit(height)
    }

    public var height: UInt64 { header.height }

    /// index record: header (128) | chain work (32, big-endian) | status (1: invalid)
    var record: [UInt8] { header.encoded + chainWork.bigEndianBytes + [isInvalid ? 1 : 0] }
}

extension ChainState {
    func loadIndex() throws {
        var records: [(Hash256, BlockHeader, UInt256, Bool)] = []
        let iterator = database.iterator(families.index)
        iterator.seekToFirst()
        while iterator.isValid {
            let value = iterator.value
            guard let hash = Hash256(bytes: iterator.key), value.count == 128 + 32 + 1,
                  let header = try? BlockHeader(decoding: Array(value[0..<128])) else {
                throw ChainStateError.corruptDatabase("index record \(HexCoding.encode(iterator.key))")
            }
            records.append((hash, header, UInt256(bigEndian: value[128..<160]), value[160] == 1))
            iterator.next()
        }
        try iterator.checkStatus()
        // Parents before children.
        records.sort { $0.1.height < $1.1.height }
        for (hash, header, work, invalid) in records where nodes[hash] == nil {
            guard let parent = nodes[header.previousHash] else {
                throw ChainStateError.corruptDatabase("block \(hash.hex) has no parent in the index")
            }
            // Accepted headers always sit one above their parent; holding every node to it
            // bounds heights by the record count, so later Int(height) conversions are safe.
            guard parent.height < UInt64.max, header.height == parent.height + 1 else {
                throw ChainStateError.corruptDatabase("block \(hash.hex) has height \(header.height) above a parent at \(parent.height)")
            }
            nodes[hash] = BlockNode(hash: hash, header: header, chainWork: work, parent: parent, isInvalid: invalid)
        }
    }

    static func path(to node: BlockNode) -> [BlockNode] {
        var chain = [BlockNode]()
        chain.reserveCapacity(Int(node.height) + 1)
        var cursor: BlockNode? = node
        while let current = cursor { chain.append(current); cursor = current.parent }
        return chain.reversed()
    }

    public func node(_ hash: Hash256) -> BlockNode? { nodes[hash] }

    /// Blocks the index records as invalid (kept so they are never validated again).
    public var invalidBlocks: Set<Hash256> { Set(nodes.values.lazy.filter(\.isInvalid).map(\.hash)) }

    /// Median time of `node` and up to 10 ancestors.
    public func medianTimePast(_ node: BlockNode) -> UInt64 { HeaderRules.medianTime(recentTimes(node)) }

    /// Times of `node` and its ancestors, up to the median-time span.
    func recentTimes(_ node: BlockNode) -> [UInt64] {
        var times = [UInt64]()
        var cursor: BlockNode? = node
        while let current = cursor, times.count < parameters.medianTimeSpan {
            times.append(current.header.time)
            cursor = current.parent
        }
        return times
    }

    /// Checks `header` against `parent` and the chain before it, and makes its index node
    /// (not yet recorded).
    func checkedNode(for header: BlockHeader, hash: Hash256, parent: BlockNode, hasBlock: Bool = true) throws -> BlockNode {
        do {
            try HeaderRules.check(header, parentHash: parent.hash, parentHeight: parent.height, parentTime: parent.header.time,
                                  recentTimes: recentTimes(parent), now: now(), parameters: parameters)
        } catch {
            throw ChainStateError.rejected(error, height: header.height, hash: hash)
        }
        let work = ProofOfWork.work(target: (try? header.compactTarget.target()) ?? parameters.powLimit)
        return BlockNode(hash: hash, header: header, chainWork: parent.chainWork.addingReportingOverflow(work).partialValue,
                         parent: parent, hasBlock: hasBlock)
    }

    /// Enters a new node in the index and tells `nodeAdded` (a `ChainService`'s reader index).
    func addNode(_ node: BlockNode) {
        nodes[node.hash] = node
        if node.chainWork > bestHeader.chainWork { bestHeader = node }
        nodeAdded?(node)
    }

    func markInvalid(_ node: BlockNode) {
        node.isInvalid = true
        pending.put(families.index, node.hash.bytes, node.record)
        for other in nodes.values where !other.isInvalid {
            var cursor = other.parent
            while let current = cursor, current.height >= node.height {
                if current === node {
                    other.isInvalid = true
                    // Header-only nodes stay out of the database (see `BlockNode.hasBlock`).
                    if other.hasBlock { pending.put(families.index, other.hash.bytes, other.record) }
                    break
                }
                cursor = current.parent
            }
        }
        if bestHeader.isInvalid { bestHeader = Self.mostWork(nodes.values) }
    }

    /// The valid node with the most work (the earliest seen of equals is not tracked: any).
    static func mostWork(_ nodes: some Sequence<BlockNode>) -> BlockNode {
        nodes.filter { !$0.isInvalid }.max { $0.chainWork < $1.chainWork }!
    }

}
