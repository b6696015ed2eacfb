import Ed25519
import Primitives

/// Phase 1: the sender's Feldman commitments (exactly `threshold` points), its proof of
/// knowledge of the constant term, and f_sender(j) HPKE-encrypted to every other member j.
///
/// Body: commitment_count u16 | commitments 32 each | pok_R 32 | pok_z 32 |
///       shares_count u16 | (recipient u16 | encapsulated_key 32 | ciphertext 48), recipients increasing.
public struct DKGContribution: DKGMessage {
    public static let kind: UInt8 = 1
    public static let name = "DKGContribution"

    public let sessionId: Hash256
    public let sender: UInt16
    public let commitments: [Ed25519.Point]
    public let proofOfKnowledge: ProofOfKnowledge
    public let encryptedShares: [EncryptedShare]
    public let signature: [UInt8]

    public init(sessionId: Hash256, sender: UInt16, commitments: [Ed25519.Point], proofOfKnowledge: ProofOfKnowledge,
                encryptedShares: [EncryptedShare], signature: [UInt8] = []) {
        self.sessionId = sessionId
        self.sender = sender
        self.commitments = commitments
        self.proofOfKnowledge = proofOfKnowledge
        self.encryptedShares = encryptedShares
        self.signature = signature
    }

    public func withSignature(_ signature: [UInt8]) -> DKGContribution {
        DKGContribution(sessionId: sessionId, sender: sender, commitments: commitments, proofOfKnowledge: proofOfKnowledge,
                        encryptedShares: encryptedShares, signature: signature)
    }

    public func share(for recipient: UInt16) -> EncryptedShare? {
        encryptedShares.first { $0.recipient == recipient }
    }

    public func writeBody(to writer: inout ByteWriter) {
        writer.write(UInt16(truncatingIfNeeded: commitments.count))
        for point in commitments { writer.write(bytes: point.encoded) }
        writer.write(bytes: proofOfKnowledge.commitment.encoded)
        writer.write(bytes: proofOfKnowledge.response.bytes)
        writer.write(UInt16(truncatingIfNeeded: encryptedShares.count))
        for share in encryptedShares {
            writer.write(share.recipient)
            writer.write(bytes: share.encapsulatedKey)
            writer.write(bytes: share.ciphertext)
        }
    }

    public static func readBody(from reader: inout ByteReader, sessionId: Hash256, sender: UInt16) throws -> DKGContribution {
        let commitmentCount = try reader.readCount("commitment_count", minimum: 1, itemSize: 32)
        var commitments: [Ed25519.Point] = []
        commitments.reserveCapacity(commitmentCount)
        for index in 0..<commitmentCount { commitments.append(try reader.readPoint("commitments[\(index)]")) }
        let nonceCommitment = try reader.readPoint("proof_of_knowledge.R")
        let response = try reader.readScalar("proof_of_knowledge.z")
        let shares = try reader.readMemberList("shares", key: "recipient", sender: sender, minimum: 0,
                                               entrySize: EncryptedShare.encodedLength) { reader, name, recipient in
            EncryptedShare(recipient: recipient,
                           encapsulatedKey: try reader.readBytes(EncryptedShare.encapsulatedKeyLength, "\(name).encapsulated_key"),
                           ciphertext: try reader.readBytes(EncryptedShare.ciphertextLength, "\(name).ciphertext"))
        }
        let signature = try reader.readSignature()
        return DKGContribution(sessionId: sessionId, sender: sender, commitments: commitments,
                               proofOfKnowledge: ProofOfKnowledge(commitment: nonceCommitment, response: response),
                               encryptedShares: shares, signature: signature)
    }
}
