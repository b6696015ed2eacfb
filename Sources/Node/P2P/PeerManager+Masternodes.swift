// Masternode authentication on P2P (PROTOCOL 12.3, Dash's `mnauth`): after the handshake
// each side sends a fresh challenge; a READY masternode answers with its operator key's
// signature; the receiver checks it against its list and marks the peer. Authentications
// are re-checked at every tip change, and the node's own state with them.

import ChainState
import Logging
import Masternodes
import Primitives
import Wire

extension PeerManager {
    /// Right after the handshake: our challenge to the peer (every peer may be a masternode).
    func sendMasternodeChallenge(_ peer: Peer) {
        let challenge = MasternodeAuthentication.makeChallenge()
        peer.challengeSent = challenge
        send(.mnchallenge(challenge), to: peer)
    }

    func handleMasternodeChallenge(_ challenge: [UInt8], from peer: Peer) {
        guard peer.challengeReceived == nil else { return misbehaving(peer, "a second mnchallenge on one connection") }
        peer.challengeReceived = challenge
        answerChallenge(of: peer)
    }

    /// Sends our `mnauth` when this node is a READY masternode and the peer challenged us.
    func answerChallenge(of peer: Peer) {
        guard let identity = masternodeIdentity, let proTxHash = identity.readyProTxHash, let challenge = peer.challengeReceived,
              !peer.answeredChallenge, !peer.disconnecting else { return }
        peer.answeredChallenge = true
        let auth = MasternodeAuthentication.answer(challenge: challenge, proTxHash: proTxHash, keys: identity.keys, magic: magic,
                                                   weDialled: !peer.isInbound)
        send(.mnauth(auth), to: peer)
    }

    func handleMasternodeAuth(_ auth: MasternodeAuth, from peer: Peer) {
        guard !peer.gotMasternodeAuth else { return misbehaving(peer, "a second mnauth on one connection") }
        peer.gotMasternodeAuth = true
        verifyMasternodeAuth(auth, from: peer)
    }

    /// Marks the peer on success. On failure while the peer's chain is ahead of ours (we are
    /// syncing, or a block behind) the answer waits for the next tip: Dash likewise does not
    /// judge `mnauth` before its list is current. Otherwise the connection is closed, without
    /// discouraging the address: honest lists can differ for a block (maturity, a new
    /// operator key), and a forger gains nothing by coming back.
    func verifyMasternodeAuth(_ auth: MasternodeAuth, from peer: Peer) {
        guard let challenge = peer.challengeSent, let parameters = masternodeParameters else { return }
        let snapshot = chain.snapshot
        switch MasternodeAuthentication.verify(auth, challenge: challenge, magic: magic, peerDialled: peer.isInbound,
                                               list: snapshot.masternodes, tipHeight: snapshot.tipHeight, parameters: parameters) {
        case .success(let entry):
            peer.pendingMasternodeAuth = nil
            // Another connection may hold the same masternode (both directions between two
            // nodes); each proved the key on its own challenge, so both count.
            peer.masternode = AuthenticatedMasternode(proTxHash: entry.proTxHash, operatorKey: entry.operatorKey)
            logger.info("\(peer.label): authenticated as masternode \(entry.proTxHash.hex)")
        case .failure(let failure) where snapshot.tipHeight < peer.bestKnownHeight:
            if peer.pendingMasternodeAuth == nil {
                logger.debug(Logger.Message(stringLiteral: "\(peer.label): mnauth not verifiable at height \(snapshot.tipHeight) "
                             + "(\(failure)); the peer is at \(peer.bestKnownHeight), checked again as this node catches up"))
            }
            peer.pendingMasternodeAuth = auth
        case .failure(let failure):
            peer.pendingMasternodeAuth = nil
            logger.warning("\(peer.label): masternode authentication failed: \(failure)")
            disconnect(peer, "masternode authentication failed: \(failure)")
        }
    }

    /// At start: where this node's registration stands, logged once.
    func startMasternodeIdentity() {
        guard let identity = masternodeIdentity else { return }
        masternodesFollowTip()
        let status = masternodeIdentity?.status ?? identity.status
        let id = status.entry.map { " \($0.proTxHash.hex)" } ?? ""
        logger.notice("masternode operator key \(HexCoding.encode(identity.keys.operatorKey)): state \(status.state.rawValue)\(id) at height \(status.tipHeight)")
    }

    /// At every tip change: this node's own state, then every authenticated peer against the
    /// new list (a revoked, banned, re-keyed or spent masternode loses its standing).
    func masternodesFollowTip() {
        guard let parameters = masternodeParameters else { return }
        let snapshot = chain.snapshot
        if var identity = masternodeIdentity {
            let changed = identity.update(list: snapshot.masternodes, tipHeight: snapshot.tipHeight, parameters: parameters)
            masternodeIdentity = identity
            if changed {
                let id = identity.status.entry.map { " \($0.proTxHash.hex)" } ?? ""
                logger.notice("masternode state \(identity.status.state.rawValue)\(id) at height \(snapshot.tipHeight)")
                if identity.readyProTxHash != nil {
                    for peer in peers.values where peer.handshakeDone { answerChallenge(of: peer) }
                }
            }
        }
        for peer in peers.values where !peer.disconnecting {
            if let pending = peer.pendingMasternodeAuth { verifyMasternodeAuth(pending, from: peer) }
            guard let known = peer.masternode,
                  let reason = MasternodeAuthentication.lapse(proTxHash: known.proTxHash, operatorKey: known.operatorKey,
                                                              list: snapshot.masternodes, tipHeight: snapshot.tipHeight,
                                                              parameters: parameters) else { continue }
            peer.masternode = nil
            logger.info("\(peer.label): no longer an authenticated masternode (\(known.proTxHash.hex) \(reason))")
        }
    }

    /// `masternode status`: nil when the node runs without `--masternode`.
    public func masternodeStatus() async throws -> MasternodeStatus? {
        try await onLoop { self.masternodeIdentity?.status }
    }
}
