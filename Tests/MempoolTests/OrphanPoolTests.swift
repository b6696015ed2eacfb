import Foundation
import Mempool
import Primitives
import Testing

/// The orphan pool on its own (it validates nothing, so hand-made transactions do).
@Suite struct OrphanPoolTests {
    /// A transaction spending `outpoints`, told apart by `tag` (its lock time).
    static func orphan(spending outpoints: [OutPoint], tag: UInt64, scriptBytes: Int = 25) -> Transaction {
        Transaction(inputs: outpoints.map { TxIn(previousOutput: $0) },
                    outputs: [TxOut(value: Amount(baseUnits: 1_000)!, lockScript: [UInt8](repeating: 0x51, count: scriptBytes))],
                    lockTime: tag, witnesses: outpoints.map { _ in [[UInt8(truncatingIfNeeded: tag)]] })
    }

    static func parent(_ byte: UInt8) -> Hash256 { Hash256(bytes: [UInt8](repeating: byte, count: 32))! }

    @discardableResult
    static func add(_ transaction: Transaction, to pool: inout OrphanPool, peer: Int = 1, time: UInt64 = 1_000) -> Bool {
        let (txid, wtxid) = transaction.ids
        return pool.add(transaction, txid: txid, wtxid: wtxid, missingParents: transaction.inputs.map(\.previousOutput.txid),
                        peerID: peer, time: time)
    }

    @Test("an orphan is found by txid, wtxid and parent; duplicates, oversize and a zero limit are refused")
    func addAndLookup() {
        var pool = OrphanPool(maxCount: 10, maxTransactionBytes: 500, expirySeconds: 1_200)
        let transaction = Self.orphan(spending: [OutPoint(txid: Self.parent(1), index: 0)], tag: 1)
        let (txid, wtxid) = transaction.ids
        #expect(Self.add(transaction, to: &pool))
        #expect(pool.count == 1 && pool.contains(txid: txid) && pool.contains(wtxid: wtxid))
        #expect(pool.entry(txid: txid)?.transaction == transaction && pool.entry(txid: txid)?.peerID == 1)
        #expect(pool.children(of: Self.parent(1)).map(\.txid) == [txid])
        #expect(pool.children(of: Self.parent(2)).isEmpty)
        // The same transaction again, or with another witness (same txid), is not held twice.
        #expect(!Self.add(transaction, to: &pool))
        var rewitnessed = transaction
        rewitnessed.witnesses = [[[0xEE]]]
        #expect(rewitnessed.txid == txid && rewitnessed.wtxid != wtxid)
        #expect(!Self.add(rewitnessed, to: &pool) && pool.count == 1)
        // Larger than maxTransactionBytes.
        let large = Self.orphan(spending: [OutPoint(txid: Self.parent(1), index: 1)], tag: 2, scriptBytes: 600)
        #expect(large.encoded.count > 500 && !Self.add(large, to: &pool) && pool.count == 1)
        // A limit of 0 keeps nothing.
        var none = OrphanPool(maxCount: 0, expirySeconds: 1_200)
        #expect(!Self.add(transaction, to: &none) && none.count == 0)
    }

    @Test("a full pool evicts a random orphan: the count stays at the limit and the newcomer is kept")
    func randomEvictionKeepsTheBound() {
        var pool = OrphanPool(maxCount: 5, expirySeconds: 1_200, generator: SeededGenerator(seed: 42))
        var added = [Hash256]()
        for tag in 0..<40 {
            let transaction = Self.orphan(spending: [OutPoint(txid: Self.parent(UInt8(tag)), index: 0)], tag: UInt64(tag))
            #expect(Self.add(transaction, to: &pool))
            #expect(pool.count == min(tag + 1, 5))
            #expect(pool.contains(txid: transaction.txid))
            added.append(transaction.txid)
        }
        // Exactly five survive and each index agrees: evicted ones have no children entry.
        let survivors = added.filter { pool.contains(txid: $0) }
        #expect(survivors.count == 5)
        for tag in 0..<40 {
            let children = pool.children(of: Self.parent(UInt8(tag))).map(\.txid)
            #expect(children == (pool.contains(txid: added[tag]) ? [added[tag]] : []))
        }
        // The victims are random, not simply the oldest: some early orphan outlived a later one.
        var other = OrphanPool(maxCount: 5, expirySeconds: 1_200, generator: SeededGenerator(seed: 7))
        for tag in 0..<40 { Self.add(Self.orphan(spending: [OutPoint(txid: Self.parent(UInt8(tag)), index: 0)], tag: UInt64(tag)), to: &other) }
        let kept = (0..<40).filter { other.contains(txid: added[$0]) }
        #expect(kept.count == 5 && kept != Array(35..<40))
    }

    @Test("orphans expire expirySeconds after they arrived, oldest first, whatever order times come in")
    func expiry() {
        var pool = OrphanPool(maxCount: 10, expirySeconds: 1_200)
        let early = Self.orphan(spending: [OutPoint(txid: Self.parent(1), index: 0)], tag: 1)
        let late = Self.orphan(spending: [OutPoint(txid: Self.parent(2), index: 0)], tag: 2)
        let middle = Self.orphan(spending: [OutPoint(txid: Self.parent(3), index: 0)], tag: 3)
        Self.add(early, to: &pool, time: 1_000)
        Self.add(late, to: &pool, time: 3_000)
        Self.add(middle, to: &pool, time: 2_000) // a clock set back: arrival order is not time order
        #expect(pool.expire(now: 2_199).isEmpty && pool.count == 3)
        #expect(pool.expire(now: 3_200) == [early.txid, middle.txid])
        #expect(pool.count == 1 && pool.contains(txid: late.txid) && pool.children(of: Self.parent(1)).isEmpty)
        #expect(pool.expire(now: 4_199).isEmpty)
        #expect(pool.expire(now: 4_200) == [late.txid] && pool.count == 0)
        // One removed by other means does not come back from the expiry queue.
        Self.add(early, to: &pool, time: 5_000)
        pool.remove(txid: early.txid)
        #expect(pool.expire(now: 10_000).isEmpty && pool.count == 0)
        // Nor does a stale queue item expire a re-added orphan early.
        Self.add(late, to: &pool, time: 20_000)
        pool.remove(txid: late.txid)
        Self.add(late, to: &pool, time: 30_000)
        #expect(pool.expire(now: 21_200).isEmpty && pool.contains(txid: late.txid))
        // A time near the end of UInt64 never wraps into "expired".
        Self.add(middle, to: &pool, time: .max - 10)
        #expect(pool.expire(now: 40_000) == [late.txid] && pool.contains(txid: middle.txid))
    }

    @Test("children(of:) lists every orphan spending any output of the parent, oldest first")
    func childrenOldestFirst() {
        var pool = OrphanPool(maxCount: 10, expirySeconds: 1_200)
        let parent = Self.parent(9)
        let second = Self.orphan(spending: [OutPoint(txid: parent, index: 3)], tag: 2)
        let first = Self.orphan(spending: [OutPoint(txid: parent, index: 0), OutPoint(txid: Self.parent(8), index: 0)], tag: 1)
        let third = Self.orphan(spending: [OutPoint(txid: parent, index: 0)], tag: 3) // conflicts with `first`
        let unrelated = Self.orphan(spending: [OutPoint(txid: Self.parent(7), index: 0)], tag: 4)
        for transaction in [first, second, unrelated, third] { Self.add(transaction, to: &pool) }
        #expect(pool.children(of: parent).map(\.txid) == [first.txid, second.txid, third.txid])
        #expect(pool.children(of: Self.parent(8)).map(\.txid) == [first.txid])
        pool.remove(txid: second.txid)
        #expect(pool.children(of: parent).map(\.txid) == [first.txid, third.txid] && pool.count == 3)
    }

    @Test("a peer's orphans go when it disconnects; other peers' stay")
    func removalByPeer() {
        var pool = OrphanPool(maxCount: 10, expirySeconds: 1_200)
        let mine = (0..<3).map { Self.orphan(spending: [OutPoint(txid: Self.parent(UInt8($0)), index: 0)], tag: UInt64($0)) }
        let theirs = Self.orphan(spending: [OutPoint(txid: Self.parent(1), index: 1)], tag: 10)
        for transaction in mine { Self.add(transaction, to: &pool, peer: 5) }
        Self.add(theirs, to: &pool, peer: 6)
        pool.removeAll(fromPeer: 5)
        #expect(pool.count == 1 && pool.contains(txid: theirs.txid))
        #expect(pool.children(of: Self.parent(1)).map(\.txid) == [theirs.txid] && pool.children(of: Self.parent(0)).isEmpty)
        pool.removeAll(fromPeer: 5) // nothing left of that peer: no effect
        #expect(pool.count == 1)
    }

    @Test("a connected block drops the orphans it included and those spending what it spent")
    func blockConnected() {
        var pool = OrphanPool(maxCount: 10, expirySeconds: 1_200)
        let spent = OutPoint(txid: Self.parent(1), index: 0)
        let included = Self.orphan(spending: [OutPoint(txid: Self.parent(2), index: 0)], tag: 1)
        let conflicting = Self.orphan(spending: [spent, OutPoint(txid: Self.parent(3), index: 0)], tag: 2)
        let unaffected = Self.orphan(spending: [OutPoint(txid: Self.parent(1), index: 1)], tag: 3)
        for transaction in [included, conflicting, unaffected] { Self.add(transaction, to: &pool) }
        let blockSpender = Self.orphan(spending: [spent], tag: 99)
        let coinbase = Transaction.coinbase(height: 1, extraNonce: 0, outputs: [TxOut(value: Amount(baseUnits: 5)!, lockScript: [0x51])])
        let block = Block(header: BlockHeader(version: 1, height: 1, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero,
                                              time: 0, bits: 0, nonce: 0),
                          transactions: [coinbase, included, blockSpender])
        pool.blockConnected(block)
        #expect(pool.count == 1 && pool.contains(txid: unaffected.txid))
        #expect(!pool.contains(wtxid: included.wtxid) && pool.children(of: Self.parent(3)).isEmpty)
    }
}
