// Quorum traffic on P2P (docs/protocol/quorum-p2p.md): DKG and signing messages travel only
// between authenticated masternodes. Each message is judged once (by its relay hash) by the
// node's quorum service, then relayed to the other authenticated masternode peers; one the
// service calls invalid is misbehaviour of the peer that sent it.

import Logging
import Primitives
import Wire

/// What the node's quorum service says about a message from the network.
enum QuorumMessageVerdict: Equatable {
    /// Well signed by a member of a quorum this node knows: pass it on.
    case relay
    /// Not for this node to judge or to pass on (an unknown or finished quorum, a late message).
    case ignore
    /// Provably bad whatever this node saw before (bad signature, a sender outside the quorum,
    /// malformed inner message); never equivocation, which is the member's fault, not the relayer's.
    case invalid(String)
}

/// The node's quorum service as the P2P layer sees it.
protocol QuorumMessageHandler: AnyObject, Sendable {
    /// Checks (and, when valid, takes in) a message that arrived from masternode `sender`.
    func receive(_ message: QuorumMessage, from sender: Hash256) -> QuorumMessageVerdict
}

/// Relay bookkeeping: the handler and the messages already judged.
struct QuorumRelayState {
    weak var handler: (any QuorumMessageHandler)?
    /// Relay hashes seen (bounded: DKG traffic is a few hundred messages per quorum).
    var seen = BoundedSet<Hash256>(capacity: 50_000)
}

extension PeerManager {
    func handleQuorumMessage(_ message: QuorumMessage, from peer: Peer) {
        // Only masternodes speak in quorums; a plain peer's quorum traffic is dropped unread
        // (it may be a masternode whose mnauth is not yet verifiable).
        guard let masternode = peer.masternode else {
            return logger.debug("\(peer.label): ignoring \(message.command) from a peer not authenticated as a masternode")
        }
        let hash = message.relayHash
        guard !quorumRelay.seen.contains(hash), let handler = quorumRelay.handler else { return }
        // Seen only once judged for good: an `ignore`d message (early, buffered, evicted) may
        // still be taken from another peer later.
        switch handler.receive(message, from: masternode.proTxHash) {
        case .relay: broadcastQuorumMessage(message, except: peer.id)
        case .ignore: break
        case .invalid(let reason):
            quorumRelay.seen.insert(hash)
            misbehaving(peer, "invalid \(message.command): \(reason)")
        }
    }

    /// Sends a quorum message (our own, or one that passed the checks) to every authenticated
    /// masternode peer but `except`; our own messages are marked seen so echoes are dropped.
    func broadcastQuorumMessage(_ message: QuorumMessage, except: Int? = nil) {
        quorumRelay.seen.insert(message.relayHash)
        for peer in peers.values where peer.id != except && peer.masternode != nil && peer.handshakeDone {
            send(.quorum(message), to: peer)
        }
    }
}
