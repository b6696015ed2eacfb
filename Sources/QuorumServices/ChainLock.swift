import BLAKE3
import Primitives

/// A chain lock (issue 18, the first quorum service): the chain-lock quorum's signature over
/// one block at one height. It is a `RecoveredSignature` of the network's chain-lock quorum
/// type with request id keyed_hash(K_"chainlock request", height u64 LE) and message hash
/// the block hash, so one lock per height can exist and any quorum signature path (FROST
/// aggregation, batch verification) serves it unchanged.
///
/// Encoding (`clsig`, 136 bytes): height u64 LE | blockHash 32 | quorumHash 32 | signature 64.
/// The quorum type is not carried: it is the network's chain-lock type.
public struct ChainLock: Hashable, Sendable, CustomStringConvertible {
    public var height: UInt64
    public var blockHash: Hash256
    public var quorumHash: Hash256
    public var signature: [UInt8]

    public static let encodedLength = 8 + 32 + 32 + RecoveredSignature.signatureLength
    static let requestKey = DomainKeys.key(purpose: "chainlock request")

    public init(height: UInt64, blockHash: Hash256, quorumHash: Hash256, signature: [UInt8]) {
        self.height = height
        self.blockHash = blockHash
        self.quorumHash = quorumHash
        self.signature = signature
    }

    /// The signing request id of the lock at `height` (each height has exactly one).
    public static func requestID(height: UInt64) -> SigningRequestID {
        var writer = ByteWriter(capacity: 8)
        writer.write(height)
        return SigningRequestID(Hash256(bytes: BLAKE3.keyedHash(key: requestKey, writer.bytes))!)
    }

    /// The request a chain-lock quorum of `quorumType` answers for this block.
    public static func request(height: UInt64, blockHash: Hash256, quorumType: UInt8) -> SigningRequest {
        SigningRequest(quorumType: quorumType, requestID: requestID(height: height), messageHash: blockHash)
    }

    /// The lock as the quorum's recovered signature.
    public func recoveredSignature(quorumType: UInt8) -> RecoveredSignature {
        RecoveredSignature(request: Self.request(height: height, blockHash: blockHash, quorumType: quorumType),
                           quorumHash: quorumHash, signature: signature)
    }

    /// Whether the signature is the quorum key's over this lock's digest.
    public func verify(groupKey: [UInt8], quorumType: UInt8) -> Bool {
        recoveredSignature(quorumType: quorumType).verify(groupKey: groupKey)
    }

    /// Names a lock on the wire and in relay bookkeeping: BLAKE3 of its encoding.
    public var id: Hash256 { Hash256(bytes: BLAKE3.hash(encoded))! }

    public var description: String { "chain lock at height \(height) on \(blockHash.hex) by quorum \(quorumHash.hex)" }

    public func encode(to writer: inout ByteWriter) {
        writer.write(height)
        writer.write(blockHash)
        writer.write(quorumHash)
        writer.write(bytes: signature)
    }

    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedLength)
        encode(to: &writer)
        return writer.bytes
    }

    public static func decode(from reader: inout ByteReader) throws -> ChainLock {
        ChainLock(height: try reader.readUInt64("height"), blockHash: try reader.readHash("block_hash"),
                  quorumHash: try reader.readHash("quorum_hash"),
                  signature: try reader.readBytes(RecoveredSignature.signatureLength, "signature"))
    }

    /// Decodes exactly one lock; `DecodingError` names the field at fault.
    public static func decode(_ bytes: [UInt8]) throws -> ChainLock {
        var reader = ByteReader(bytes, path: "clsig")
        let lock = try decode(from: &reader)
        try reader.expectEnd("end")
        return lock
    }
}
