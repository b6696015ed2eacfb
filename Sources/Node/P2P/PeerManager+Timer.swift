// The peer manager's periodic work (every 500 ms): handshake, ping and getheaders timeouts,
// stalled downloads, pending chain locks and execution records, connection upkeep and block
// requests.

import Foundation

extension PeerManager {
    func tick() {
        guard !stopping else { return }
        let now = Self.now
        for peer in peers.values where !peer.disconnecting {
            if !peer.handshakeDone {
                if now - peer.connectedAt > settings.handshakeTimeout { disconnect(peer, "no handshake within \(Int(settings.handshakeTimeout)) s") }
                continue
            }
            if peer.pingNonce != nil {
                if now - peer.pingSentAt > settings.pingTimeout { disconnect(peer, "no pong within \(Int(settings.pingTimeout)) s"); continue }
            } else if now - peer.pingSentAt >= settings.pingInterval {
                let nonce = UInt64.random(in: 1...UInt64.max, using: &random)
                peer.pingNonce = nonce
                peer.pingSentAt = now
                send(.ping(nonce), to: peer)
            }
            if let asked = peer.headersRequestedAt, now - asked > settings.headersTimeout {
                misbehaving(peer, "no answer to getheaders within \(Int(settings.headersTimeout)) s")
                continue
            }
            if peer.kind == .seed && (peer.gotAddresses || now - peer.connectedAt > 30) {
                disconnect(peer, "bootstrap node done (addresses \(peer.gotAddresses ? "received" : "not received"))")
            }
        }
        for id in scheduler.stalledPeers(now: now) {
            if let peer = peers[id] { disconnect(peer, "stalled block download") }
        }
        retryPendingChainLocks()
        retryWaitingGovernanceExecutions()
        maintainConnections()
        // Idle while blocks are missing (nothing asked for, nothing being imported): ask the
        // chain state again rather than trust a target that may have been superseded.
        let snapshot = chain.snapshot
        // (The best header can also be lower than the tip: a chain lock's branch with less work.)
        if snapshot.tipHash != snapshot.bestHeaderHash && scheduler.inFlightCount == 0 && importing.isEmpty
            && now - lastTargetRefresh >= 1 {
            lastTargetRefresh = now
            refreshDownloadTarget()
        }
        requestBlocks()
        logSyncProgress(now: now)
    }
}
