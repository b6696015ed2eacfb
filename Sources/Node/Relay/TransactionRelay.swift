// Transaction relay (Bitcoin Core's net_processing as the anchor): relayed `tx` messages
// accepted in batches, trickled `inv` announcements per peer, `getdata` served only for what
// a peer was told of, `mempool` answers, orphans' parents fetched by txid, and our own
// `feefilter`. Serving and the mempool answer are in TransactionServing.swift.

import Foundation
import Logging
import Mempool
import Primitives
import Wire

/// The relay layer's view of transactions it handles, kept on the peer manager's loop.
struct TransactionRelayState {
    /// A relayed transaction waiting for the next acceptance batch.
    struct Waiting {
        var transaction: Transaction
        var txid: Hash256
        var wtxid: Hash256
        var peer: Peer
        var bytes: Int
    }

    var waiting: [Waiting] = []
    /// wtxids waiting or being checked: not fetched or queued again meanwhile.
    var beingAccepted = Set<Hash256>()
    /// Bytes of relayed transactions waiting or being checked (bounded with their count).
    var bytesBeingAccepted = 0
    var batchRunning = false
    /// The order in which pooled transactions were queued for announcement (parents before
    /// children in an inv); bounded, the oldest forgotten first.
    var sequences: [Hash256: UInt64] = [:]
    var sequenceOrder: [Hash256] = []
    var sequenceHead = 0
    var nextSequence: UInt64 = 0
    /// Orphans' parents asked for by txid: from which peer and when (one request at a time).
    var parentRequests: [Hash256: (peerID: Int, at: Double)] = [:]
    /// Announced transactions to fetch: one request in flight per wtxid (TransactionRequests.swift).
    var requests = TransactionRequestTracker()
    /// The trickle shared by all inbound peers (Core's m_next_inv_to_inbounds): many inbound
    /// connections learn a transaction no sooner than one would.
    var nextInboundTrickleAt: Double?

    /// Records `wtxid`'s place in arrival order (once), forgetting the oldest beyond `limit`.
    mutating func recordSequence(_ wtxid: Hash256, limit: Int) {
        guard sequences[wtxid] == nil else { return }
        sequences[wtxid] = nextSequence
        nextSequence += 1
        sequenceOrder.append(wtxid)
        if sequences.count > limit {
            sequences[sequenceOrder[sequenceHead]] = nil
            sequenceHead += 1
            if sequenceHead > limit {
                sequenceOrder.removeFirst(sequenceHead)
                sequenceHead = 0
            }
        }
    }
}

extension PeerManager {
    /// Most transactions in one acceptance batch (one signature batch).
    static let maxAcceptanceBatch = 1_000
    /// Most bytes of relayed transactions waiting for acceptance over all peers.
    static let maxBytesBeingAccepted = 64 << 20
    /// One peer's share of the acceptance queue (count and bytes): a flooding peer cannot
    /// crowd out the others.
    static let peerShareDivisor = 4
    /// The standard size limit (MempoolPolicy.maxTransactionBytes' default): a larger relayed
    /// transaction can never enter the pool, so it is dropped at once rather than queued.
    static let maxRelayedTransactionBytes = 100_000
    /// Most wtxids waiting to be announced to one peer; more are not queued for it.
    static let maxAnnouncementQueue = 20_000
    /// Most entries in one trickled `inv` (Core's INVENTORY_BROADCAST_MAX); the rest waits.
    static let maxInventoryBroadcast = 1_000
    /// Bound of the relay layer's record of arrival order.
    static let maxRelayEntries = 200_000
    /// Orphan parents asked for at once over all peers, and how long one request stands.
    static let maxParentRequests = 5_000
    static let parentRequestTimeout = 60.0
    /// Tip this many blocks behind the best header: syncing, so no transactions are wanted.
    static let syncingLag: UInt64 = 6

    // MARK: - Acceptance

    /// A relayed `tx` (`bytes`: its payload size).
    func handleTransaction(_ transaction: Transaction, bytes: Int, from peer: Peer) {
        let (txid, wtxid) = transaction.ids
        peer.knownTransactions.insert(wtxid)
        peer.lastTransactionAt = Self.now
        // Whoever sent it, nothing more to ask for.
        relay.parentRequests[txid] = nil
        relay.requests.received(wtxid)
        guard !relay.beingAccepted.contains(wtxid) else { return }
        guard bytes <= Self.maxRelayedTransactionBytes else {
            logger.debug("\(peer.label): transaction \(wtxid.hex) dropped: \(bytes) bytes, over the standard \(Self.maxRelayedTransactionBytes)")
            return
        }
        // Acceptance may wait for the chain's writer and verifies signatures: on its own serial
        // queue, never on the event loop. The queue is bounded in count and bytes, and each
        // peer's share of it too.
        let full = transactionsBeingAccepted >= Self.maxTransactionsBeingAccepted
            || relay.bytesBeingAccepted + bytes > Self.maxBytesBeingAccepted
        let overShare = peer.transactionsWaiting >= Self.maxTransactionsBeingAccepted / Self.peerShareDivisor
            || peer.transactionBytesWaiting + bytes > Self.maxBytesBeingAccepted / Self.peerShareDivisor
        guard !full && !overShare else {
            logger.debug("\(peer.label): transaction \(wtxid.hex) dropped: \(full ? "the acceptance queue" : "its share of the acceptance queue") is full")
            return
        }
        transactionsBeingAccepted += 1
        relay.bytesBeingAccepted += bytes
        peer.transactionsWaiting += 1
        peer.transactionBytesWaiting += bytes
        relay.beingAccepted.insert(wtxid)
        relay.waiting.append(.init(transaction: transaction, txid: txid, wtxid: wtxid, peer: peer, bytes: bytes))
        startAcceptanceBatch()
    }

    /// Hands everything waiting (in arrival order, so a parent relayed before its child is
    /// checked first) to the pool as one batch, unless a batch is already being checked: what
    /// arrives meanwhile forms the next one, so bursts are verified together.
    func startAcceptanceBatch() {
        guard !relay.batchRunning, !relay.waiting.isEmpty else { return }
        let batch = Array(relay.waiting.prefix(Self.maxAcceptanceBatch))
        relay.waiting.removeFirst(batch.count)
        relay.batchRunning = true
        let relayed = batch.map { RelayedTransaction(transaction: $0.transaction, peerID: $0.peer.id, peer: $0.peer.label) }
        let pool = self.pool
        transactionQueue.async { [self] in
            let result = pool.accept(relayed)
            loop.execute { [self] in
                relay.batchRunning = false
                transactionsBeingAccepted -= batch.count
                for item in batch {
                    relay.beingAccepted.remove(item.wtxid)
                    relay.bytesBeingAccepted -= item.bytes
                    item.peer.transactionsWaiting -= 1
                    item.peer.transactionBytesWaiting -= item.bytes
                }
                batchChecked(batch, result)
                startAcceptanceBatch()
            }
        }
    }

    /// Acts on a batch's verdicts: announce what entered, ask for orphans' parents, penalize
    /// senders of consensus-invalid transactions.
    func batchChecked(_ batch: [TransactionRelayState.Waiting], _ result: PoolBatchAcceptance) {
        if result.verdicts.count != batch.count {
            logger.error("transaction pool answered \(result.verdicts.count) verdicts for a batch of \(batch.count)")
        }
        for (index, item) in batch.enumerated() {
            let verdict = index < result.verdicts.count ? result.verdicts[index] : .ignored
            switch verdict {
            case .accepted(let wtxid, _):
                queueAnnouncement(wtxid: wtxid, txid: item.txid)
            case .orphan(let missingParents):
                requestParents(missingParents, of: item.wtxid, from: item.peer)
            case let .rejected(rule, penalize):
                // The peer may have left meanwhile; misbehaviour applies only to a live connection.
                if penalize, isLive(item.peer) {
                    misbehaving(item.peer, "invalid transaction \(item.wtxid.hex): \(rule)")
                } else {
                    logger.debug("\(item.peer.label): transaction \(item.wtxid.hex) not accepted: \(rule)")
                }
            case .ignored:
                break
            }
        }
        for resolved in result.resolvedOrphans {
            guard let transaction = pool.transaction(wtxid: resolved.wtxid) else { continue }
            queueAnnouncement(wtxid: resolved.wtxid, txid: transaction.txid)
        }
    }

    func isLive(_ peer: Peer) -> Bool { peers[peer.id] === peer && !peer.disconnecting }

    /// Asks the orphan's sender for its missing parents by txid, each parent once at a time
    /// over all peers (bounded), and none the pool has meanwhile.
    func requestParents(_ missingParents: [Hash256], of orphan: Hash256, from peer: Peer) {
        guard isLive(peer) else { return }
        let now = Self.now
        var wanted = [InventoryItem]()
        for parent in missingParents.prefix(WireLimits.maxGetData) {
            if let request = relay.parentRequests[parent], now - request.at < Self.parentRequestTimeout { continue }
            guard relay.parentRequests.count < Self.maxParentRequests || relay.parentRequests[parent] != nil else { break }
            guard pool.transaction(txid: parent) == nil else { continue }
            relay.parentRequests[parent] = (peer.id, now)
            wanted.append(InventoryItem(type: .transactionByTxid, hash: parent))
        }
        guard !wanted.isEmpty else { return }
        logger.debug("\(peer.label): orphan \(orphan.hex): asking for \(wanted.count) missing parent(s)")
        send(.getdata(wanted), to: peer)
    }

    /// `notfound` for a transaction or parent we asked for: another announcer may be asked.
    func transactionsNotFound(_ items: [InventoryItem], from peer: Peer) {
        let now = Self.now
        for item in items {
            switch item.type {
            case .transactionByTxid where relay.parentRequests[item.hash]?.peerID == peer.id:
                relay.parentRequests[item.hash] = nil
            case .transaction:
                relay.requests.notFound(item.hash, from: peer.id, now: now)
            default:
                break
            }
        }
        sendTransactionRequests(now: now)
    }

    /// `inv` of transactions: the ones the pool wants are tracked, and asked for from one
    /// announcer at a time (those we chose first).
    func transactionsAnnounced(_ wtxids: [Hash256], by peer: Peer) {
        // Nothing relayed is wanted while far behind the best header (Core: not during initial download).
        let snapshot = chain.snapshot
        guard snapshot.bestHeaderHeight <= snapshot.tipHeight + Self.syncingLag else { return }
        let now = Self.now
        let preferred = peer.kind == .outbound || peer.kind == .manual
        for wtxid in wtxids {
            // Beyond its share, the peer's announcements are not followed (Core's MAX_PEER_TX_ANNOUNCEMENTS).
            guard relay.requests.hasRoom(for: peer.id) else { break }
            guard relay.requests.isTracked(wtxid) || (!relay.beingAccepted.contains(wtxid) && pool.wants(wtxid: wtxid)) else { continue }
            relay.requests.announced(wtxid, by: peer.id, preferred: preferred, now: now)
        }
        sendTransactionRequests(now: now)
    }

    /// Sends the transaction requests that are due (announcers ready, requests timed out).
    func sendTransactionRequests(now: Double) {
        for (peerID, wtxids) in relay.requests.dueRequests(now: now) {
            guard let peer = peers[peerID] else { continue }
            for start in stride(from: 0, to: wtxids.count, by: WireLimits.maxGetData) {
                let chunk = wtxids[start..<min(wtxids.count, start + WireLimits.maxGetData)]
                send(.getdata(chunk.map { InventoryItem(type: .transaction, hash: $0) }), to: peer)
            }
        }
    }

    /// The peer is gone: its orphans go (on the acceptance queue, after its waiting
    /// transactions), and so do its parent requests.
    func transactionPeerGone(_ peer: Peer) {
        let pool = self.pool
        let id = peer.id
        transactionQueue.async { pool.peerDisconnected(id) }
        relay.parentRequests = relay.parentRequests.filter { $0.value.peerID != id }
        relay.requests.peerGone(id, now: Self.now)
    }

    // MARK: - Announcements

    /// Whether transactions are announced to `peer`: after the handshake, not to bootstrap
    /// connections, not to peers whose version said relay=false.
    func announcesTransactions(to peer: Peer) -> Bool {
        peer.handshakeDone && !peer.disconnecting && peer.relayTransactions && peer.kind != .seed
    }

    /// Records a pooled transaction and queues it for every peer that may not know it; the
    /// trickle timer sends the queues.
    func queueAnnouncement(wtxid: Hash256, txid: Hash256) {
        relay.recordSequence(wtxid, limit: Self.maxRelayEntries)
        for peer in peers.values where announcesTransactions(to: peer) && !peer.knownTransactions.contains(wtxid)
            && peer.announcementQueue.count < Self.maxAnnouncementQueue {
            peer.announcementQueue.insert(wtxid)
        }
    }

    /// Announces a transaction submitted locally (RPC, wallet) once it is in the pool; does
    /// nothing when the pool does not hold it. Safe from any thread (hops onto the loop).
    public func relayTransaction(wtxid: Hash256) {
        loop.execute {
            guard let transaction = self.pool.transaction(wtxid: wtxid) else { return }
            self.queueAnnouncement(wtxid: wtxid, txid: transaction.txid)
        }
    }

    /// The relay timer (every 100 ms): trickles (announcements and `mempool` answers) and
    /// feefilters that are due, transaction requests due or timed out, stale parent requests.
    func relayTick() {
        guard !stopping else { return }
        quorumService?.tick()
        let now = Self.now
        let filter = currentFeeFilter()
        var inboundDue = false
        if let due = relay.nextInboundTrickleAt, now >= due {
            inboundDue = true
            relay.nextInboundTrickleAt = now + Self.exponential(mean: settings.inboundTrickleInterval, using: &random)
        }
        for peer in peers.values where peer.handshakeDone && !peer.disconnecting && peer.kind != .seed {
            maintainFeeFilter(peer, current: filter, now: now)
            var due = peer.isInbound && inboundDue
            if !peer.isInbound, let at = peer.nextTrickleAt, now >= at {
                peer.nextTrickleAt = now + nextTrickleDelay(for: peer)
                due = true
            }
            guard due else { continue }
            if peer.mempoolRequested { startMempoolAnswer(peer) }
            if !peer.announcementQueue.isEmpty { sendAnnouncements(to: peer) }
        }
        sendTransactionRequests(now: now)
        if !relay.parentRequests.isEmpty {
            relay.parentRequests = relay.parentRequests.filter { now - $0.value.at < Self.parentRequestTimeout }
        }
    }

    /// Seconds to the peer's next trickled `inv`: exponentially distributed (a Poisson
    /// process, as Bitcoin Core), with a longer mean for inbound peers than for those we chose.
    func nextTrickleDelay(for peer: Peer) -> Double {
        let mean = peer.isInbound ? settings.inboundTrickleInterval : settings.outboundTrickleInterval
        return Self.exponential(mean: mean, using: &random)
    }

    static func exponential(mean: Double, using generator: inout some RandomNumberGenerator) -> Double {
        // 1 - u lies in (0, 1]: the logarithm is finite.
        -Foundation.log(1 - Double.random(in: 0..<1, using: &generator)) * max(0, mean)
    }

    /// One `inv` of the peer's queued transactions that are still pooled, meet its feefilter
    /// and that it does not know: parents before children (depth among the queued), then
    /// higher fee rate first, then arrival; at most `maxInventoryBroadcast`, the rest stays.
    func sendAnnouncements(to peer: Peer) {
        struct Candidate {
            var wtxid: Hash256
            var transaction: Transaction
            var feeRate: UInt64
            var sequence: UInt64
            var depth = 0
        }
        var candidates = [Candidate]()
        var dropped = [Hash256]()
        for wtxid in peer.announcementQueue {
            guard !peer.knownTransactions.contains(wtxid), let feeRate = pool.feeRate(wtxid: wtxid), feeRate >= peer.feeFilter,
                  let transaction = pool.transaction(wtxid: wtxid) else {
                dropped.append(wtxid)
                continue
            }
            candidates.append(Candidate(wtxid: wtxid, transaction: transaction, feeRate: feeRate, sequence: relay.sequences[wtxid] ?? .max))
        }
        for wtxid in dropped { peer.announcementQueue.remove(wtxid) }
        guard !candidates.isEmpty else { return }
        if candidates.count > 1 {
            // A transaction enters the pool after its parents, so in arrival order each one's
            // queued parents already have their depth.
            candidates.sort { $0.sequence < $1.sequence }
            var depthByTxid = [Hash256: Int]()
            for index in candidates.indices {
                let transaction = candidates[index].transaction
                var depth = 0
                for input in transaction.inputs {
                    if let parentDepth = depthByTxid[input.previousOutput.txid] { depth = max(depth, parentDepth + 1) }
                }
                candidates[index].depth = depth
                depthByTxid[transaction.txid] = depth
            }
            candidates.sort {
                if $0.depth != $1.depth { return $0.depth < $1.depth }
                if $0.feeRate != $1.feeRate { return $0.feeRate > $1.feeRate }
                return $0.sequence < $1.sequence
            }
        }
        let announced = candidates.prefix(Self.maxInventoryBroadcast)
        for candidate in announced {
            peer.announcementQueue.remove(candidate.wtxid)
            peer.knownTransactions.insert(candidate.wtxid)
            peer.servableTransactions.insert(candidate.wtxid)
        }
        send(.inv(announced.map { InventoryItem(type: .transaction, hash: $0.wtxid) }), to: peer)
    }

    // MARK: - Our feefilter

    /// What we ask peers to filter by: the pool's minimum fee rate, or the most there is
    /// while far behind the best header (nothing relayed is wanted while syncing, as Core).
    func currentFeeFilter() -> UInt64 {
        let snapshot = chain.snapshot
        if snapshot.bestHeaderHeight > snapshot.tipHeight + Self.syncingLag { return FeeFilterRounder.maximum }
        return pool.minimumFeeRate
    }

    /// Sends our feefilter (rounded, against fingerprinting) when due and changed: right
    /// after the handshake, then at random intervals around `feeFilterInterval`, and within
    /// `maxFeeFilterChangeDelay` once the minimum moved by more than a third (Core's 3/4 and
    /// 4/3 rule).
    func maintainFeeFilter(_ peer: Peer, current: UInt64, now: Double) {
        if now >= peer.nextFeeFilterAt {
            let rounded = FeeFilterRounder.round(current)
            if rounded != peer.feeFilterSent {
                send(.feefilter(rounded), to: peer)
                peer.feeFilterSent = rounded
            }
            peer.nextFeeFilterAt = now + Self.exponential(mean: settings.feeFilterInterval, using: &random)
        } else if let sent = peer.feeFilterSent, peer.nextFeeFilterAt > now + settings.maxFeeFilterChangeDelay,
                  FeeFilterRounder.changedSignificantly(from: sent, to: current) {
            peer.nextFeeFilterAt = now + Double.random(in: 0...max(0, settings.maxFeeFilterChangeDelay), using: &random)
        }
    }

    /// A peer finished its handshake: its first trickle time, and our feefilter now.
    func transactionRelayStarted(_ peer: Peer) {
        guard peer.kind != .seed else { return }
        let now = Self.now
        if peer.isInbound {
            if relay.nextInboundTrickleAt == nil { relay.nextInboundTrickleAt = now + nextTrickleDelay(for: peer) }
        } else {
            peer.nextTrickleAt = now + nextTrickleDelay(for: peer)
        }
        peer.nextFeeFilterAt = 0
        maintainFeeFilter(peer, current: currentFeeFilter(), now: now)
    }
}

/// Rounds fee filters down to coarse buckets (Core's FeeFilterRounder, without its random
/// step up): a peer cannot tell this node's exact minimum, which would help link it across
/// connections. The buckets are 1,000 x 1.1^k base units per 1,000 bytes (1,000, the usual
/// minimum relay fee, is one of them), from 1 up to `maximum`, and 0.
enum FeeFilterRounder {
    /// What a syncing node sends: the largest bucket not above the money supply.
    static var maximum: UInt64 { buckets[buckets.count - 1] }

    static let buckets: [UInt64] = {
        let limit = Double(Amount.maxMoney.baseUnits)
        var values = Set<UInt64>([0])
        var value = 1_000.0
        while value >= 1 {
            values.insert(UInt64(value.rounded()))
            value /= 1.1
        }
        value = 1_000.0 * 1.1
        while value <= limit {
            values.insert(UInt64(value.rounded()))
            value *= 1.1
        }
        return values.sorted()
    }()

    /// The largest bucket at or below `rate`.
    static func round(_ rate: UInt64) -> UInt64 {
        var low = 0, high = buckets.count - 1
        guard rate < buckets[high] else { return buckets[high] }
        // Invariant: buckets[low] <= rate < buckets[high].
        while high - low > 1 {
            let middle = (low + high) / 2
            if buckets[middle] <= rate { low = middle } else { high = middle }
        }
        return buckets[low]
    }

    /// Whether `current` is below 3/4 or above 4/3 of what was last sent.
    static func changedSignificantly(from sent: UInt64, to current: UInt64) -> Bool {
        let sent = UInt128(sent), current = UInt128(current)
        return current * 4 < sent * 3 || current * 3 > sent * 4
    }
}
