import BLAKE3
import Ed25519
import FROST
import Primitives
import Wire

/// What one member holds for one quorum's signing (docs/protocol/quorum-p2p.md section 3):
/// its FROST key package from the DKG, the public key package, and every member's identity.
struct QuorumSigner: Sendable {
    let quorumType: UInt8
    let quorumHash: Hash256
    /// This node's member number (member index + 1, the FROST identifier).
    let member: UInt16
    /// Each member's registration id, by member index: ranks coordinators.
    let memberIDs: [Hash256]
    /// Each member's operator key, by member index: checks the signing messages.
    let operatorKeys: [[UInt8]]
    let operatorSeed: [UInt8]
    let keyPackage: KeyPackage
    let publicKeys: PublicKeyPackage

    var threshold: Int { publicKeys.minSigners }

    func operatorKey(of member: UInt16) -> [UInt8]? {
        member >= 1 && Int(member) <= operatorKeys.count ? operatorKeys[Int(member) - 1] : nil
    }

    /// The member number a FROST identifier stands for, when it is one of this quorum's.
    func memberNumber(of identifier: Identifier) -> UInt16? {
        let bytes = identifier.bytes
        guard bytes[2...].allSatisfy({ $0 == 0 }) else { return nil }
        let number = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        return number >= 1 && Int(number) <= operatorKeys.count ? number : nil
    }

    /// Signs a message with this member's operator key.
    func signed<M: QuorumSignedMessage>(_ message: M) -> M {
        var copy = message
        copy.signature = Ed25519.sign(message: message.signedDigest, seed: operatorSeed)
        return copy
    }

    /// Whether `message` carries member `sender`'s operator signature.
    func isSigned<M: QuorumSignedMessage>(_ message: M, by sender: UInt16) -> Bool {
        guard let key = operatorKey(of: sender) else { return false }
        return Ed25519.verify(signature: message.signature, message: message.signedDigest, publicKey: key)
    }

    static let coordinatorKey = DomainKeys.key(purpose: "quorum coordinator")

    /// keyed_hash(K_quorum coordinator, requestId || proTxHash): lower ranks coordinate first.
    func coordinatorRank(of member: UInt16, requestID: Hash256) -> Hash256 {
        let id = Int(member) >= 1 && Int(member) <= memberIDs.count ? memberIDs[Int(member) - 1] : .zero
        return Hash256(bytes: BLAKE3.keyedHash(key: Self.coordinatorKey, requestID.bytes + id.bytes))!
    }

    /// `members` in coordinator order for `requestID`.
    func coordinatorOrder(_ members: some Sequence<UInt16>, requestID: Hash256) -> [UInt16] {
        members.map { (rank: coordinatorRank(of: $0, requestID: requestID), member: $0) }
            .sorted { $0.rank != $1.rank ? $0.rank < $1.rank : $0.member < $1.member }
            .map(\.member)
    }
}

/// What a signing session asks the node to do.
enum QuorumSigningEvent: Equatable {
    /// Broadcast to the other members (and, for a recovered signature, to everyone).
    case broadcast(QuorumMessage)
    /// The group signature, verified under the group key.
    case recovered(QuorumRecoveredSignature)
    /// Identifiable abort: `member`'s share failed verification; it is left out from now on.
    case badShare(member: UInt16)
    /// `member` signed two different commitments for one attempt: left out of this request.
    case equivocation(member: UInt16)
}

/// Why a signing message was refused: the sender is at fault (misbehaviour).
struct QuorumSigningRejection: Error, Equatable, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
