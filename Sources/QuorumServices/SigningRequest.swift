import BLAKE3
import Primitives

/// What a quorum is asked to sign (issue 18, signing service): a quorum type, the request's
/// id (which picks the responsible quorum, `QuorumChoice`) and the hash of the message.
public struct SigningRequest: Hashable, Sendable {
    public var quorumType: UInt8
    public var requestID: SigningRequestID
    public var messageHash: Hash256

    public init(quorumType: UInt8, requestID: SigningRequestID, messageHash: Hash256) {
        self.quorumType = quorumType
        self.requestID = requestID
        self.messageHash = messageHash
    }

    static let signKey = DomainKeys.key(purpose: "quorum sign")

    /// keyed_hash(K_"quorum sign", type u8 || quorumHash || requestId || messageHash): the 32
    /// bytes the quorum's FROST session signs. Binding the quorum hash and type keeps a
    /// signature from one quorum or type from standing for another.
    public func signingDigest(quorumHash: Hash256) -> [UInt8] {
        var writer = ByteWriter(capacity: 1 + 3 * 32)
        writer.write(quorumType)
        writer.write(quorumHash)
        writer.write(requestID.hash)
        writer.write(messageHash)
        return BLAKE3.keyedHash(key: Self.signKey, writer.bytes)
    }
}
