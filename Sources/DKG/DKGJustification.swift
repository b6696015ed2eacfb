import Ed25519
import Primitives

/// Phase 3: an accused sender reveals, in plaintext, the share f_sender(j) it sent to each
/// complainer j. Everybody checks them against the sender's commitments.
///
/// Body: shares_count u16 (>= 1) | (complainer u16 | share 32), complainers increasing.
public struct DKGJustification: DKGMessage {
    public static let kind: UInt8 = 3
    public static let name = "DKGJustification"

    public struct RevealedShare: Sendable, Equatable {
        public let complainer: UInt16
        public let share: Ed25519.Scalar
        public init(complainer: UInt16, share: Ed25519.Scalar) { self.complainer = complainer; self.share = share }
    }

    public let sessionId: Hash256
    public let sender: UInt16
    public let revealedShares: [RevealedShare]
    public let signature: [UInt8]

    public init(sessionId: Hash256, sender: UInt16, revealedShares: [RevealedShare], signature: [UInt8] = []) {
        self.sessionId = sessionId
        self.sender = sender
        self.revealedShares = revealedShares
        self.signature = signature
    }

    public func withSignature(_ signature: [UInt8]) -> DKGJustification {
        DKGJustification(sessionId: sessionId, sender: sender, revealedShares: revealedShares, signature: signature)
    }

    public func writeBody(to writer: inout ByteWriter) {
        writer.write(UInt16(truncatingIfNeeded: revealedShares.count))
        for revealed in revealedShares { writer.write(revealed.complainer); writer.write(bytes: revealed.share.bytes) }
    }

    public static func readBody(from reader: inout ByteReader, sessionId: Hash256, sender: UInt16) throws -> DKGJustification {
        let revealed = try reader.readMemberList("shares", key: "complainer", sender: sender, minimum: 1,
                                                 entrySize: 34) { reader, name, complainer in
            RevealedShare(complainer: complainer, share: try reader.readScalar("\(name).share"))
        }
        return DKGJustification(sessionId: sessionId, sender: sender, revealedShares: revealed, signature: try reader.readSignature())
    }
}
