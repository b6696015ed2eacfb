import Primitives

/// Why a member complains about a sender's share to it.
public enum DKGComplaintReason: UInt8, Sendable, Equatable, CaseIterable {
    /// The contribution carried no share for the complainer.
    case missingShare = 1
    /// HPKE refused the ciphertext, or the plaintext was not a canonical scalar.
    case undecryptableShare = 2
    /// The share decrypted but f_i(j) B != sum_k j^k C_ik.
    case shareFailsCommitments = 3
}

/// Phase 2: the members whose shares to the sender were missing, undecryptable or wrong.
/// Each accused member must answer with a justification revealing that share.
///
/// Body: accusations_count u16 (>= 1) | (accused u16 | reason u8), accused increasing.
public struct DKGComplaint: DKGMessage {
    public static let kind: UInt8 = 2
    public static let name = "DKGComplaint"

    public struct Accusation: Sendable, Equatable {
        public let accused: UInt16
        public let reason: DKGComplaintReason
        public init(accused: UInt16, reason: DKGComplaintReason) { self.accused = accused; self.reason = reason }
    }

    public let sessionId: Hash256
    public let sender: UInt16
    public let accusations: [Accusation]
    public let signature: [UInt8]

    public init(sessionId: Hash256, sender: UInt16, accusations: [Accusation], signature: [UInt8] = []) {
        self.sessionId = sessionId
        self.sender = sender
        self.accusations = accusations
        self.signature = signature
    }

    public func withSignature(_ signature: [UInt8]) -> DKGComplaint {
        DKGComplaint(sessionId: sessionId, sender: sender, accusations: accusations, signature: signature)
    }

    public func writeBody(to writer: inout ByteWriter) {
        writer.write(UInt16(truncatingIfNeeded: accusations.count))
        for accusation in accusations { writer.write(accusation.accused); writer.write(accusation.reason.rawValue) }
    }

    public static func readBody(from reader: inout ByteReader, sessionId: Hash256, sender: UInt16) throws -> DKGComplaint {
        let accusations = try reader.readMemberList("accusations", key: "accused", sender: sender, minimum: 1,
                                                    entrySize: 3) { reader, name, accused in
            let code = try reader.readUInt8("\(name).reason")
            guard let reason = DKGComplaintReason(rawValue: code) else {
                throw reader.invalid("\(name).reason", "unknown complaint reason \(code)")
            }
            return Accusation(accused: accused, reason: reason)
        }
        return DKGComplaint(sessionId: sessionId, sender: sender, accusations: accusations, signature: try reader.readSignature())
    }
}
