// The index by hash for readers on other threads: the writer adds, readers look up.

import Foundation
import Primitives

/// A lock-protected map from hash to node, filled as the writer adds nodes. The lock is
/// held only for one dictionary operation, never during a connect, so readers do not wait
/// for the writer's work. It may hold nodes the writer later dropped (`rejectDeferred`'s
/// later blocks), whose headers passed the header rules; snapshots check membership of
/// their active chain through ancestry, so those never appear on one.
final class NodeLookup: @unchecked Sendable {
    private let lock = NSLock()
    private var nodes: [Hash256: BlockNode]

    init(_ nodes: [Hash256: BlockNode]) { self.nodes = nodes }

    func add(_ node: BlockNode) { lock.withLock { nodes[node.hash] = node } }

    subscript(hash: Hash256) -> BlockNode? { lock.withLock { nodes[hash] } }
}
