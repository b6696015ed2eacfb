import BLAKE3
import Primitives
import QuorumServices

// The quorum messages of docs/protocol/quorum-p2p.md: DKG traffic (qcontrib, qcomplaint,
// qjustify, qcommit) and the signing service (qsigcommit, qsigpkg, qsigshare, qrecsig).
// Pure byte formats: who may send what, and the signature checks against the masternode
// list, live in the node (Sources/Node/Quorum). Every member number is the 1-based member
// index of the quorum (the FROST/DKG identifier), u16 LE.

/// One quorum message; `Message.quorum` carries it.
public enum QuorumMessage: Sendable, Equatable {
    /// A DKG contribution (the DKG module's own signed encoding), for quorum `type/hash`.
    case contribution(QuorumDKGEnvelope)
    case complaint(QuorumDKGEnvelope)
    case justification(QuorumDKGEnvelope)
    /// A member's operator signature of the commitment hash, with the view it signs.
    case commitmentVote(QuorumCommitmentVote)
    /// A member's FROST nonce commitments for one signing attempt.
    case nonceCommitment(QuorumNonceCommitment)
    /// The coordinator's choice of signers and their commitments for one attempt.
    case signingPackage(QuorumSigningPackageMessage)
    /// A member's FROST signature share for one package.
    case signatureShare(QuorumSignatureShareMessage)
    /// The aggregated signature: quorumType u8 | quorumHash 32 | requestId 32 | messageHash 32 | signature 64.
    case recoveredSignature(QuorumRecoveredSignature)

    public static let commands = ["qcontrib", "qcomplaint", "qjustify", "qcommit", "qsigcommit", "qsigpkg", "qsigshare", "qrecsig"]

    public var command: String {
        switch self {
        case .contribution: return "qcontrib"
        case .complaint: return "qcomplaint"
        case .justification: return "qjustify"
        case .commitmentVote: return "qcommit"
        case .nonceCommitment: return "qsigcommit"
        case .signingPackage: return "qsigpkg"
        case .signatureShare: return "qsigshare"
        case .recoveredSignature: return "qrecsig"
        }
    }

    public var quorumType: UInt8 {
        switch self {
        case .contribution(let e), .complaint(let e), .justification(let e): return e.quorumType
        case .commitmentVote(let v): return v.quorumType
        case .nonceCommitment(let m): return m.topic.quorumType
        case .signingPackage(let m): return m.topic.quorumType
        case .signatureShare(let m): return m.topic.quorumType
        case .recoveredSignature(let m): return m.topic.quorumType
        }
    }

    public var quorumHash: Hash256 {
        switch self {
        case .contribution(let e), .complaint(let e), .justification(let e): return e.quorumHash
        case .commitmentVote(let v): return v.quorumHash
        case .nonceCommitment(let m): return m.topic.quorumHash
        case .signingPackage(let m): return m.topic.quorumHash
        case .signatureShare(let m): return m.topic.quorumHash
        case .recoveredSignature(let m): return m.topic.quorumHash
        }
    }

    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .contribution(let e), .complaint(let e), .justification(let e): e.encode(to: &writer)
        case .commitmentVote(let v): v.encode(to: &writer)
        case .nonceCommitment(let m): m.encodeUnsigned(to: &writer); writer.write(bytes: m.signature)
        case .signingPackage(let m): m.encodeUnsigned(to: &writer); writer.write(bytes: m.signature)
        case .signatureShare(let m): m.encodeUnsigned(to: &writer); writer.write(bytes: m.signature)
        case .recoveredSignature(let m): m.topic.encode(to: &writer); writer.write(bytes: m.signature)
        }
    }

    public var payload: [UInt8] {
        var writer = ByteWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// BLAKE3(command || payload): what relay deduplicates on (one encoding per message, so
    /// one hash per message).
    public var relayHash: Hash256 { Self.relayHash(command: command, payload: payload) }

    public static func relayHash(command: String, payload: [UInt8]) -> Hash256 {
        Hash256(bytes: BLAKE3.hash(Array(command.utf8) + [0] + payload))!
    }

    /// Decodes one of `commands`; nil for any other command (not a quorum message).
    static func decode(command: String, reader: inout ByteReader) throws -> QuorumMessage? {
        switch command {
        case "qcontrib": return .contribution(try QuorumDKGEnvelope.decode(from: &reader))
        case "qcomplaint": return .complaint(try QuorumDKGEnvelope.decode(from: &reader))
        case "qjustify": return .justification(try QuorumDKGEnvelope.decode(from: &reader))
        case "qcommit": return .commitmentVote(try QuorumCommitmentVote.decode(from: &reader))
        case "qsigcommit": return .nonceCommitment(try QuorumNonceCommitment.decode(from: &reader))
        case "qsigpkg": return .signingPackage(try QuorumSigningPackageMessage.decode(from: &reader))
        case "qsigshare": return .signatureShare(try QuorumSignatureShareMessage.decode(from: &reader))
        case "qrecsig":
            let topic = try QuorumSigningTopic.decode(from: &reader)
            return .recoveredSignature(QuorumRecoveredSignature(topic: topic, signature: try reader.readBytes(64, "signature")))
        default: return nil
        }
    }
}

/// Size limits of the quorum messages (a quorum has at most 400 members, PROTOCOL 17.1).
public enum QuorumWireLimits {
    public static let maxMembers = 400
    public static let signatureLength = 64
    /// quorum_type u8 | quorum_hash 32 | the DKG message's CompactSize length (3 bytes up to 65,535).
    static let quorumHeader = 33 + 3
    /// The DKG message's header (kind u8 | session 32 | sender u16) and signature.
    static let dkgFraming = 1 + 32 + 2 + signatureLength
    /// A contribution: threshold commitments, a proof of knowledge, and an encrypted share
    /// (recipient u16 | encapsulated key 32 | ciphertext 48) for every other member.
    public static let contribution = quorumHeader + dkgFraming + 2 + maxMembers * 32 + 64 + 2 + (maxMembers - 1) * 82
    /// A complaint: (accused u16 | reason u8) per other member.
    public static let complaint = quorumHeader + dkgFraming + 2 + (maxMembers - 1) * 3
    /// A justification: (complainer u16 | share 32) per other member.
    public static let justification = quorumHeader + dkgFraming + 2 + (maxMembers - 1) * 34
    /// type | hash | member u16 | bitset (CompactSize count <= 400: 3 bytes, 50 bytes) | key 32 | vvec hash 32 | signature.
    public static let commitmentVote = 33 + 2 + 3 + (maxMembers + 7) / 8 + 32 + 32 + signatureLength
    public static let nonceCommitment = QuorumSigningTopic.encodedLength + 2 + 1 + 96 + signatureLength
    public static let signingPackage = QuorumSigningTopic.encodedLength + 2 + 1 + 2 + maxMembers * 96 + signatureLength
    public static let signatureShare = QuorumSigningTopic.encodedLength + 2 + 1 + 32 + 32 + signatureLength
    public static let recoveredSignature = QuorumSigningTopic.encodedLength + signatureLength

    /// The payload limit of a quorum command; nil for other commands.
    public static func maxPayload(forCommand command: String) -> Int? {
        switch command {
        case "qcontrib": return contribution
        case "qcomplaint": return complaint
        case "qjustify": return justification
        case "qcommit": return commitmentVote
        case "qsigcommit": return nonceCommitment
        case "qsigpkg": return signingPackage
        case "qsigshare": return signatureShare
        case "qrecsig": return recoveredSignature
        default: return nil
        }
    }
}

/// qcontrib / qcomplaint / qjustify: quorum_type u8 | quorum_hash 32 | dkg_message (CompactSize
/// length, then the DKG module's signed encoding: kind | session | sender | body | signature). The DKG
/// message signs itself with the sender's operator key, so the envelope adds no signature.
public struct QuorumDKGEnvelope: Sendable, Equatable {
    public var quorumType: UInt8
    public var quorumHash: Hash256
    public var dkgMessage: [UInt8]

    public init(quorumType: UInt8, quorumHash: Hash256, dkgMessage: [UInt8]) {
        self.quorumType = quorumType
        self.quorumHash = quorumHash
        self.dkgMessage = dkgMessage
    }

    /// The sender's member number (bytes 33..<35 of the DKG message), read without decoding it.
    public var sender: UInt16? {
        dkgMessage.count >= 35 ? UInt16(dkgMessage[33]) | UInt16(dkgMessage[34]) << 8 : nil
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(quorumType)
        writer.write(quorumHash)
        writer.writeVarBytes(dkgMessage)
    }

    static func decode(from reader: inout ByteReader) throws -> QuorumDKGEnvelope {
        let type = try reader.readUInt8("quorum_type")
        let hash = try reader.readHash("quorum_hash")
        let start = reader.offset
        let message = try reader.readVarBytes("dkg_message", limit: QuorumWireLimits.contribution)
        guard message.count >= QuorumWireLimits.dkgFraming else {
            throw reader.invalid("dkg_message", at: start, "\(message.count) bytes, a DKG message has at least \(QuorumWireLimits.dkgFraming)")
        }
        return QuorumDKGEnvelope(quorumType: type, quorumHash: hash, dkgMessage: message)
    }
}

/// qcommit: quorum_type u8 | quorum_hash 32 | member u16 | valid_members (CompactSize bit
/// count, then the bits) | group_key 32 | verification_vector_hash 32 | signature 64. The
/// signature is the member's operator signature over the commitment hash of this view
/// (PROTOCOL 17.3), the very signature the final commitment carries.
public struct QuorumCommitmentVote: Sendable, Equatable {
    public var quorumType: UInt8
    public var quorumHash: Hash256
    public var member: UInt16
    public var validMemberCount: Int
    /// ceil(validMemberCount / 8) bytes, bit i at byte i / 8, mask 1 << (i % 8); padding bits zero.
    public var validMemberBits: [UInt8]
    public var groupKey: [UInt8]
    public var verificationVectorHash: Hash256
    public var signature: [UInt8]

    public init(quorumType: UInt8, quorumHash: Hash256, member: UInt16, validMemberCount: Int, validMemberBits: [UInt8],
                groupKey: [UInt8], verificationVectorHash: Hash256, signature: [UInt8]) {
        self.quorumType = quorumType
        self.quorumHash = quorumHash
        self.member = member
        self.validMemberCount = validMemberCount
        self.validMemberBits = validMemberBits
        self.groupKey = groupKey
        self.verificationVectorHash = verificationVectorHash
        self.signature = signature
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(quorumType)
        writer.write(quorumHash)
        writer.writeMember(member)
        writer.writeCompactSize(UInt64(validMemberCount))
        writer.write(bytes: validMemberBits)
        writer.write(bytes: groupKey)
        writer.write(verificationVectorHash)
        writer.write(bytes: signature)
    }

    static func decode(from reader: inout ByteReader) throws -> QuorumCommitmentVote {
        let type = try reader.readUInt8("quorum_type")
        let hash = try reader.readHash("quorum_hash")
        let member = try reader.readMember("member")
        let count = Int(try reader.readCompactSize("valid_members_count", limit: UInt64(QuorumWireLimits.maxMembers)))
        let bits = try reader.readBytes((count + 7) / 8, "valid_members")
        if count % 8 != 0, let last = bits.last, last >> UInt8(count % 8) != 0 {
            throw reader.invalid("valid_members", "bits set past the count \(count)")
        }
        return QuorumCommitmentVote(quorumType: type, quorumHash: hash, member: member, validMemberCount: count, validMemberBits: bits,
                                    groupKey: try reader.readBytes(32, "group_key"),
                                    verificationVectorHash: try reader.readHash("verification_vector_hash"),
                                    signature: try reader.readBytes(QuorumWireLimits.signatureLength, "signature"))
    }
}

/// What a signing message is about: quorum_type u8 | quorum_hash 32 | request_id 32 |
/// message_hash 32 (97 bytes).
public struct QuorumSigningTopic: Hashable, Sendable {
    public var quorumType: UInt8
    public var quorumHash: Hash256
    public var requestID: Hash256
    public var messageHash: Hash256

    public static let encodedLength = 97

    public init(quorumType: UInt8, quorumHash: Hash256, requestID: Hash256, messageHash: Hash256) {
        self.quorumType = quorumType
        self.quorumHash = quorumHash
        self.requestID = requestID
        self.messageHash = messageHash
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(quorumType)
        writer.write(quorumHash)
        writer.write(requestID)
        writer.write(messageHash)
    }

    static func decode(from reader: inout ByteReader) throws -> QuorumSigningTopic {
        QuorumSigningTopic(quorumType: try reader.readUInt8("quorum_type"), quorumHash: try reader.readHash("quorum_hash"),
                           requestID: try reader.readHash("request_id"), messageHash: try reader.readHash("message_hash"))
    }
}

/// The operator signature of qsigcommit, qsigpkg and qsigshare: Ed25519 by the sender's
/// operator key over keyed_hash(K_quorum p2p, command || 0 || unsigned payload), so a
/// signature of one message type never stands for another.
public protocol QuorumSignedMessage: Sendable, Equatable {
    static var command: String { get }
    var topic: QuorumSigningTopic { get }
    var signature: [UInt8] { get set }
    func encodeUnsigned(to writer: inout ByteWriter)
}

extension QuorumSignedMessage {
    static var digestKey: [UInt8] { QuorumSigningDigest.key }

    /// What the sender's operator key signs.
    public var signedDigest: [UInt8] {
        var writer = ByteWriter()
        writer.write(bytes: Array(Self.command.utf8))
        writer.write(UInt8(0))
        encodeUnsigned(to: &writer)
        return BLAKE3.keyedHash(key: Self.digestKey, writer.bytes)
    }
}

enum QuorumSigningDigest {
    static let key = DomainKeys.key(purpose: "quorum p2p")
}

/// qsigcommit: topic | member u16 | attempt u8 | commitments 96 (FROST identifier 32 |
/// hiding 32 | binding 32) | signature 64. A fresh nonce pair per attempt.
public struct QuorumNonceCommitment: QuorumSignedMessage {
    public static let command = "qsigcommit"
    public var topic: QuorumSigningTopic
    public var member: UInt16
    public var attempt: UInt8
    public var commitments: [UInt8]
    public var signature: [UInt8]

    public init(topic: QuorumSigningTopic, member: UInt16, attempt: UInt8, commitments: [UInt8], signature: [UInt8] = []) {
        self.topic = topic
        self.member = member
        self.attempt = attempt
        self.commitments = commitments
        self.signature = signature
    }

    public func encodeUnsigned(to writer: inout ByteWriter) {
        topic.encode(to: &writer)
        writer.writeMember(member)
        writer.write(attempt)
        writer.write(bytes: commitments)
    }

    static func decode(from reader: inout ByteReader) throws -> QuorumNonceCommitment {
        QuorumNonceCommitment(topic: try QuorumSigningTopic.decode(from: &reader), member: try reader.readMember("member"),
                              attempt: try reader.readUInt8("attempt"), commitments: try reader.readBytes(96, "commitments"),
                              signature: try reader.readBytes(QuorumWireLimits.signatureLength, "signature"))
    }
}

/// qsigpkg: topic | coordinator u16 | attempt u8 | commitments_count u16 (2...400) |
/// commitments 96 each (sorted by identifier) | signature 64.
public struct QuorumSigningPackageMessage: QuorumSignedMessage {
    public static let command = "qsigpkg"
    public var topic: QuorumSigningTopic
    public var coordinator: UInt16
    public var attempt: UInt8
    public var commitments: [[UInt8]]
    public var signature: [UInt8]

    public init(topic: QuorumSigningTopic, coordinator: UInt16, attempt: UInt8, commitments: [[UInt8]], signature: [UInt8] = []) {
        self.topic = topic
        self.coordinator = coordinator
        self.attempt = attempt
        self.commitments = commitments
        self.signature = signature
    }

    public func encodeUnsigned(to writer: inout ByteWriter) {
        topic.encode(to: &writer)
        writer.writeMember(coordinator)
        writer.write(attempt)
        writer.writeMember(UInt16(truncatingIfNeeded: commitments.count))
        for commitment in commitments { writer.write(bytes: commitment) }
    }

    /// BLAKE3 of the unsigned encoding: what a share names as the package it answers.
    public var packageHash: Hash256 {
        var writer = ByteWriter()
        encodeUnsigned(to: &writer)
        return Hash256(bytes: BLAKE3.hash(writer.bytes))!
    }

    static func decode(from reader: inout ByteReader) throws -> QuorumSigningPackageMessage {
        let topic = try QuorumSigningTopic.decode(from: &reader)
        let coordinator = try reader.readMember("coordinator")
        let attempt = try reader.readUInt8("attempt")
        let start = reader.offset
        let count = Int(try reader.readUInt16LE("commitments_count"))
        guard count >= 2, count <= QuorumWireLimits.maxMembers else {
            throw reader.invalid("commitments_count", at: start, "\(count) signers, need 2...\(QuorumWireLimits.maxMembers)")
        }
        guard count * 96 + QuorumWireLimits.signatureLength <= reader.remaining else {
            throw DecodingError.truncated(field: "commitments_count", offset: start, needed: count * 96, available: reader.remaining)
        }
        var commitments = [[UInt8]]()
        commitments.reserveCapacity(count)
        for index in 0..<count { commitments.append(try reader.readBytes(96, "commitments[\(index)]")) }
        return QuorumSigningPackageMessage(topic: topic, coordinator: coordinator, attempt: attempt, commitments: commitments,
                                           signature: try reader.readBytes(QuorumWireLimits.signatureLength, "signature"))
    }
}

/// qsigshare: topic | member u16 | attempt u8 | package_hash 32 | share 32 (canonical
/// scalar, checked by the coordinator) | signature 64.
public struct QuorumSignatureShareMessage: QuorumSignedMessage {
    public static let command = "qsigshare"
    public var topic: QuorumSigningTopic
    public var member: UInt16
    public var attempt: UInt8
    public var packageHash: Hash256
    public var share: [UInt8]
    public var signature: [UInt8]

    public init(topic: QuorumSigningTopic, member: UInt16, attempt: UInt8, packageHash: Hash256, share: [UInt8], signature: [UInt8] = []) {
        self.topic = topic
        self.member = member
        self.attempt = attempt
        self.packageHash = packageHash
        self.share = share
        self.signature = signature
    }

    public func encodeUnsigned(to writer: inout ByteWriter) {
        topic.encode(to: &writer)
        writer.writeMember(member)
        writer.write(attempt)
        writer.write(packageHash)
        writer.write(bytes: share)
    }

    static func decode(from reader: inout ByteReader) throws -> QuorumSignatureShareMessage {
        QuorumSignatureShareMessage(topic: try QuorumSigningTopic.decode(from: &reader), member: try reader.readMember("member"),
                                    attempt: try reader.readUInt8("attempt"), packageHash: try reader.readHash("package_hash"),
                                    share: try reader.readBytes(32, "share"),
                                    signature: try reader.readBytes(QuorumWireLimits.signatureLength, "signature"))
    }
}

/// qrecsig: topic | signature 64, a plain Ed25519 signature under the quorum's group key
/// (checked by every receiver; it needs no operator signature). The signing service's own
/// `RecoveredSignature` (its encoding is this payload's: type | quorumHash | requestId |
/// messageHash | signature), seen through the topic the signing messages share.
public typealias QuorumRecoveredSignature = RecoveredSignature

extension RecoveredSignature {
    public init(topic: QuorumSigningTopic, signature: [UInt8]) {
        self.init(request: SigningRequest(quorumType: topic.quorumType, requestID: SigningRequestID(topic.requestID),
                                          messageHash: topic.messageHash),
                  quorumHash: topic.quorumHash, signature: signature)
    }

    public var topic: QuorumSigningTopic {
        QuorumSigningTopic(quorumType: quorumType, quorumHash: quorumHash, requestID: requestID.hash, messageHash: messageHash)
    }
}

extension ByteWriter {
    mutating func writeMember(_ value: UInt16) {
        write(UInt8(truncatingIfNeeded: value))
        write(UInt8(truncatingIfNeeded: value >> 8))
    }
}

extension ByteReader {
    mutating func readUInt16LE(_ field: String) throws -> UInt16 {
        let bytes = try readBytes(2, field)
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }

    /// A member number: u16 LE in 1...400.
    mutating func readMember(_ field: String) throws -> UInt16 {
        let start = offset
        let value = try readUInt16LE(field)
        guard value >= 1, Int(value) <= QuorumWireLimits.maxMembers else {
            throw invalid(field, at: start, "member \(value) is not in 1...\(QuorumWireLimits.maxMembers)")
        }
        return value
    }
}
