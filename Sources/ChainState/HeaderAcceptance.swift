// Headers-first sync: headers enter the index ahead of their blocks.

import Consensus
import Primitives

extension ChainState {
    public enum HeaderResult: Equatable, Sendable {
        case added       // a new header-only node
        case duplicate   // the index already holds it
    }

    /// Checks `header` against the index (proof of work, then the header rules against its
    /// parent) and adds a header-only node; the block, when `accept` gets it, connects as
    /// any block does. Header-only nodes are kept in memory only: after a restart the node
    /// asks its peers for them again. Throws `ChainStateError.rejected` (nothing changed),
    /// with `header-prev-hash` when the parent is unknown.
    @discardableResult
    public func acceptHeader(_ header: BlockHeader) throws -> HeaderResult {
        guard !isReadOnly else { throw ChainStateError.storage("the chain state is open read-only") }
        let hash = header.hash
        if let known = nodes[hash] {
            if known.isInvalid { throw ChainStateError.rejected(Rejection(.blockKnownInvalid), height: known.height, hash: hash) }
            return .duplicate
        }
        guard let parent = nodes[header.previousHash] else {
            throw ChainStateError.rejected(Rejection(.headerPrevHash, "parent not in the index"), height: header.height, hash: hash)
        }
        if parent.isInvalid {
            throw ChainStateError.rejected(Rejection(.blockInvalidParent), height: header.height, hash: hash)
        }
        do {
            try ContextFreeRules.checkProofOfWork(header, parameters: parameters)
        } catch {
            throw ChainStateError.rejected(error, height: header.height, hash: hash)
        }
        addNode(try checkedNode(for: header, hash: hash, parent: parent, hasBlock: false))
        keepBestHeaderOnChainLock()
        return .added
    }
}

extension ChainState {
    /// See `ChainService.blocksToDownload`. A stored block's ancestors are all stored (a block
    /// is stored only once its parent is), so the walk stops at the first stored node.
    public func blocksToDownload(limit: Int) -> (firstHeight: UInt64, hashes: [Hash256]) {
        var missing = [BlockNode]()
        var node: BlockNode? = bestHeader
        while let current = node, !current.hasBlock {
            missing.append(current)
            node = current.parent
        }
        let lowest = missing.reversed().prefix(max(0, limit))
        return (lowest.first?.height ?? bestHeader.height + 1, lowest.map(\.hash))
    }
}
