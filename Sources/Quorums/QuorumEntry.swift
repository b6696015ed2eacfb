import BLAKE3
import Primitives

/// A mined quorum as the chain state holds it (PROTOCOL section 17.5). Its encoding is what
/// the quorum root commits to and what the chain state stores.
public struct QuorumEntry: Hashable, Sendable, BinaryCodable {
    public var type: QuorumTypeID
    public var quorumHash: Hash256
    /// The DKG start height (the height of block `quorumHash`).
    public var quorumHeight: UInt64
    public var minedHeight: UInt64
    /// The selected members' ids in member index order.
    public var members: [Hash256]
    public var validMembers: QuorumBitset
    public var groupKey: [UInt8]
    public var verificationVectorHash: Hash256

    static let leafKey = DomainKeys.key(purpose: "quorum entry")

    public init(type: QuorumTypeID, quorumHash: Hash256, quorumHeight: UInt64, minedHeight: UInt64, members: [Hash256],
                validMembers: QuorumBitset, groupKey: [UInt8], verificationVectorHash: Hash256) {
        self.type = type
        self.quorumHash = quorumHash
        self.quorumHeight = quorumHeight
        self.minedHeight = minedHeight
        self.members = members
        self.validMembers = validMembers
        self.groupKey = groupKey
        self.verificationVectorHash = verificationVectorHash
    }

    public init(_ commitment: CheckedQuorumCommitment, minedHeight: UInt64) {
        let payload = commitment.payload
        self.init(type: payload.quorumType, quorumHash: payload.quorumHash, quorumHeight: payload.quorumHeight, minedHeight: minedHeight,
                  members: commitment.members.map(\.proTxHash), validMembers: payload.validMembers, groupKey: payload.groupKey,
                  verificationVectorHash: payload.verificationVectorHash)
    }

    public var key: QuorumKey { QuorumKey(type: type, quorumHash: quorumHash) }
    /// A failed DKG's record: it never serves.
    public var isNull: Bool { validMembers.isEmpty }
    /// Ids of the members the DKG found valid.
    public var validMemberIDs: [Hash256] { validMembers.setIndices.compactMap { $0 < members.count ? members[$0] : nil } }

    /// keyed_hash(K_quorum entry, encoding): the leaf of the quorum root's Merkle tree.
    public var leafHash: Hash256 { Hash256(bytes: BLAKE3.keyedHash(key: Self.leafKey, encoded))! }

    public func encode(to writer: inout ByteWriter) {
        writer.write(type.rawValue)
        writer.write(quorumHash)
        writer.write(quorumHeight)
        writer.write(minedHeight)
        writer.writeCompactSize(UInt64(members.count))
        for member in members { writer.write(member) }
        validMembers.encode(to: &writer)
        writer.write(bytes: groupKey)
        writer.write(verificationVectorHash)
    }

    public static func decode(from reader: inout ByteReader) throws -> QuorumEntry {
        let type = QuorumTypeID(rawValue: try reader.readUInt8("type"))
        let hash = try reader.readHash("quorum_hash")
        let height = try reader.readUInt64("quorum_height"), mined = try reader.readUInt64("mined_height")
        let count = try reader.readCount("members", limit: UInt64(QuorumType.maxSize), minimumItemSize: 32)
        var members = [Hash256]()
        for index in 0..<count { members.append(try reader.readHash("members[\(index)]")) }
        let valid = try reader.within("valid_members") { try QuorumBitset.decode(from: &$0) }
        let groupKey = try reader.readBytes(32, "group_key")
        let vvecHash = try reader.readHash("verification_vector_hash")
        return QuorumEntry(type: type, quorumHash: hash, quorumHeight: height, minedHeight: mined, members: members,
                           validMembers: valid, groupKey: groupKey, verificationVectorHash: vvecHash)
    }
}

/// A quorum's identity: its type and the block its DKG started at. Ordered by type, then hash
/// (the quorum root's order); `bytes` (type || hash) is its storage key.
public struct QuorumKey: Hashable, Comparable, Sendable, BinaryCodable {
    public var type: QuorumTypeID
    public var quorumHash: Hash256

    public init(type: QuorumTypeID, quorumHash: Hash256) {
        self.type = type
        self.quorumHash = quorumHash
    }

    public static func < (a: Self, b: Self) -> Bool { a.type != b.type ? a.type < b.type : a.quorumHash < b.quorumHash }

    public var bytes: [UInt8] { encoded }

    public func encode(to writer: inout ByteWriter) {
        writer.write(type.rawValue)
        writer.write(quorumHash)
    }

    public static func decode(from reader: inout ByteReader) throws -> QuorumKey {
        QuorumKey(type: QuorumTypeID(rawValue: try reader.readUInt8("type")), quorumHash: try reader.readHash("quorum_hash"))
    }
}
