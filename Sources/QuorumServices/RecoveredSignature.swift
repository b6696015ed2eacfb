import Ed25519
import Primitives

/// A quorum's answer to a signing request: the aggregate FROST signature, which is a plain
/// Ed25519 signature under the quorum's group key over `SigningRequest.signingDigest`.
///
/// Encoding (161 bytes): quorumType u8 | quorumHash 32 | requestId 32 | messageHash 32 |
/// signature 64.
public struct RecoveredSignature: Hashable, Sendable {
    public var request: SigningRequest
    public var quorumHash: Hash256
    public var signature: [UInt8]

    public static let signatureLength = 64
    public static let encodedLength = 1 + 3 * 32 + signatureLength

    public init(request: SigningRequest, quorumHash: Hash256, signature: [UInt8]) {
        self.request = request
        self.quorumHash = quorumHash
        self.signature = signature
    }

    public var quorumType: UInt8 { request.quorumType }
    public var requestID: SigningRequestID { request.requestID }
    public var messageHash: Hash256 { request.messageHash }

    /// What the quorum's key signed.
    public var signingDigest: [UInt8] { request.signingDigest(quorumHash: quorumHash) }

    /// Whether `signature` is a valid Ed25519 signature by `groupKey` over the digest (a key
    /// of the wrong length, or not a point, never verifies).
    public func verify(groupKey: [UInt8]) -> Bool {
        guard groupKey.count == 32, signature.count == Self.signatureLength else { return false }
        return Ed25519.verify(signature: signature, message: signingDigest, publicKey: groupKey)
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(quorumType)
        writer.write(quorumHash)
        writer.write(requestID.hash)
        writer.write(messageHash)
        writer.write(bytes: signature)
    }

    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedLength)
        encode(to: &writer)
        return writer.bytes
    }

    public static func decode(from reader: inout ByteReader) throws -> RecoveredSignature {
        let type = try reader.readUInt8("quorum_type")
        let quorumHash = try reader.readHash("quorum_hash")
        let requestID = SigningRequestID(try reader.readHash("request_id"))
        let messageHash = try reader.readHash("message_hash")
        let signature = try reader.readBytes(signatureLength, "signature")
        return RecoveredSignature(request: SigningRequest(quorumType: type, requestID: requestID, messageHash: messageHash),
                                  quorumHash: quorumHash, signature: signature)
    }

    /// Decodes exactly one recovered signature; `DecodingError` names the field at fault.
    public static func decode(_ bytes: [UInt8]) throws -> RecoveredSignature {
        var reader = ByteReader(bytes, path: "recsig")
        let value = try decode(from: &reader)
        try reader.expectEnd("end")
        return value
    }
}
