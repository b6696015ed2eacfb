import BLAKE3
import Crypto
import Primitives

/// One quorum member as the DKG sees it: its identifier (1-based position in the quorum's
/// member list, the FROST identifier), its operator key (Ed25519, signs DKG messages) and its
/// operator encryption key (X25519, shares are encrypted to it).
public struct DKGMemberKeys: Sendable, Equatable {
    public let identifier: UInt16
    public let operatorKey: [UInt8]
    public let encryptionKey: [UInt8]

    public init(identifier: UInt16, operatorKey: [UInt8], encryptionKey: [UInt8]) {
        self.identifier = identifier
        self.operatorKey = operatorKey
        self.encryptionKey = encryptionKey
    }
}

/// The public context of one DKG run. Every message and proof is bound to `id`, a keyed
/// hash of the quorum type, quorum hash, threshold and the whole member list, so nothing
/// produced for one run (or one member list) is accepted in another.
public struct DKGSession: Sendable, Equatable {
    public let quorumType: UInt8
    public let quorumHash: Hash256
    public let parameters: DKGParameters
    /// Ordered by identifier: `members[i].identifier == i + 1`.
    public let members: [DKGMemberKeys]
    public let id: Hash256

    static let sessionKey = DomainKeys.key(purpose: "dkg session")

    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public let reason: String
        public var description: String { "DKG session: \(reason)" }
    }

    /// `operatorKeys[i]` and `encryptionKeys[i]` belong to the member with identifier i + 1.
    public init(quorumType: UInt8, quorumHash: Hash256, threshold: Int,
                operatorKeys: [[UInt8]], encryptionKeys: [[UInt8]]) throws {
        let parameters: DKGParameters
        do { parameters = try DKGParameters(threshold: threshold, memberCount: operatorKeys.count) } catch {
            throw Invalid(reason: "\(error)")
        }
        guard encryptionKeys.count == operatorKeys.count else {
            throw Invalid(reason: "\(operatorKeys.count) operator keys but \(encryptionKeys.count) encryption keys")
        }
        var members: [DKGMemberKeys] = []
        for (index, (operatorKey, encryptionKey)) in zip(operatorKeys, encryptionKeys).enumerated() {
            guard operatorKey.count == 32 else { throw Invalid(reason: "member \(index + 1): operator key is not 32 bytes") }
            guard (try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: encryptionKey)) != nil else {
                throw Invalid(reason: "member \(index + 1): encryption key is not a 32-byte X25519 key")
            }
            members.append(DKGMemberKeys(identifier: UInt16(index + 1), operatorKey: operatorKey, encryptionKey: encryptionKey))
        }
        self.quorumType = quorumType
        self.quorumHash = quorumHash
        self.parameters = parameters
        self.members = members
        var writer = ByteWriter(capacity: 40 + 64 * members.count)
        writer.write(quorumType)
        writer.write(quorumHash)
        writer.write(UInt16(threshold))
        writer.write(UInt16(members.count))
        for member in members { writer.write(bytes: member.operatorKey); writer.write(bytes: member.encryptionKey) }
        id = Hash256(bytes: BLAKE3.keyedHash(key: Self.sessionKey, writer.bytes))!
    }

    public var threshold: Int { parameters.threshold }
    public var memberCount: Int { parameters.memberCount }
    public var identifiers: ClosedRange<UInt16> { 1...UInt16(members.count) }

    public func member(_ identifier: UInt16) -> DKGMemberKeys? {
        identifier >= 1 && Int(identifier) <= members.count ? members[Int(identifier) - 1] : nil
    }

    public static func == (a: DKGSession, b: DKGSession) -> Bool { a.id == b.id }
}

extension ByteWriter {
    mutating func write(_ value: UInt16) {
        write(UInt8(truncatingIfNeeded: value)); write(UInt8(truncatingIfNeeded: value >> 8))
    }
}

extension ByteReader {
    mutating func readUInt16(_ field: String) throws -> UInt16 {
        let bytes = try readBytes(2, field)
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }
}

extension DKGMemberKeys {
    /// The X25519 public key of an operator encryption secret (for callers without swift-crypto).
    public static func encryptionKey(secret: [UInt8]) throws -> [UInt8] {
        Array(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: secret).publicKey.rawRepresentation)
    }
}
