// The quorum set in the chain state (PROTOCOL section 17.5): each block's commitments are
// checked against the active chain below it and the masternode list at their DKG start,
// applied with the rotations of its height, committed in the state root beside the list,
// reverted from the block's undo record, and persisted in the "quorums" column family in
// the same batch as the list.

import Consensus
import Masternodes
import Primitives
import Quorums
import Storage

extension ChainState {
    static let quorumFamilyName = "quorums"
    /// Key of the marker naming the block the stored set follows (entries have 33-byte keys).
    static let quorumMarkerKey = Array("set-after-block".utf8)

    /// What the quorum rules read for a block at `height` on top of the tip: the active
    /// chain, the list history and the set as they stand before the block.
    func quorumContext(height: UInt64) -> QuorumChainContext {
        QuorumChainContext(
            height: height,
            blockHash: { [active] h in h < UInt64(active.count) ? active[Int(h)].hash : nil },
            list: { [unowned self] h in try self.masternodeList(at: h) },
            isMined: { [quorums] type, hash in quorums.contains(type: type, quorumHash: hash) })
    }

    /// The checks of every commitment in `block` (the block on top of the tip); nothing changes.
    func checkQuorumCommitments(_ block: Block, node: BlockNode) throws -> [CheckedQuorumCommitment] {
        guard block.transactions.dropFirst().contains(where: { $0.specialType == .quorumCommitment }) else { return [] }
        do {
            return try QuorumBlockRules.check(block, context: quorumContext(height: node.height), parameters: quorumParameters,
                                              masternodeParameters: masternodeParameters)
        } catch let rejection as Rejection {
            throw ChainStateError.rejected(rejection, height: node.height, hash: node.hash)
        }
    }

    /// Applies checked commitments and the height's rotations to a copy of the set (the
    /// penalties to the list, into `listUndo`); the set itself changes when the block connects.
    func applyQuorumEffects(_ commitments: [CheckedQuorumCommitment], node: BlockNode,
                            listUndo: inout MasternodeListUndo) -> (set: QuorumSet, undo: QuorumSetUndo) {
        var next = quorums
        let undo = QuorumBlockRules.apply(commitments, height: node.height, to: &next, list: &masternodes, listUndo: &listUndo,
                                          parameters: quorumParameters, masternodeParameters: masternodeParameters)
        return (next, undo)
    }

    /// Makes the set staged for `hash` the state; returns its undo (empty when none was staged).
    func commitStagedQuorums(_ hash: Hash256) -> QuorumSetUndo {
        guard let staged = stagedQuorums, staged.hash == hash else { return QuorumSetUndo() }
        stagedQuorums = nil
        quorums = staged.set
        dirtyQuorums.formUnion(staged.undo.touchedKeys)
        return staged.undo
    }

    func revertQuorums(_ undo: QuorumSetUndo) {
        quorums.revert(undo)
        dirtyQuorums.formUnion(undo.touchedKeys)
    }

    /// The checks of one commitment as the next block would apply them (the mempool's):
    /// against the tip, at height tip + 1.
    public func checkQuorumCommitment(_ transaction: Transaction) throws(Rejection) -> CheckedQuorumCommitment {
        do {
            return try QuorumCommitmentRules.check(transaction, context: quorumContext(height: tip.height + 1), parameters: quorumParameters,
                                                   masternodeParameters: masternodeParameters)
        } catch let rejection as Rejection {
            throw rejection
        } catch {
            throw Rejection(.quorumHash, "\(error)")
        }
    }

    /// For block builders: the quorum root after a block on top of the tip holding
    /// `commitments` (checked with `checkQuorumCommitment`, one per quorum), where `list` is
    /// the masternode list after the block's masternode rules; the commitments' penalties
    /// are applied to `list`, so its root is the block's too.
    public func quorumRootAfter(_ commitments: [CheckedQuorumCommitment], list: inout MasternodeList) -> Hash256 {
        var set = quorums
        var listUndo = MasternodeListUndo()
        _ = QuorumBlockRules.apply(commitments, height: tip.height + 1, to: &set, list: &list, listUndo: &listUndo,
                                   parameters: quorumParameters, masternodeParameters: masternodeParameters)
        return set.root(parameters: quorumParameters)
    }

    // MARK: - Persistence

    /// Loads the set as of the last flush (empty for a datadir from before its family).
    func loadQuorums() throws {
        guard let family = quorumFamily else { return }
        let entries = try loadRecordsAtTip(family, markerKey: Self.quorumMarkerKey, state: "quorum set") { key, value -> QuorumEntry? in
            guard let entry = try? QuorumEntry(decoding: value, path: "quorum_entry"), entry.key.bytes == key else { return nil }
            return entry
        }
        quorums = QuorumSet(entries: entries)
    }

    /// Adds the quorums changed since the last flush, and the marker, to the flush's batch.
    func writeQuorums(into batch: RocksDB.WriteBatch) {
        guard let family = quorumFamily else { return }
        for key in dirtyQuorums {
            if let entry = quorums[key] { batch.put(family, key.bytes, entry.encoded) } else { batch.delete(family, key.bytes) }
        }
        dirtyQuorums.removeAll(keepingCapacity: true)
        batch.put(family, Self.quorumMarkerKey, tip.hash.bytes)
    }
}
