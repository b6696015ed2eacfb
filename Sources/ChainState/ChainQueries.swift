// Read-only questions the node's RPC methods ask of the block tree and undo data
// (getchaintips, getblock's fees). Writer-side: call them under `ChainService.withWriter`.

import Consensus
import Primitives

extension ChainState {
    /// The nodes no other node builds on: the tip of every branch the index knows (the
    /// active tip, side branches, header-only chains, invalid ones).
    public func chainTips() -> [BlockNode] {
        var hasChild = Set<Hash256>()
        for node in nodes.values { if let parent = node.parent { hasChild.insert(parent.hash) } }
        return nodes.values.filter { !hasChild.contains($0.hash) }
    }

    /// Whether the block was connected at some point (its undo record exists): its branch
    /// was then fully validated, even if a reorganisation has since left it.
    public func wasConnected(_ hash: Hash256) throws -> Bool {
        if pendingUndo[hash] != nil || unflushedUndo[hash] != nil { return true }
        return try database.get(families.undo, hash.bytes) != nil
    }

    /// The coins a connected block spent (its undo record), by outpoint; nil when the block
    /// was never connected.
    public func spentCoins(ofBlock hash: Hash256) throws -> [OutPoint: Coin]? {
        let bytes: [UInt8]
        if let pending = pendingUndo[hash] {
            bytes = pending
        } else {
            guard try wasConnected(hash) else { return nil }
            bytes = try storedRecord(families.undo, undoFiles, unflushedUndo, hash, "undo data of block")
        }
        return Dictionary(try Self.decodeUndo(bytes).spent, uniquingKeysWith: { first, _ in first })
    }
}
