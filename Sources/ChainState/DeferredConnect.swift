// Deferred signatures: connect now, verify in batches later (verify-chain's bulk path).

import Consensus
import Ed25519
import Primitives

// MARK: - Deferred signatures (bulk verification)

struct UnverifiedBlock {
    var node: BlockNode
    var encoded: [UInt8]
    /// The node was in the index as a header before its block came (headers-first sync): a
    /// rejection returns it to header-only instead of forgetting it, since its descendants'
    /// headers hang off it.
    var headerOnlyBefore = false
}

/// A block connected with its signature checks deferred: what is left to verify, in order.
public struct DeferredConnection: Sendable {
    public var height: UInt64
    public var hash: Hash256
    /// The signature checks left to verify, as flat arrays (built on the UTXO stage's
    /// thread, so the signature stage neither allocates nor frees per signature).
    public var signatures: SignatureBatch
    public var locations: [CheckLocation]
    public var transactions: Int
    public var inputs: Int
}

extension ChainState {
    /// Connected blocks whose signatures have not been confirmed yet.
    public var unverifiedCount: Int { unverified.count }

    /// Height of the last block whose signatures all verified (the tip when none are pending).
    public var verifiedHeight: UInt64 { unverified.first.map { $0.node.height - 1 } ?? tip.height }

    /// Whether the cache and pending writes are over the --dbcache limit.
    public var needsFlush: Bool { utxo.memoryUsage + pendingBytes > cacheLimitBytes }

    /// Flushes when over the cache limit, but only if no connected block awaits its signatures.
    public func flushIfNeededAndVerified() throws {
        if unverified.isEmpty && needsFlush { try flush() }
    }

    /// Whether `block` is new (or known by its header only) and extends the tip, so it can be
    /// connected with `connectDeferred`. Anything else (known blocks, side branches,
    /// reorganisations, orphans) goes through `accept`.
    public func canConnectDeferred(_ block: Block) -> Bool {
        guard block.header.previousHash == tip.hash else { return false }
        guard let known = nodes[block.hash] else { return true }
        return !known.hasBlock && !known.isInvalid
    }

    /// Connects a block that extends the tip and passed the context-free rules (`txids` and
    /// `witnessRoot` from `ContextFreeRules.check`; a nil witness root is computed here):
    /// header rules in context, contextual rules and scripts, the masternode list and the
    /// state root, UTXO update; its signature checks (inputs, then special payloads) are
    /// returned instead of verified. Nothing is written to
    /// the database (no flush can happen) until `confirmDeferred` covers it.
    /// Throws `ChainStateError.rejected` with nothing changed; the caller should settle the
    /// pending signatures, then `accept` the block to have it recorded as invalid.
    public func connectDeferred(_ block: Block, txids: [Hash256], witnessRoot: Hash256? = nil,
                                encoded: [UInt8]? = nil, encodedSize: Int? = nil) throws -> DeferredConnection {
        precondition(canConnectDeferred(block))
        let hash = block.hash
        let parent = tip
        // A header that came first passed the header rules then: its node is reused, so the
        // header-only descendants that hang off it stay attached.
        let known = nodes[hash]
        let node = try known ?? checkedNode(for: block.header, hash: hash, parent: parent)
        try checkGovernedBlockSize(encodedSize ?? encoded?.count ?? block.encoded.count, node: node)
        let (masternodeUndo, payloadSignatures) = try connectMasternodes(
            block, node: node, txids: txids, witnessRoot: witnessRoot ?? Merkle.root(of: block.transactions.map(\.wtxid)))
        var delta: BlockDelta
        do { delta = try contextualDelta(node, block, txids: txids) } catch {
            masternodes.revert(masternodeUndo)
            throw error
        }
        // Payload signatures ride the block's batch; a failure comes back through `rejectDeferred`.
        delta.appendPayloadSignatures(payloadSignatures, blockHash: hash, height: node.height)
        if let known { known.hasBlock = true } else { addNode(node) }
        pendingUndo[hash] = apply(delta, masternodeUndo, node: node, transactions: block.transactions.count)
        unverified.append(UnverifiedBlock(node: node, encoded: encoded ?? block.encoded, headerOnlyBefore: known != nil))
        return DeferredConnection(height: node.height, hash: hash, signatures: delta.signatureBatch, locations: delta.checkLocations,
                                  transactions: block.transactions.count, inputs: delta.inputCount)
    }

    /// The oldest `count` unverified blocks had every signature verify: their block, index
    /// and undo records join the next flush.
    public func confirmDeferred(_ count: Int) throws {
        precondition(count <= unverified.count)
        for entry in unverified.prefix(count) {
            let hash = entry.node.hash
            try storeBlock(hash, entry.encoded)
            pending.put(families.index, hash.bytes, entry.node.record)
            try storeUndo(hash, pendingUndo.removeValue(forKey: hash)!)
            pendingBytes += 256 + 64
        }
        unverified.removeFirst(count)
    }

    /// A signature of unverified block number `index` (0: the oldest) failed at `location`:
    /// the blocks before it are confirmed, it and every later one are disconnected, it is
    /// recorded as invalid (as `accept` does) and the later ones are forgotten. Returns the
    /// error to report, worded as the sequential path words it; the chain state is at the
    /// last block whose signatures all verified (flush to persist it).
    public func rejectDeferred(index: Int, location: CheckLocation) throws -> ChainStateError {
        precondition(index < unverified.count)
        try confirmDeferred(index)
        let bad = unverified[0]
        precondition(bad.node.hash == location.blockHash)
        let headerOnlyBefore = Set(unverified.filter(\.headerOnlyBefore).map(\.node.hash))
        while tip !== bad.node.parent {
            let dropped = tip
            try disconnectTip()
            pendingUndo[dropped.hash] = nil
            if dropped !== bad.node {
                // Back to what it was: a header awaiting its block, or unknown.
                if headerOnlyBefore.contains(dropped.hash) { dropped.hasBlock = false } else { nodes[dropped.hash] = nil }
            }
        }
        unverified.removeAll()
        // The dropped blocks may have been the best header.
        if nodes[bestHeader.hash] !== bestHeader { bestHeader = Self.mostWork(nodes.values) }
        try storeBlock(bad.node.hash, bad.encoded)
        pendingBytes += 64
        markInvalid(bad.node)
        return ChainStateError.rejected(Self.signatureRejection(location), height: bad.node.height, hash: bad.node.hash)
    }
}
