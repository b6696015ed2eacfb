// Serving pooled transactions: `getdata` by wtxid or txid and `mempool`, under Bitcoin
// Core's rule that a peer gets only what it was told of, so it cannot probe the pool ahead
// of the trickled announcements (which would reveal where a transaction came from).

import Foundation
import Logging
import Mempool
import Primitives
import Wire

extension PeerManager {
    /// Least seconds between two answered `mempool` requests of one peer (each answer may be
    /// megabytes of inventory: an empty message must not buy that repeatedly).
    static let mempoolRequestInterval = 30.0

    /// The pooled transaction a `getdata` entry asks for, when the peer may have it: it was
    /// announced to the peer (or is a parent of one served to it), or it entered the pool
    /// before the peer's last `mempool` request was answered. Nil: answer `notfound`.
    func servableTransaction(_ item: InventoryItem, to peer: Peer) -> Transaction? {
        switch item.type {
        case .transaction:
            guard let transaction = pool.transaction(wtxid: item.hash) else { return nil }
            if peer.servableTransactions.contains(item.hash) || enteredBeforeMempoolAnswer(item.hash, peer) { return transaction }
            return nil
        case .transactionByTxid:
            guard let transaction = pool.transaction(txid: item.hash) else { return nil }
            if peer.servableTransactions.contains(item.hash) { return transaction }
            let wtxid = transaction.wtxid
            if peer.servableTransactions.contains(wtxid) || enteredBeforeMempoolAnswer(wtxid, peer) { return transaction }
            return nil
        case .block:
            return nil
        }
    }

    func enteredBeforeMempoolAnswer(_ wtxid: Hash256, _ peer: Peer) -> Bool {
        guard let answeredAt = peer.mempoolAnsweredAt else { return false }
        // Not recorded by the relay layer: in the pool since before this node relayed
        // anything (mempool.dat, a reorganisation), so older than any answer.
        return (relay.entries[wtxid]?.enteredAt ?? -.infinity) <= answeredAt
    }

    /// Sends a transaction the peer asked for. Its in-pool parents become fetchable by txid
    /// (the peer may hold it as an orphan and ask for them).
    func serveTransaction(_ transaction: Transaction, to peer: Peer) {
        send(.tx(transaction), to: peer)
        peer.knownTransactions.insert(transaction.wtxid)
        var parents = Set<Hash256>()
        for input in transaction.inputs where parents.insert(input.previousOutput.txid).inserted {
            if pool.transaction(txid: input.previousOutput.txid) != nil { peer.servableTransactions.insert(input.previousOutput.txid) }
        }
    }

    /// `mempool`: the pool's inventory at or above the peer's feefilter, in chunks of at most
    /// 50,000; what it lists becomes known to the peer (and fetchable).
    func handleMempool(from peer: Peer) {
        let now = Self.now
        if let last = peer.mempoolAnsweredAt, now - last < Self.mempoolRequestInterval {
            logger.debug("\(peer.label): mempool request ignored: the last was answered \(Int(now - last)) s ago")
            return
        }
        peer.mempoolAnsweredAt = now
        let inventory = pool.inventory(minimumFeeRate: peer.feeFilter)
        for start in stride(from: 0, to: inventory.count, by: WireLimits.maxInventory) {
            let chunk = inventory[start..<min(inventory.count, start + WireLimits.maxInventory)]
            for wtxid in chunk {
                peer.knownTransactions.insert(wtxid)
                peer.announcementQueue.remove(wtxid)
            }
            send(.inv(chunk.map { InventoryItem(type: .transaction, hash: $0) }), to: peer)
        }
    }
}
