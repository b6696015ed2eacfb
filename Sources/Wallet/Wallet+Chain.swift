// Following the chain: scanning active-chain blocks for the wallet's coins and spends, tip
// events, rewinding on reorganisations, saving.

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

extension Wallet {
    /// Catches up with the active chain, then follows its tip events until `stop()`.
    public func start() {
        guard let chain else { return }
        let events = chain.tipEvents()
        lock.withLock {
            followTask?.cancel()
            followTask = Task.detached { [weak self] in
                self?.synchronize()
                for await _ in events {
                    guard let self, !Task.isCancelled else { return }
                    self.synchronize()
                }
            }
        }
    }

    /// Stops following the chain and saves.
    public func stop() {
        let task = lock.withLock { defer { followTask = nil }; return followTask }
        task?.cancel()
        syncLock.withLock { lock.withLock { saveIfDirty() } }
    }

    /// Brings the wallet to the chain's current active tip: blocks of a branch that left
    /// the active chain are undone (their transactions dropped, the wallet's own sends kept
    /// as unconfirmed), then every active block above the last scanned one is scanned.
    /// Idempotent; tip events only trigger it.
    public func synchronize() {
        guard let chain else { return }
        syncLock.withLock {
            let snapshot = chain.snapshot
            var height: UInt64 = lock.withLock {
                if let text = document.scannedHash, let hash = Hash256(hex: text), snapshot.activeHeight(of: hash) == nil {
                    // The fork: walk back along the old branch's headers to the active chain.
                    var cursor = hash
                    var fork: UInt64?
                    while let header = snapshot.header(cursor) {
                        if let height = snapshot.activeHeight(of: header.previousHash) { fork = height; break }
                        cursor = header.previousHash
                    }
                    rewind(above: fork)
                    document.scannedHeight = fork
                    document.scannedHash = fork.flatMap { snapshot.hash(atHeight: $0) }?.hex
                    dirty = true
                }
                return document.scannedHeight.map { $0 + 1 } ?? 0
            }
            var failure: String?
            while height <= snapshot.tipHeight {
                guard let hash = snapshot.hash(atHeight: height) else { break }
                let block: Block
                do {
                    guard let bytes = try chain.block(hash) else { failure = "block \(hash) at height \(height) is not stored"; break }
                    block = try Block(decoding: bytes)
                } catch {
                    failure = "block \(hash) at height \(height): \(error)"
                    break
                }
                lock.withLock { apply(block, hash: hash, height: height) }
                height += 1
            }
            lock.withLock {
                syncFailure = failure
                saveIfDirty()
            }
        }
    }

    /// Records the wallet's transactions in an active-chain block (caller holds `lock`).
    func apply(_ block: Block, hash: Hash256, height: UInt64) {
        // An unconfirmed transaction (ours, or a payment to us back from a reorganisation) whose
        // input this block spends in another transaction can never confirm: drop it.
        let unconfirmed = tracked.values.filter { $0.record.blockHeight == nil && $0.record.replacedBy == nil }
        if !unconfirmed.isEmpty {
            var spentHere = [OutPoint: Hash256]()
            for transaction in block.transactions.dropFirst() {
                let txid = transaction.txid
                for input in transaction.inputs { spentHere[input.previousOutput] = txid }
            }
            for item in unconfirmed where item.transaction.inputs.contains(where: { spentHere[$0.previousOutput].map { $0 != item.txid } ?? false }) {
                remove(item.txid)
            }
        }
        for (position, transaction) in block.transactions.enumerated() {
            let txid = transaction.txid
            var pays = false
            for output in transaction.outputs {
                guard let ref = owner(output) else { continue }
                pays = true
                // A key beyond the handed-out ones has been used (a restored seed): skip past it.
                if ref.internal, ref.index >= document.nextInternal { document.nextInternal = ref.index + 1 }
                if !ref.internal, ref.index >= document.nextExternal { document.nextExternal = ref.index + 1 }
            }
            let spends = !transaction.isCoinbase && transaction.inputs.contains { isOurs($0.previousOutput) }
            guard pays || spends else { continue }
            if !transaction.isCoinbase {
                // An unconfirmed transaction spending the same coin can never confirm now.
                for input in transaction.inputs {
                    if let other = spentBy[input.previousOutput], other != txid { remove(other) }
                }
            }
            if var existing = tracked[txid] {
                if existing.record.replacedBy != nil {
                    // The replaced send was mined after all: it holds its coins again.
                    existing.record.replacedBy = nil
                    for input in transaction.inputs where isOurs(input.previousOutput) { spentBy[input.previousOutput] = txid }
                }
                existing.blockHash = hash
                existing.record.blockHash = hash.hex
                existing.record.blockHeight = height
                existing.record.blockTime = block.header.time
                existing.record.blockPosition = position
                tracked[txid] = existing
            } else {
                let record = TransactionRecord(raw: HexCoding.encode(transaction.encoded), blockHash: hash.hex, blockHeight: height,
                                               blockTime: block.header.time, blockPosition: position, receivedAt: block.header.time,
                                               fromMe: spends, comment: nil, commentTo: nil)
                insert(Tracked(transaction: transaction, txid: txid, record: record, blockHash: hash))
            }
        }
        if let seed { WalletFile.topUp(&document, seed: seed).forEach { index($0, publicKey: HexCoding.decode($0.publicKey)!) } }
        document.scannedHash = hash.hex
        document.scannedHeight = height
        dirty = true
    }

    /// Undoes every block above `fork` (nil: all of them): their coinbases are dropped (with
    /// what spends them); every other transaction becomes unconfirmed, as it is back in the
    /// pool (a payment received there stays visible as pending, and the wallet's own sends
    /// spending it keep their change); a later block confirms it again or a conflicting spend
    /// removes it.
    func rewind(above fork: UInt64?) {
        let undone = tracked.values.filter { item in
            guard let height = item.record.blockHeight else { return false }
            return fork.map { height > $0 } ?? true
        }
        for item in undone where tracked[item.txid] != nil {
            if item.transaction.isCoinbase {
                remove(item.txid)
            } else {
                var kept = item
                kept.blockHash = nil
                kept.record.blockHash = nil; kept.record.blockHeight = nil; kept.record.blockTime = nil; kept.record.blockPosition = nil
                tracked[item.txid] = kept
            }
        }
        // An unconfirmed send survives only while every coin it spends is still the wallet's.
        var changed = true
        while changed {
            changed = false
            for item in tracked.values where item.record.blockHeight == nil && item.record.fromMe {
                if item.transaction.inputs.contains(where: { !isOurs($0.previousOutput) }) { remove(item.txid); changed = true; break }
            }
        }
        dirty = true
    }

    /// Drops a transaction and, recursively, the unconfirmed ones spending its outputs.
    func remove(_ txid: Hash256) {
        guard let item = tracked.removeValue(forKey: txid) else { return }
        for input in item.transaction.inputs where spentBy[input.previousOutput] == txid { spentBy[input.previousOutput] = nil }
        for index in item.transaction.outputs.indices {
            if let spender = spentBy[OutPoint(txid: txid, index: UInt32(index))] { remove(spender) }
        }
        dirty = true
    }

    func owner(_ output: TxOut) -> KeyRef? {
        guard let hash = Address.keyHash(lockScript: output.lockScript) else { return nil }
        return keysByHash[hash]
    }

    func isOurs(_ outpoint: OutPoint) -> Bool {
        guard let item = tracked[outpoint.txid], Int(outpoint.index) < item.transaction.outputs.count else { return false }
        return owner(item.transaction.outputs[Int(outpoint.index)]) != nil
    }

    func saveIfDirty() {
        guard dirty else { return }
        do {
            try save()
        } catch {
            syncFailure = "cannot save the wallet: \(error)"
        }
    }

    func save() throws(WalletError) {
        document.transactions = tracked.values.sorted(by: Self.historyOrder).map(\.record)
        try WalletFile.write(document, path: path)
        dirty = false
    }

    /// Chain order, then unconfirmed ones by arrival.
    static func historyOrder(_ a: Tracked, _ b: Tracked) -> Bool {
        switch (a.record.blockHeight, b.record.blockHeight) {
        case let (x?, y?): return x != y ? x < y : (a.record.blockPosition ?? 0) < (b.record.blockPosition ?? 0)
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return a.record.receivedAt != b.record.receivedAt ? a.record.receivedAt < b.record.receivedAt : a.txid < b.txid
        }
    }
}
