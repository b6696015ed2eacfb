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

    /// Whether the pooled transaction entered before the peer's last `mempool` answer was
    /// taken, by the pool's own entry time (an unknown time is not servable).
    func enteredBeforeMempoolAnswer(_ wtxid: Hash256, _ peer: Peer) -> Bool {
        guard let answered = peer.mempoolAnswerPoolTime, let entered = pool.entryTime(wtxid: wtxid) else { return false }
        return entered < answered || peer.mempoolAnswerLastSecond.contains(wtxid)
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

    /// `mempool`: taken at most once per `mempoolRequestInterval`; answered at the peer's
    /// next trickle (so it reveals nothing a trickle would not).
    func handleMempool(from peer: Peer) {
        let now = Self.now
        if let last = peer.lastMempoolRequestAt, now - last < Self.mempoolRequestInterval {
            logger.debug("\(peer.label): mempool request ignored: the last was taken \(Int(now - last)) s ago")
            return
        }
        peer.lastMempoolRequestAt = now
        peer.mempoolRequested = true
    }

    /// Most wtxids one `mempool` answer lists (the oldest first): what one request may cost.
    static let maxMempoolAnswer = 100_000

    /// At the peer's trickle: takes the pool's inventory at or above its feefilter as the
    /// answer, and the pool's time (what entered before it becomes fetchable), then streams
    /// it. The inventory is built off the loop (it orders the whole pool).
    func startMempoolAnswer(_ peer: Peer) {
        peer.mempoolRequested = false
        let pool = self.pool
        let feeFilter = peer.feeFilter
        servingQueue.async { [self] in
            let answeredAt = pool.poolTime
            let inventory = Array(pool.inventory(minimumFeeRate: feeFilter).prefix(Self.maxMempoolAnswer))
            // In arrival order: those that entered in the answer's second or later are at the end.
            var lastSecond = Set<Hash256>()
            for wtxid in inventory.reversed() {
                guard let entered = pool.entryTime(wtxid: wtxid), entered >= answeredAt else { break }
                lastSecond.insert(wtxid)
            }
            loop.execute { [self] in
                guard isLive(peer) else { return }
                peer.mempoolAnswerPoolTime = answeredAt
                peer.mempoolAnswerLastSecond = lastSecond
                peer.mempoolAnswer = inventory
                peer.mempoolAnswerNext = 0
                for wtxid in inventory { peer.announcementQueue.remove(wtxid) }
                streamMempoolAnswer(peer)
            }
        }
    }

    /// Sends the answer's next `inv` messages (at most 50,000 entries each) while the
    /// connection takes more; the rest goes once it is writable again.
    func streamMempoolAnswer(_ peer: Peer) {
        while peer.mempoolAnswerNext < peer.mempoolAnswer.count && !peer.disconnecting && peer.channel.isWritable {
            let start = peer.mempoolAnswerNext
            let chunk = peer.mempoolAnswer[start..<min(peer.mempoolAnswer.count, start + WireLimits.maxInventory)]
            peer.mempoolAnswerNext += chunk.count
            for wtxid in chunk { peer.knownTransactions.insert(wtxid) }
            send(.inv(chunk.map { InventoryItem(type: .transaction, hash: $0) }), to: peer)
        }
        if peer.mempoolAnswerNext >= peer.mempoolAnswer.count {
            peer.mempoolAnswer = []
            peer.mempoolAnswerNext = 0
        }
    }
}
