// The deterministic masternode list in the chain state (PROTOCOL section 16.4): applied when
// a block connects, reverted from the block's undo record when it disconnects, committed in
// the header's state root, persisted in its own column family with every flush, and
// reconstructible for the last `listHistoryBlocks` heights.

import Consensus
import Governance
import Masternodes
import Primitives
import Quorums
import Storage

/// `masternodeList(at:)` was asked for a height it cannot reconstruct exactly.
public struct MasternodeHistoryError: Error, CustomStringConvertible, Equatable {
    public var height: UInt64
    public var tipHeight: UInt64
    public var historyBlocks: UInt64

    public var description: String {
        height > tipHeight
            ? "no masternode list at height \(height): the tip is at \(tipHeight)"
            : "no masternode list at height \(height): only the last \(historyBlocks) blocks below the tip \(tipHeight) are kept"
    }
}

extension ChainState {
    static let masternodeFamilyName = "masternodes"
    /// Key of the marker naming the block the stored list follows (entries have 32-byte keys).
    static let masternodeMarkerKey = Array("list-after-block".utf8)

    /// Applies `block`'s masternode effects to the list and checks the header's state root
    /// against the list after it. Returns the list's undo and the payload signatures left
    /// for the block's signature batch (the caller appends them to its checks: a failure
    /// there rejects the block and reverts the undo); on a rejection (thrown as
    /// `ChainStateError.rejected`) the list is unchanged. It runs before the contextual rules,
    /// as the state root was checked before them when it committed to the block alone: the
    /// caller reverts the undo if a later rule rejects the block. The block's quorum effects
    /// (section 17.5) follow: its commitments are checked first (against the list history,
    /// which the list's changes would disturb), their proof-of-service penalties go into the
    /// same list undo, and the quorum set after the block is staged until it connects.
    func connectMasternodes(_ block: Block, node: BlockNode, txids: [Hash256],
                            witnessRoot: Hash256) throws -> (undo: MasternodeListUndo, signatures: PayloadSignatureChecks) {
        let commitments = try checkQuorumCommitments(block, node: node)
        var applied: (undo: MasternodeListUndo, signatures: PayloadSignatureChecks)
        do {
            applied = try withCoinsAfter(block, txids: txids, height: node.height) { coin in
                try MasternodeRules.applyDeferringSignatures(block, txids: txids, height: node.height, to: &masternodes,
                                                             parameters: masternodeParameters(atHeight: node.height), coin: coin)
            }
        } catch let rejection as Rejection {
            throw ChainStateError.rejected(rejection, height: node.height, hash: node.hash)
        }
        let quorumsAfter = applyQuorumEffects(commitments, node: node, listUndo: &applied.undo)
        let governanceRoot: Hash256
        do {
            governanceRoot = try stageGovernance(block, node: node, txids: txids, signatures: &applied.signatures)
        } catch {
            masternodes.revert(applied.undo)
            if let rejection = error as? Rejection { throw ChainStateError.rejected(rejection, height: node.height, hash: node.hash) }
            throw error
        }
        do {
            let extensionRoot = ExtensionRoot.compute(masternodes: masternodes.root(), quorums: quorumsAfter.set.root(parameters: quorumParameters),
                                                      governance: governanceRoot)
            try ContextFreeRules.checkStateRoot(block.header, witnessRoot: witnessRoot, extensionRoot: extensionRoot)
        } catch {
            masternodes.revert(applied.undo)
            // A bad payload signature stopped the list before the root when checked at once:
            // it still names the rejection (and condemns the block), not the root.
            if let bad = applied.signatures.firstFailure() {
                throw ChainStateError.rejected(applied.signatures.rejection(at: bad), height: node.height, hash: node.hash)
            }
            throw ChainStateError.rejected(error, height: node.height, hash: node.hash)
        }
        stagedQuorums = (node.hash, quorumsAfter.set, quorumsAfter.undo)
        return applied
    }

    /// Records a connected block's list changes (for the next flush and for history) and
    /// makes its staged quorum set the state; returns the set's undo for the block's record.
    func noteMasternodesConnected(_ hash: Hash256, _ undo: MasternodeListUndo) -> QuorumSetUndo {
        for change in undo.changes { dirtyMasternodes.insert(change.proTxHash) }
        recentMasternodeUndo.append((hash, undo))
        let keep = Int(clamping: masternodeParameters.listHistoryBlocks)
        if recentMasternodeUndo.count > keep + 64 { recentMasternodeUndo.removeFirst(recentMasternodeUndo.count - keep) }
        return commitStagedQuorums(hash)
    }

    /// Reverts the list changes of the tip block being disconnected.
    func disconnectMasternodes(_ hash: Hash256, _ undo: MasternodeListUndo, quorums quorumUndo: QuorumSetUndo) {
        revertQuorums(quorumUndo)
        masternodes.revert(undo)
        for change in undo.changes { dirtyMasternodes.insert(change.proTxHash) }
        if recentMasternodeUndo.last?.hash == hash { recentMasternodeUndo.removeLast() }
    }

    /// Calls `body` with a lookup in the UTXO set as it would be after `block` (its outputs
    /// added, every outpoint it spends removed) without changing the cache. The block's maps
    /// are built only if something asks (an external collateral), so ordinary blocks pay nothing.
    func withCoinsAfter<T>(_ block: Block, txids: [Hash256], height: UInt64, _ body: ((OutPoint) throws -> Coin?) throws -> T) throws -> T {
        var maps: (created: [OutPoint: Coin], spent: Set<OutPoint>)?
        let utxo = self.utxo
        return try body { outpoint in
            let built = maps ?? Self.blockCoins(block, txids: txids, height: height)
            maps = built
            if built.spent.contains(outpoint) { return nil }
            if let coin = built.created[outpoint] { return coin }
            return try utxo.coin(outpoint)
        }
    }

    /// The outputs `block` creates (unspendable ones excepted) and the outpoints it spends.
    static func blockCoins(_ block: Block, txids: [Hash256], height: UInt64) -> (created: [OutPoint: Coin], spent: Set<OutPoint>) {
        var created = [OutPoint: Coin]()
        var spent = Set<OutPoint>()
        for (index, transaction) in zip(txids.indices, block.transactions) {
            if index > 0 { for input in transaction.inputs { spent.insert(input.previousOutput) } }
            for (position, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                created[OutPoint(txid: txids[index], index: UInt32(position))] = Coin(output: output, height: height, isCoinbase: index == 0)
            }
        }
        return (created, spent)
    }

    // MARK: - History

    /// The list after the active chain's block at `height`: exact for the tip and the
    /// `masternodeParameters.listHistoryBlocks` blocks below it (the undo of every block above
    /// `height` is reverted, newest first); a `MasternodeHistoryError` beyond.
    public func masternodeList(at height: UInt64) throws -> MasternodeList {
        guard height <= tip.height, tip.height - height <= masternodeParameters.listHistoryBlocks else {
            throw MasternodeHistoryError(height: height, tipHeight: tip.height, historyBlocks: masternodeParameters.listHistoryBlocks)
        }
        var list = masternodes
        var recent = recentMasternodeUndo[...]
        var node = tip
        while node.height > height {
            let undo: MasternodeListUndo
            if let last = recent.last, last.hash == node.hash {
                undo = last.undo
                recent.removeLast()
            } else {
                recent = []
                undo = try storedMasternodeUndo(node.hash)
            }
            list.revert(undo)
            guard let parent = node.parent else { break }
            node = parent
        }
        return list
    }

    /// The list undo in a connected block's undo record.
    func storedMasternodeUndo(_ hash: Hash256) throws -> MasternodeListUndo {
        let bytes = try pendingUndo[hash] ?? storedRecord(families.undo, undoFiles, unflushedUndo, hash, "undo data of block")
        return try Self.decodeUndo(bytes).masternodes
    }

    // MARK: - Persistence

    /// Loads the list as of the last flush. A datadir from before the list's family opens
    /// with an empty list (no block of it could have changed one).
    func loadMasternodes() throws {
        guard let family = masternodeFamily else { return }
        let stored = try loadRecordsAtTip(family, markerKey: Self.masternodeMarkerKey, state: "masternode list") { key, value -> StoredMasternodeEntry? in
            guard key.count == 32, let record = try? StoredMasternodeEntry(decoding: value), Hash256(bytes: key) == record.entry.proTxHash else { return nil }
            return record
        }
        masternodes = MasternodeList(stored: stored)
        try loadQuorums()
        try loadGovernance()
    }

    /// The records of `family` (each checked by `decode`, nil: corrupt), which must follow
    /// the best block: its marker at `markerKey` names it (no marker: no records).
    func loadRecordsAtTip<T>(_ family: RocksDB.ColumnFamily, markerKey: [UInt8], state: String,
                             decode: ([UInt8], [UInt8]) -> T?) throws -> [T] {
        var records = [T]()
        var marker: [UInt8]?
        let iterator = database.iterator(family)
        iterator.seekToFirst()
        while iterator.isValid {
            let key = iterator.key
            if key == markerKey {
                marker = iterator.value
            } else {
                guard let record = decode(key, iterator.value) else {
                    throw ChainStateError.corruptDatabase("\(state) record \(HexCoding.encode(key))")
                }
                records.append(record)
            }
            iterator.next()
        }
        try iterator.checkStatus()
        if let marker, marker != tip.hash.bytes {
            throw ChainStateError.corruptDatabase("the stored \(state) follows block \(HexCoding.encode(marker)), not the best block \(tip.hash.hex)")
        }
        if marker == nil && !records.isEmpty {
            throw ChainStateError.corruptDatabase("\(state) records without the marker of the block they follow")
        }
        return records
    }

    /// Adds the entries changed since the last flush, and the marker, to the flush's batch.
    func writeMasternodes(into batch: RocksDB.WriteBatch) {
        guard let family = masternodeFamily else { return }
        for id in dirtyMasternodes {
            if let entry = masternodes[id] { batch.put(family, id.bytes, entry.encoded) } else { batch.delete(family, id.bytes) }
        }
        dirtyMasternodes.removeAll(keepingCapacity: true)
        batch.put(family, Self.masternodeMarkerKey, tip.hash.bytes)
        writeQuorums(into: batch)
        writeGovernance(into: batch)
    }
}
