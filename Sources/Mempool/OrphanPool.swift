// Orphan transactions (Bitcoin Core's TxOrphanage as the anchor): relayed transactions with
// an input whose parent is neither in the chain nor in the pool, held briefly in case the
// parent arrives. Every index is keyed so that each operation costs the size of the orphans
// it touches, never the size of the pool: an attacker fills it at will.

import Primitives

/// Relayed transactions whose parents are unknown, kept briefly in case the parents arrive.
/// Bounded by `maxCount` (a random orphan is evicted when full, so a flooding peer cannot
/// choose what survives), `maxTransactionBytes` per transaction and `expirySeconds`.
public struct OrphanPool: Sendable {
    public struct Entry: Sendable, Equatable {
        public var transaction: Transaction
        public var txid: Hash256
        public var wtxid: Hash256
        public var peerID: Int
        /// Unix seconds it arrived.
        public var time: UInt64
    }

    public let maxCount: Int
    public let maxTransactionBytes: Int
    public let expirySeconds: UInt64

    /// An orphan with its place in the bookkeeping.
    private struct Stored: Sendable {
        var entry: Entry
        /// Arrival order (oldest first in `children(of:)`).
        var sequence: UInt64
        /// Its index in `slots` (random eviction picks a slot).
        var slot: Int
    }

    private var byTxid: [Hash256: Stored] = [:]
    private var txidByWtxid: [Hash256: Hash256] = [:]
    /// Orphans spending each outpoint (several orphans may spend one: they conflict).
    private var spendersByOutpoint: [OutPoint: Set<Hash256>] = [:]
    /// Orphans spending any output of each parent txid.
    private var childrenByParent: [Hash256: Set<Hash256>] = [:]
    private var txidsByPeer: [Int: Set<Hash256>] = [:]
    /// Every txid held, in no order: evicting slot i swaps the last slot into it.
    private var slots: [Hash256] = []
    /// Expiry order: a min-heap on (time, sequence), with stale items (orphans already gone)
    /// skipped when popped and dropped by a rebuild once they outnumber the live ones.
    private var expiryQueue = MinHeap<ExpiryItem>()
    private var nextSequence: UInt64 = 0
    private var generator: any RandomNumberGenerator & Sendable

    public init(maxCount: Int, maxTransactionBytes: Int = 100_000, expirySeconds: UInt64) {
        self.init(maxCount: maxCount, maxTransactionBytes: maxTransactionBytes, expirySeconds: expirySeconds,
                  generator: SystemRandomNumberGenerator())
    }

    /// With the generator that picks evictions (a seeded one in tests).
    public init(maxCount: Int, maxTransactionBytes: Int = 100_000, expirySeconds: UInt64,
                generator: some RandomNumberGenerator & Sendable) {
        self.maxCount = max(0, maxCount)
        self.maxTransactionBytes = maxTransactionBytes
        self.expirySeconds = expirySeconds
        self.generator = generator
    }

    /// Keeps `transaction` (evicting a random orphan when full); false when it is not kept
    /// (too large, already held, a limit of 0). `missingParents` are not needed: the inputs
    /// say which parents it waits for.
    public mutating func add(_ transaction: Transaction, txid: Hash256, wtxid: Hash256, missingParents: [Hash256], peerID: Int,
                             time: UInt64) -> Bool {
        guard maxCount > 0, byTxid[txid] == nil, txidByWtxid[wtxid] == nil else { return false }
        // Bitcoin Core refuses large orphans outright: they could pin much memory per slot.
        guard transaction.encoded.count <= maxTransactionBytes else { return false }
        while byTxid.count >= maxCount { evictRandom() }

        let entry = Entry(transaction: transaction, txid: txid, wtxid: wtxid, peerID: peerID, time: time)
        let sequence = nextSequence
        nextSequence += 1
        byTxid[txid] = Stored(entry: entry, sequence: sequence, slot: slots.count)
        slots.append(txid)
        txidByWtxid[wtxid] = txid
        for input in transaction.inputs {
            spendersByOutpoint[input.previousOutput, default: []].insert(txid)
            childrenByParent[input.previousOutput.txid, default: []].insert(txid)
        }
        txidsByPeer[peerID, default: []].insert(txid)
        expiryQueue.push(ExpiryItem(time: time, sequence: sequence, txid: txid))
        return true
    }

    public func contains(wtxid: Hash256) -> Bool { txidByWtxid[wtxid] != nil }

    public func contains(txid: Hash256) -> Bool { byTxid[txid] != nil }

    /// The orphan with `txid`, if held.
    public func entry(txid: Hash256) -> Entry? { byTxid[txid]?.entry }

    /// Orphans spending an output of `parent`, oldest first (removes nothing).
    public func children(of parent: Hash256) -> [Entry] {
        guard let txids = childrenByParent[parent] else { return [] }
        return txids.compactMap { byTxid[$0] }.sorted { $0.sequence < $1.sequence }.map(\.entry)
    }

    public mutating func remove(txid: Hash256) {
        guard let stored = byTxid.removeValue(forKey: txid) else { return }
        let entry = stored.entry
        txidByWtxid[entry.wtxid] = nil
        for input in entry.transaction.inputs {
            Self.remove(txid, from: &spendersByOutpoint, at: input.previousOutput)
            Self.remove(txid, from: &childrenByParent, at: input.previousOutput.txid)
        }
        Self.remove(txid, from: &txidsByPeer, at: entry.peerID)
        // Swap-remove its slot, moving the last txid into the hole.
        let last = slots.removeLast()
        if last != txid {
            slots[stored.slot] = last
            byTxid[last]?.slot = stored.slot
        }
        // Its expiry item is now stale; rebuild once stale items outnumber live ones.
        if expiryQueue.count > 2 * byTxid.count + 16 {
            expiryQueue = MinHeap(byTxid.values.map { ExpiryItem(time: $0.entry.time, sequence: $0.sequence, txid: $0.entry.txid) })
        }
    }

    public mutating func removeAll(fromPeer peerID: Int) {
        for txid in txidsByPeer[peerID] ?? [] { remove(txid: txid) }
    }

    /// Drops orphans older than the expiry (held `expirySeconds` or longer); returns their txids.
    public mutating func expire(now: UInt64) -> [Hash256] {
        var expired = [Hash256]()
        while let oldest = expiryQueue.peek() {
            guard let stored = byTxid[oldest.txid], stored.sequence == oldest.sequence else {
                _ = expiryQueue.pop() // stale: that orphan already left
                continue
            }
            // Saturating: a time near UInt64.max (a bad clock) never wraps into "expired".
            let (deadline, overflow) = stored.entry.time.addingReportingOverflow(expirySeconds)
            guard !overflow, deadline <= now else { break }
            _ = expiryQueue.pop()
            remove(txid: oldest.txid)
            expired.append(oldest.txid)
        }
        return expired
    }

    /// Drops orphans the block included or conflicts with (they spend an outpoint it spent).
    public mutating func blockConnected(_ block: Block) {
        for transaction in block.transactions {
            remove(txid: transaction.txid)
            for input in transaction.inputs {
                for txid in spendersByOutpoint[input.previousOutput] ?? [] { remove(txid: txid) }
            }
        }
    }

    public var count: Int { byTxid.count }

    public var isEmpty: Bool { byTxid.isEmpty }

    private mutating func evictRandom() {
        guard !slots.isEmpty else { return }
        let index = Int.random(in: 0..<slots.count, using: &generator)
        remove(txid: slots[index])
    }

    private static func remove<Key: Hashable>(_ txid: Hash256, from index: inout [Key: Set<Hash256>], at key: Key) {
        guard var set = index[key] else { return }
        set.remove(txid)
        index[key] = set.isEmpty ? nil : set
    }

    private struct ExpiryItem: Comparable, Sendable {
        var time: UInt64
        var sequence: UInt64
        var txid: Hash256

        static func < (lhs: ExpiryItem, rhs: ExpiryItem) -> Bool {
            (lhs.time, lhs.sequence) < (rhs.time, rhs.sequence)
        }

        static func == (lhs: ExpiryItem, rhs: ExpiryItem) -> Bool { lhs.time == rhs.time && lhs.sequence == rhs.sequence }
    }
}
