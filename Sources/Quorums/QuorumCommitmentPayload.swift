import BLAKE3
import Ed25519
import Primitives

/// The payload of a `quorum-commitment` transaction (PROTOCOL section 17.3): the outcome of
/// one DKG, signed by at least `threshold` of the members it names valid, each with its
/// operator key over `commitmentHash`. A null commitment (no valid member, zero keys, no
/// signer) records a DKG that failed.
public struct QuorumCommitmentPayload: Hashable, Sendable, BinaryCodable {
    public static let version: UInt16 = 1
    public static let signatureLength = 64
    static let commitmentKey = DomainKeys.key(purpose: "quorum commitment")

    public var quorumType: QuorumTypeID
    public var quorumHash: Hash256
    /// The DKG start height: the height of the block `quorumHash`.
    public var quorumHeight: UInt64
    public var validMembers: QuorumBitset
    /// The quorum's Ed25519 public key (a prime-order point, not the identity).
    public var groupKey: [UInt8]
    /// Hash of the DKG's verification vector (the members' public shares derive from it).
    public var verificationVectorHash: Hash256
    public var signers: QuorumBitset
    /// One signature per set bit of `signers`, in member index order.
    public var signatures: [[UInt8]]

    public init(quorumType: QuorumTypeID, quorumHash: Hash256, quorumHeight: UInt64, validMembers: QuorumBitset, groupKey: [UInt8],
                verificationVectorHash: Hash256, signers: QuorumBitset, signatures: [[UInt8]]) {
        self.quorumType = quorumType
        self.quorumHash = quorumHash
        self.quorumHeight = quorumHeight
        self.validMembers = validMembers
        self.groupKey = groupKey
        self.verificationVectorHash = verificationVectorHash
        self.signers = signers
        self.signatures = signatures
    }

    /// The commitment of a failed DKG for a type of `size` members.
    public static func null(quorumType: QuorumTypeID, quorumHash: Hash256, quorumHeight: UInt64, size: Int) -> QuorumCommitmentPayload {
        QuorumCommitmentPayload(quorumType: quorumType, quorumHash: quorumHash, quorumHeight: quorumHeight, validMembers: QuorumBitset(count: size),
                                groupKey: [UInt8](repeating: 0, count: 32), verificationVectorHash: .zero,
                                signers: QuorumBitset(count: size), signatures: [])
    }

    public var isNull: Bool { validMembers.isEmpty }

    /// keyed_hash(K_quorum commitment, type || quorumHash || validMembers || groupKey || vvecHash):
    /// what each signing member signs, so a signature vouches for the valid set and the key.
    public var commitmentHash: Hash256 {
        var writer = ByteWriter(capacity: 128)
        writer.write(quorumType.rawValue)
        writer.write(quorumHash)
        validMembers.encode(to: &writer)
        writer.write(bytes: groupKey)
        writer.write(verificationVectorHash)
        return Hash256(bytes: BLAKE3.keyedHash(key: Self.commitmentKey, writer.bytes))!
    }

    /// A member's signature of this commitment with its operator key's seed.
    public func memberSignature(operatorSeed seed: [UInt8]) -> [UInt8] {
        Ed25519.sign(message: commitmentHash.bytes, seed: seed)
    }

    /// Sets `signers` and `signatures` from signatures by member index (indices outside the
    /// bitset are ignored).
    public mutating func setSignatures(_ byMember: [Int: [UInt8]]) {
        let kept = byMember.filter { $0.key >= 0 && $0.key < validMembers.count }
        signers = QuorumBitset(count: validMembers.count, setting: kept.keys)
        signatures = kept.keys.sorted().compactMap { kept[$0] }
    }

    /// The transaction that carries this payload: no inputs, no outputs.
    public var transaction: Transaction {
        Transaction(special: .quorumCommitment, payload: encoded, inputs: [], outputs: [])
    }

    /// The payload of a `quorum-commitment` transaction.
    public init(transaction: Transaction) throws {
        self = try Self(decoding: transaction.payload, path: "payload")
    }

    public func encode(to writer: inout ByteWriter) {
        writer.writeUInt16(Self.version)
        writer.write(quorumType.rawValue)
        writer.write(quorumHash)
        writer.write(quorumHeight)
        validMembers.encode(to: &writer)
        writer.write(bytes: groupKey)
        writer.write(verificationVectorHash)
        signers.encode(to: &writer)
        for signature in signatures { writer.write(bytes: signature) }
    }

    public static func decode(from reader: inout ByteReader) throws -> QuorumCommitmentPayload {
        let version = try reader.readUInt16("version")
        guard version == Self.version else { throw reader.invalid("version", at: 0, "payload version \(version), expected \(Self.version)") }
        let type = QuorumTypeID(rawValue: try reader.readUInt8("quorum_type"))
        let hash = try reader.readHash("quorum_hash")
        let height = try reader.readUInt64("quorum_height")
        let valid = try reader.within("valid_members") { try QuorumBitset.decode(from: &$0) }
        let groupKey = try reader.readBytes(32, "group_key")
        let vvecHash = try reader.readHash("verification_vector_hash")
        let signers = try reader.within("signers") { try QuorumBitset.decode(from: &$0) }
        var signatures = [[UInt8]]()
        for index in 0..<signers.setCount {
            signatures.append(try reader.readBytes(Self.signatureLength, "signatures[\(index)]"))
        }
        return QuorumCommitmentPayload(quorumType: type, quorumHash: hash, quorumHeight: height, validMembers: valid, groupKey: groupKey,
                                       verificationVectorHash: vvecHash, signers: signers, signatures: signatures)
    }
}
