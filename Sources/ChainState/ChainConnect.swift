// Connecting and disconnecting blocks at the tip, and reorganising to the most-work branch.

import Consensus
import Ed25519
import Masternodes
import Primitives

extension ChainState {
    /// A switch of the best chain to a branch that did not extend the tip.
    public struct Reorganization: Sendable, Equatable {
        public var forkHeight: UInt64
        public var oldTip: Hash256
        public var oldHeight: UInt64
        public var newTip: Hash256
        public var newHeight: UInt64
        public var disconnected: Int
        public var connected: Int
    }

    /// The reorganisations recorded so far, forgetting them.
    public func takeReorganizations() -> [Reorganization] {
        defer { reorganizations.removeAll() }
        return reorganizations
    }

    public enum AcceptResult: Equatable {
        case connected        // the block is on the best chain now
        case sideBranch       // stored, on a branch with less work
        case orphan           // parent unknown; kept until it arrives
        case duplicate
    }

    /// Validates and stores a block, reorganising to the branch with the most work.
    /// Throws `ChainStateError.rejected` naming the rule; the chain is then unchanged.
    @discardableResult
    public func accept(_ block: Block, encodedSize: Int? = nil) throws -> AcceptResult {
        try accept(block, encodedSize: encodedSize, storedAt: nil)
    }

    /// `storedAt`: the block's record is already in the block files there (replay).
    func accept(_ block: Block, encodedSize: Int? = nil, storedAt: FlatFileStore.Position?) throws -> AcceptResult {
        guard !isReadOnly else { throw ChainStateError.storage("the chain state is open read-only") }
        precondition(unverified.isEmpty, "settle the deferred signatures (confirmDeferred/rejectDeferred) before accept")
        let hash = block.hash
        let known = nodes[hash]
        if let known {
            if known.isInvalid { throw ChainStateError.rejected(Rejection(.blockKnownInvalid), height: known.height, hash: hash) }
            if known.hasBlock { return .duplicate }
        }
        let size = encodedSize ?? block.encoded.count
        do {
            _ = try ContextFreeRules.check(block, encodedSize: size, parameters: parameters)
        } catch {
            throw ChainStateError.rejected(error, height: block.header.height, hash: hash)
        }
        // A header-only parent cannot be connected yet: its child waits like an orphan.
        guard let parent = nodes[block.header.previousHash], parent.hasBlock else {
            orphans[block.header.previousHash, default: []].append(block)
            return .orphan
        }
        if parent.isInvalid {
            throw ChainStateError.rejected(Rejection(.blockInvalidParent), height: block.header.height, hash: hash)
        }
        let node: BlockNode
        if let known {
            // Its header passed the header rules when it came (headers-first).
            node = known
            node.hasBlock = true
        } else {
            node = try checkedNode(for: block.header, hash: hash, parent: parent)
            addNode(node)
        }
        if let storedAt {
            pending.put(families.blocks, hash.bytes, storedAt.encoded)
            unflushedBlocks[hash] = storedAt
        } else {
            try storeBlock(hash, block.encoded)
        }
        pending.put(families.index, hash.bytes, node.record)
        pendingBytes += 256

        keepBestHeaderOnChainLock()
        var result = AcceptResult.sideBranch
        // Most work, except a branch that leaves the chain-locked block (ChainLockState.swift).
        if let target = preferredTip(after: node) {
            try reorganize(to: target)
            if tip.ancestor(at: node.height) === node { result = .connected }
        }
        try flushIfNeeded()
        // Orphans waiting for this block.
        if let children = orphans.removeValue(forKey: hash) {
            for child in children {
                do { try accept(child) } catch let error as ChainStateError { rejectedOrphans.append(error) }
            }
        }
        return result
    }

    func reorganize(to target: BlockNode) throws {
        let newBranch = Self.path(to: target)
        var fork = tip
        let targetPath = Set(newBranch.map(\.hash))
        while !targetPath.contains(fork.hash) { fork = fork.parent! }
        var disconnected = [BlockNode]()
        while tip !== fork {
            disconnected.append(tip)
            try disconnectTip()
        }
        let toConnect = newBranch.drop { $0.height <= fork.height }
        let oldTip = disconnected.first // nil: a plain extension of the tip
        for node in toConnect {
            do {
                try connectTip(node)
            } catch let error as ChainStateError {
                if case .rejected(let rejection, _, _) = error {
                    if rejection.rule == .blockStateRoot { forgetBody(node) } else { markInvalid(node) }
                    // Back to the old branch, which was fully valid.
                    while tip !== fork { try disconnectTip() }
                    for old in disconnected.reversed() { try connectTip(old) }
                }
                throw error
            }
        }
        if let oldTip {
            reorganizations.append(Reorganization(forkHeight: fork.height, oldTip: oldTip.hash, oldHeight: oldTip.height, newTip: target.hash,
                                                  newHeight: target.height, disconnected: disconnected.count, connected: toConnect.count))
        }
    }

    /// A block whose state root does not match may be a valid header carrying altered
    /// witnesses (which anyone relaying it can change without touching the txids): the state
    /// root commits to both the witness root and the chain state's extension root, so the two
    /// cannot be told apart. As Bitcoin does with a mutated block, the header is not marked
    /// invalid; the body is forgotten (with the bodies of its descendants, which cannot be
    /// connected without it), so the block's true body can still be accepted.
    func forgetBody(_ node: BlockNode) {
        var forget = [node]
        for other in nodes.values where other.hasBlock && other !== node && other.height > node.height && other.ancestor(at: node.height) === node {
            forget.append(other)
        }
        for forgotten in forget {
            forgotten.hasBlock = false
            // Header-only nodes stay out of the database (see `BlockNode.hasBlock`).
            pending.delete(families.index, forgotten.hash.bytes)
            pending.delete(families.blocks, forgotten.hash.bytes)
            unflushedBlocks[forgotten.hash] = nil
        }
    }

    func connectTip(_ node: BlockNode) throws {
        precondition(node.parent === tip)
        let bytes = try storedBlockBytes(node.hash)
        let block: Block
        do { block = try Block(decoding: bytes) } catch { throw ChainStateError.corruptDatabase("block \(node.hash.hex): \(error)") }
        try checkGovernedBlockSize(bytes.count, node: node)
        let ids = block.transactions.map(\.ids)
        let txids = ids.map(\.txid)
        let (masternodeUndo, payloadSignatures) = try connectMasternodes(block, node: node, txids: txids,
                                                                         witnessRoot: Merkle.root(of: ids.map(\.wtxid)))
        var delta: BlockDelta
        do { delta = try contextualDelta(node, block, txids: txids) } catch {
            masternodes.revert(masternodeUndo)
            throw error
        }
        delta.appendPayloadSignatures(payloadSignatures, blockHash: node.hash, height: node.height)
        let results = verifySignatures(delta.signatureBatch)
        if let bad = results.firstIndex(of: false) {
            masternodes.revert(masternodeUndo)
            let location = delta.checkLocations[bad]
            throw ChainStateError.rejected(Self.signatureRejection(location), height: node.height, hash: node.hash)
        }
        try storeUndo(node.hash, apply(delta, masternodeUndo, node: node, transactions: block.transactions.count))
        pendingBytes += 64
    }

    /// One verdict per item from `signatureVerifier`. A verifier that fails (a lost device)
    /// or answers with the wrong count is replaced for this batch by single verification on
    /// the CPU, as the pipeline does: the verdicts are the same either way.
    func verifySignatures(_ batch: SignatureBatch) -> [Bool] {
        guard !batch.isEmpty else { return [] }
        if let results = try? signatureVerifier.verify(batch), results.count == batch.count {
            signaturesVerifiedBy[signatureVerifier.name, default: 0] += batch.count
            return results
        }
        signaturesVerifiedBy["cpu (after a verifier failure)", default: 0] += batch.count
        return batch.items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) }
    }

    /// The rejection a failed signature check is reported with (the same in every path).
    public static func signatureRejection(_ location: CheckLocation) -> Rejection {
        if location.isPayload { return PayloadSignatureChecks.rejection(transaction: location.transaction) }
        return Rejection(.scriptSignature, "signature does not verify", transaction: location.transaction, input: location.input)
    }

    /// Contextual rules and script execution of `block` on top of the tip; mutates nothing
    /// (coins read are only cached).
    func contextualDelta(_ node: BlockNode, _ block: Block, txids: [Hash256]) throws -> BlockDelta {
        try utxo.prefetch(block.transactions.dropFirst().lazy.flatMap { $0.inputs.lazy.map(\.previousOutput) })
        let context = BlockConnector.Context(
            height: node.height, medianTimePast: medianTimePast(tip), blockHash: node.hash,
            medianTimePastBefore: { [active] height in
                let index = Int(min(height, UInt64(active.count))) - 1
                return index >= 0 ? self.medianTimePast(active[index]) : 0
            })
        do {
            return try BlockConnector.connect(block, txids: txids, context: context, parameters: parameters, view: utxo)
        } catch let rejection as Rejection {
            throw ChainStateError.rejected(rejection, height: node.height, hash: node.hash)
        }
    }

    /// Applies a checked delta to the UTXO cache and makes `node` the tip (the masternode
    /// list already holds the block's changes, `masternodeUndo`); returns the undo record.
    func apply(_ delta: BlockDelta, _ masternodeUndo: MasternodeListUndo, node: BlockNode, transactions: Int) -> [UInt8] {
        for (outpoint, _) in delta.spent { utxo.spend(outpoint) }
        for (outpoint, coin) in delta.created { utxo.add(outpoint, coin) }
        let quorumUndo = noteMasternodesConnected(node.hash, masternodeUndo)
        let governanceUndo = commitStagedGovernance(node.hash)
        let undo = Self.encodeUndo(delta.spent, masternodes: masternodeUndo, quorums: quorumUndo, governance: governanceUndo)
        tip = node
        active.append(node)
        connectedTransactions = transactions
        totalConnectedBlocks += 1
        totalConnectedTransactions += transactions
        connectedInputs = delta.inputCount
        connectedSignatures = delta.checks.count
        return undo
    }

    func disconnectTip() throws {
        guard let parent = tip.parent else { throw ChainStateError.corruptDatabase("cannot disconnect the genesis block") }
        let block = try loadBlock(tip.hash)
        let undoBytes: [UInt8]
        if let pendingBytes = pendingUndo[tip.hash] {
            undoBytes = pendingBytes
        } else {
            undoBytes = try storedRecord(families.undo, undoFiles, unflushedUndo, tip.hash, "undo data of block")
        }
        let undo = try Self.decodeUndo(undoBytes)
        for transaction in block.transactions.reversed() {
            let txid = transaction.txid
            for (index, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                utxo.spend(OutPoint(txid: txid, index: UInt32(index)))
            }
        }
        for (outpoint, coin) in undo.spent { utxo.add(outpoint, coin) }
        disconnectGovernance(undo.governance)
        disconnectMasternodes(tip.hash, undo.masternodes, quorums: undo.quorums)
        tip = parent
        active.removeLast()
    }

}
