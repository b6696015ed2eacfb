import BLAKE3
import Primitives

/// One registered masternode as the list holds it (PROTOCOL section 16.4). The encoding is
/// what the list commits to and what the chain state stores.
public struct MasternodeEntry: Hashable, Sendable, BinaryCodable {
    /// The txid of the registration: the masternode's id.
    public var proTxHash: Hash256
    public var collateral: OutPoint
    public var ownerKey: [UInt8]
    /// All zeros after a revoke, until the owner names a new operator.
    public var operatorKey: [UInt8]
    public var operatorEncryptionKey: [UInt8]
    public var service: ServiceAddress
    public var payoutScript: [UInt8]
    public var registeredHeight: UInt64
    /// Height of the last update, registration included.
    public var updatedHeight: UInt64
    /// Proof-of-service penalty as of `penaltyHeight`; it decays per block after it while not banned.
    public var penalty: UInt32
    public var penaltyHeight: UInt64
    /// Height the masternode was banned at (by penalty or revoke); nil while not banned.
    public var bannedHeight: UInt64?
    /// The reason of the last revoke (0 when never revoked or revived since).
    public var revocationReason: UInt16

    public static let clearedKey = [UInt8](repeating: 0, count: 32)
    static let leafKey = DomainKeys.key(purpose: "masternode entry")

    public init(proTxHash: Hash256, collateral: OutPoint, ownerKey: [UInt8], operatorKey: [UInt8], operatorEncryptionKey: [UInt8],
                service: ServiceAddress, payoutScript: [UInt8], registeredHeight: UInt64, updatedHeight: UInt64? = nil,
                penalty: UInt32 = 0, penaltyHeight: UInt64? = nil, bannedHeight: UInt64? = nil, revocationReason: UInt16 = 0) {
        self.proTxHash = proTxHash
        self.collateral = collateral
        self.ownerKey = ownerKey
        self.operatorKey = operatorKey
        self.operatorEncryptionKey = operatorEncryptionKey
        self.service = service
        self.payoutScript = payoutScript
        self.registeredHeight = registeredHeight
        self.updatedHeight = updatedHeight ?? registeredHeight
        self.penalty = penalty
        self.penaltyHeight = penaltyHeight ?? registeredHeight
        self.bannedHeight = bannedHeight
        self.revocationReason = revocationReason
    }

    public var isRevoked: Bool { operatorKey == Self.clearedKey }
    public var isBanned: Bool { bannedHeight != nil }

    /// The penalty in force at `height`: the stored one decayed by `decay` per block since
    /// it was set, and not decaying while banned. Stored lazily so an entry changes only
    /// when something happens to it.
    public func penalty(at height: UInt64, decayPerBlock decay: UInt32) -> UInt32 {
        if isBanned || height <= penaltyHeight { return penalty }
        let (decayed, overflow) = (height - penaltyHeight).multipliedReportingOverflow(by: UInt64(decay))
        return overflow || decayed >= UInt64(penalty) ? 0 : penalty - UInt32(decayed)
    }

    /// Counted (in quorums, governance, the valid count) at `height`: mature and not banned.
    public func isValid(at height: UInt64, maturity: UInt64) -> Bool {
        guard !isBanned else { return false }
        let (mature, overflow) = registeredHeight.addingReportingOverflow(maturity)
        return !overflow && mature <= height
    }

    /// keyed_hash(K_masternode entry, encoding): the leaf of the list's Merkle tree.
    public var leafHash: Hash256 { Self.leafHash(ofEncoding: encoded) }

    /// The leaf hash of an entry's encoding, hashed in place (no generic sequence walk).
    static func leafHash(ofEncoding encoding: [UInt8]) -> Hash256 {
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { output in
            leafKey.withUnsafeBytes { key in
                encoding.withUnsafeBytes { input in BLAKE3.hash(input, key: key, into: output) }
            }
            return Hash256(UnsafeRawBufferPointer(output))
        }
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(proTxHash)
        collateral.encode(to: &writer)
        writer.write(bytes: ownerKey)
        writer.write(bytes: operatorKey)
        writer.write(bytes: operatorEncryptionKey)
        service.encode(to: &writer)
        writer.writeVarBytes(payoutScript)
        writer.write(registeredHeight)
        writer.write(updatedHeight)
        writer.write(penalty)
        writer.write(penaltyHeight)
        writer.write(bannedHeight ?? UInt64.max)
        writer.writeUInt16(revocationReason)
    }

    public static func decode(from reader: inout ByteReader) throws -> MasternodeEntry {
        let proTxHash = try reader.readHash("pro_tx_hash")
        let collateral = try reader.within("collateral") { try OutPoint.decode(from: &$0) }
        let owner = try reader.readBytes(32, "owner_key"), op = try reader.readBytes(32, "operator_key")
        let encryption = try reader.readBytes(32, "operator_encryption_key")
        let service = try reader.within("service") { try ServiceAddress.decode(from: &$0) }
        let payout = try reader.readVarBytes("payout_script", limit: SpecialPayloadCodec.maxPayoutScriptBytes)
        let registered = try reader.readUInt64("registered_height"), updated = try reader.readUInt64("updated_height")
        let penalty = try reader.readUInt32("penalty"), penaltyHeight = try reader.readUInt64("penalty_height")
        let banned = try reader.readUInt64("banned_height")
        let reason = try reader.readUInt16("revocation_reason")
        return MasternodeEntry(proTxHash: proTxHash, collateral: collateral, ownerKey: owner, operatorKey: op, operatorEncryptionKey: encryption,
                               service: service, payoutScript: payout, registeredHeight: registered, updatedHeight: updated,
                               penalty: penalty, penaltyHeight: penaltyHeight, bannedHeight: banned == .max ? nil : banned,
                               revocationReason: reason)
    }
}

/// An entry decoded from its stored encoding together with the leaf hash of those same bytes.
/// The encoding is canonical (fixed-size fields, a minimal length prefix, banned height
/// `UInt64.max` for none), so a record that decodes is exactly its entry's `encoded`: loading
/// a list hashes each stored record once and re-encodes nothing.
public struct StoredMasternodeEntry: Sendable {
    public let entry: MasternodeEntry
    let leafHash: Hash256

    /// Throws a `DecodingError` naming the field when `bytes` is not one whole entry.
    public init(decoding bytes: [UInt8]) throws {
        // The path is given: the default one names the type through reflection, per record.
        entry = try MasternodeEntry(decoding: bytes, path: "masternode_entry")
        leafHash = MasternodeEntry.leafHash(ofEncoding: bytes)
    }

    /// An entry as it would be stored (its leaf hashed from its encoding).
    init(entry: MasternodeEntry) {
        self.entry = entry
        leafHash = entry.leafHash
    }
}
