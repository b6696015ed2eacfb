// Chain locks in the chain state (docs/protocol/chainlocks.md): the best lock, its
// persistence, and the rule that the best chain never leaves a chain-locked block.

import Primitives
import QuorumServices
import Storage

/// The chain state's chain-lock bookkeeping (the writer's, like the rest of `ChainState`).
struct ChainLockRecord {
    /// The highest accepted lock: every chain the node follows must contain its block.
    var best: ChainLock?
    /// Branches with more work than the tip that were not followed because they leave the locked block.
    var refusedBranches = 0
}

extension ChainState {
    public enum ChainLockAcceptance: Equatable, Sendable {
        /// The new best lock; the active chain holds its block (switched to it if need be and possible).
        case accepted
        /// The best lock already covers this block at this height (a second aggregation of it).
        case duplicate
        /// Signed correctly, but the block is not in the index: offer it again once the block (or header) is known.
        case unknownBlock
    }

    static let chainLockKey = Array("chainlock".utf8)

    /// The highest chain lock accepted (kept across restarts).
    public var bestChainLock: ChainLock? { chainLocks.best }

    /// Competing branches with more work refused since open because they leave the locked block.
    public var chainLockRefusedBranches: Int { chainLocks.refusedBranches }

    /// Checks `lock` against `signers` (the active chain-lock quorums: responsible quorum, valid
    /// signature) and the best lock (an older height is stale, another block at the same height
    /// conflicts), then makes it the best lock: persisted at once, the active chain switched
    /// to its block's branch when that branch is stored, and headers leaving it no longer the
    /// best header. Throws `ChainLockError` (nothing changes) or a storage error.
    public func accept(chainLock lock: ChainLock, signers: ChainLockSigners) throws -> ChainLockAcceptance {
        guard !isReadOnly else { throw ChainStateError.storage("the chain state is open read-only") }
        if let best = chainLocks.best {
            // Cheap refusals first: a stale lock costs no signature check.
            if lock.height < best.height { throw ChainLockError.staleHeight(height: lock.height, lockedHeight: best.height) }
            if lock.height == best.height && lock.blockHash == best.blockHash { return .duplicate }
        }
        try signers.check(lock)
        if let best = chainLocks.best, lock.height == best.height {
            throw ChainLockError.conflictingLock(height: lock.height, locked: best.blockHash, offered: lock.blockHash)
        }
        guard let node = nodes[lock.blockHash] else { return .unknownBlock }
        guard node.height == lock.height else {
            throw ChainLockError.heightMismatch(block: lock.blockHash, blockHeight: node.height, lockHeight: lock.height)
        }
        // Durable before anything follows it, so a crash cannot forget a lock the chain obeyed.
        try database.put(families.meta, Self.chainLockKey, lock.encoded, sync: true)
        chainLocks.best = lock
        keepBestHeaderOnChainLock()
        if !followsChainLock(tip), let target = lockedBranchTip() {
            try reorganize(to: target)
            try flushIfNeeded()
        }
        return .accepted
    }

    /// Whether a chain ending at `node` keeps the locked block: it contains it, or (shorter)
    /// lies on the way to it. With no lock, or below a lock whose block is unknown, any chain does.
    func followsChainLock(_ node: BlockNode) -> Bool {
        guard let lock = chainLocks.best else { return true }
        if node.height >= lock.height { return node.ancestor(at: lock.height)?.hash == lock.blockHash }
        guard let locked = nodes[lock.blockHash] else { return true }
        return locked.ancestor(at: node.height) === node
    }

    /// The stored, valid chain with the most work through the locked block (nil: its block
    /// is not stored yet, or none is valid).
    func lockedBranchTip() -> BlockNode? {
        guard let lock = chainLocks.best, let locked = nodes[lock.blockHash], locked.hasBlock, !locked.isInvalid else { return nil }
        return nodes.values.lazy
            .filter { $0.hasBlock && !$0.isInvalid && $0.height >= locked.height && $0.ancestor(at: locked.height) === locked }
            .max { $0.chainWork < $1.chainWork }
    }

    /// The tip `accept` should move to after storing `node`: normally `node` when it has more
    /// work than the tip; never a branch that leaves the locked block (it stays stored, not
    /// invalid, and is taken up if a later lock names it); and the locked branch when the tip
    /// is not on it (a lock arrived for a block stored only later).
    func preferredTip(after node: BlockNode) -> BlockNode? {
        if !followsChainLock(tip) { return lockedBranchTip() }
        guard tip.chainWork < node.chainWork else { return nil }
        guard followsChainLock(node) else {
            chainLocks.refusedBranches += 1
            return nil
        }
        return node
    }

    /// Headers-first targets only chains that keep the locked block.
    func keepBestHeaderOnChainLock() {
        guard !followsChainLock(bestHeader) else { return }
        bestHeader = nodes.values.lazy.filter { !$0.isInvalid && self.followsChainLock($0) }.max { $0.chainWork < $1.chainWork } ?? tip
    }

    /// Reads the persisted lock (open, before the crash replay, so the replay obeys it too).
    func loadChainLock() throws {
        guard let bytes = try database.get(families.meta, Self.chainLockKey) else { return }
        do {
            chainLocks.best = try ChainLock.decode(bytes)
        } catch {
            throw ChainStateError.corruptDatabase("stored chain lock: \(error)")
        }
    }
}

extension ChainService {
    /// See `ChainState.accept(chainLock:signers:)`.
    public func accept(chainLock: ChainLock, signers: ChainLockSigners) throws -> ChainState.ChainLockAcceptance {
        try withWriter { try $0.accept(chainLock: chainLock, signers: signers) }
    }
}
