// What tip subscribers hear: each block leaving or joining the active chain.

import Primitives

public enum TipEvent: Sendable, Equatable {
    /// A block left the active chain (tip first, down to the fork).
    case disconnected(height: UInt64, hash: Hash256)
    /// A block joined the active chain (from the fork up to the new tip).
    case connected(height: UInt64, hash: Hash256)
    /// Sent after the disconnects and connects of one publication that left the old tip's
    /// branch; it sums them up.
    case reorganized(ChainState.Reorganization)

    /// The events taking the active chain from `old`'s tip to `new`'s, in order.
    static func between(_ old: BlockNode, _ new: BlockNode) -> [TipEvent] {
        // The fork: the deepest common ancestor (skip pointers make each step O(log n)).
        var a = old.ancestor(at: min(old.height, new.height))!, b = new.ancestor(at: min(old.height, new.height))!
        while a !== b { a = a.parent!; b = b.parent! }
        let fork = a
        var events = [TipEvent]()
        var node = old
        while node !== fork { events.append(.disconnected(height: node.height, hash: node.hash)); node = node.parent! }
        let disconnected = events.count
        var joined = [TipEvent]()
        node = new
        while node !== fork { joined.append(.connected(height: node.height, hash: node.hash)); node = node.parent! }
        events += joined.reversed()
        if disconnected > 0 {
            events.append(.reorganized(ChainState.Reorganization(
                forkHeight: fork.height, oldTip: old.hash, oldHeight: old.height, newTip: new.hash, newHeight: new.height,
                disconnected: disconnected, connected: joined.count)))
        }
        return events
    }
}
