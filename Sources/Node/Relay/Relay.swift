// Announcing and serving blocks: new tips to peers (headers or inv), inventory and getdata
// (transactions: TransactionRelay.swift and TransactionServing.swift).

import ChainState
import Foundation
import Logging
import Mempool
import NIOCore
import Primitives
import Wire

extension PeerManager {
    /// Listens to the chain's tip events (on the loop) for announcements and operator logs.
    func followTip() {
        let events = chain.tipEvents()
        Task { [weak self] in
            for await event in events {
                guard let self else { return }
                self.loop.execute { self.tipChanged(event) }
            }
        }
    }

    func tipChanged(_ event: TipEvent) {
        // Masternode standing first, so an announcement never favours one that just lapsed.
        masternodesFollowTip()
        quorumsFollowTip()
        switch event {
        case let .connected(height, hash):
            recentlyConnected.append(hash)
            if recentlyConnected.count > Self.maxAnnouncedHeaders { recentlyConnected.removeFirst() }
            let snapshot = chain.snapshot
            // Announce once per publication (at its tip), and not while far behind the best header.
            guard hash == snapshot.tipHash else { return }
            if snapshot.bestHeaderHeight <= height + 1 {
                logger.info("new tip: height \(height) \(hash.hex)")
                announce(snapshot)
            }
            recentlyConnected.removeAll()
        case .disconnected:
            break
        case .reorganized(let reorganization):
            logger.notice(Logger.Message(stringLiteral: "reorganization: fork at height \(reorganization.forkHeight), \(reorganization.disconnected) blocks "
                          + "disconnected, \(reorganization.connected) connected; tip \(reorganization.oldHeight) \(reorganization.oldTip.hex) "
                          + "-> \(reorganization.newHeight) \(reorganization.newTip.hex)"))
        }
    }

    /// Tells every peer that does not know it of the new tip, authenticated masternodes first
    /// (the seed's "Propagate to Masternodes"): their announcements are written and flushed,
    /// so they ask for (and are served) the block first; the other peers get theirs
    /// `masternodeRelayDelay` later (right after when this node has no masternode peer, or no delay).
    func announce(_ snapshot: ChainSnapshot) {
        let targets = peers.values.filter { $0.handshakeDone && !$0.disconnecting && $0.kind != .seed && !$0.knownBlocks.contains(snapshot.tipHash) }
        let masternodes = targets.filter { $0.masternode != nil }.sorted { $0.id < $1.id }
        let others = targets.filter { $0.masternode == nil }.sorted { $0.id < $1.id }
        let connected = recentlyConnected
        for peer in masternodes { announce(snapshot, connected: connected, to: peer) }
        // The others wait whenever this node has masternode peers, even ones that already
        // have the block: masternodes elsewhere may still be fetching it through them.
        guard peers.values.contains(where: { $0.masternode != nil && !$0.disconnecting }) else {
            for peer in others { announce(snapshot, connected: connected, to: peer) }
            return
        }
        let delay = settings.masternodeRelayDelay
        logger.debug(Logger.Message(stringLiteral: "block \(snapshot.tipHash.hex) announced to masternode peers \(masternodes.map(\.id)) first; "
                     + "\(others.count) other peers after \(Int(delay * 1000)) ms"))
        guard delay > 0, !others.isEmpty else {
            for peer in others { announce(snapshot, connected: connected, to: peer) }
            return
        }
        loop.scheduleTask(in: .nanoseconds(Int64(delay * 1e9))) { [self] in
            for peer in others where !peer.disconnecting { announce(snapshot, connected: connected, to: peer) }
        }
    }

    /// Headers of the blocks connected in this publication to a peer that asked for headers
    /// (`sendheaders`), else an inv of the tip; nothing when it knows the tip already.
    func announce(_ snapshot: ChainSnapshot, connected: [Hash256], to peer: Peer) {
        let tip = snapshot.tipHash
        guard !peer.knownBlocks.contains(tip) else { return }
        let unknown = connected.drop { peer.knownBlocks.contains($0) }
        let headers = unknown.compactMap { snapshot.header($0) }
        // Headers only when they connect to what the peer is known to have; after a burst
        // longer than the announcement window (or a peer that synced by getheaders) an inv
        // makes it ask for the headers instead (Core's rule), so it never sees headers that
        // do not connect from an honest node.
        if peer.sendHeaders, let first = headers.first, peer.knownBlocks.contains(first.previousHash) {
            send(.headers(headers), to: peer)
        } else {
            send(.inv([InventoryItem(type: .block, hash: tip)]), to: peer)
        }
        for hash in connected { peer.knownBlocks.insert(hash) }
        peer.knownBlocks.insert(tip)
    }

    func handleInv(_ items: [InventoryItem], from peer: Peer) {
        let granted = peer.inventoryTokens.take(items.count, now: Self.now)
        guard granted == items.count else {
            return misbehaving(peer, "inventory flood (\(items.count) entries over its rate of 10,000 a second)")
        }
        let snapshot = chain.snapshot
        var unknownBlock: Hash256?
        var announcedTransactions = [Hash256]()
        for item in items {
            switch item.type {
            case .block:
                peer.knownBlocks.insert(item.hash)
                if snapshot.header(item.hash) == nil { unknownBlock = item.hash }
            case .transaction:
                peer.knownTransactions.insert(item.hash)
                announcedTransactions.append(item.hash)
            case .transactionByTxid:
                // Announcements are by wtxid; a txid is only ever asked for.
                break
            }
        }
        if let unknownBlock, peer.headersRequestedAt == nil {
            // Headers first: learn the block's header (and any before it) before asking for it.
            requestHeaders(from: peer, locator: snapshot.bestHeaderLocator(), stop: unknownBlock)
        }
        if !announcedTransactions.isEmpty { transactionsAnnounced(announcedTransactions, by: peer) }
    }

    func handleGetData(_ items: [InventoryItem], from peer: Peer) {
        peer.pendingGetData += items
        if peer.pendingGetData.count - peer.pendingGetDataStart > Self.maxPendingGetData {
            return misbehaving(peer, "more than \(Self.maxPendingGetData) getdata entries waiting to be served")
        }
        serveGetData(peer)
    }

    static let maxPendingGetData = 5_000

    /// Serves queued getdata entries in order while the connection takes more; blocks are
    /// read off the loop (the writer may be busy) one at a time.
    func serveGetData(_ peer: Peer) {
        var missing = [InventoryItem]()
        defer { if !missing.isEmpty { send(.notfound(missing), to: peer) } }
        while !peer.serving && !peer.disconnecting && peer.pendingGetDataStart < peer.pendingGetData.count && peer.channel.isWritable {
            let item = peer.pendingGetData[peer.pendingGetDataStart]
            peer.pendingGetDataStart += 1
            switch item.type {
            case .transaction, .transactionByTxid:
                if let transaction = servableTransaction(item, to: peer) { serveTransaction(transaction, to: peer) } else { missing.append(item) }
            case .block:
                peer.serving = true
                let chain = self.chain
                servingQueue.async {
                    let bytes = try? chain.block(item.hash)
                    self.loop.execute {
                        peer.serving = false
                        if let bytes, let payload = try? BlockPayload(bytes: bytes) {
                            self.send(.block(payload), to: peer)
                            peer.knownBlocks.insert(item.hash)
                        } else {
                            self.send(.notfound([item]), to: peer)
                        }
                        self.serveGetData(peer)
                    }
                }
            }
        }
        if peer.pendingGetDataStart == peer.pendingGetData.count {
            peer.pendingGetData.removeAll(keepingCapacity: true)
            peer.pendingGetDataStart = 0
        }
    }
}
