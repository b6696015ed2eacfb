import BLAKE3
import Ed25519
import Primitives

/// What every DKG message shares: a kind byte, the session id, the sender's identifier, a
/// body, and the sender's operator-key Ed25519 signature over a keyed hash of everything
/// before it. The signature makes messages relayable by anyone and equivocation provable
/// (two different signed messages of one kind from one sender in one session).
///
/// Wire layout: kind u8 | session_id 32 | sender u16 LE | body | signature 64.
public protocol DKGMessage: Sendable, Equatable {
    static var kind: UInt8 { get }
    static var name: String { get }
    var sessionId: Hash256 { get }
    var sender: UInt16 { get }
    var signature: [UInt8] { get }
    func writeBody(to writer: inout ByteWriter)
    /// Reads the body (after the header) and the trailing signature.
    static func readBody(from reader: inout ByteReader, sessionId: Hash256, sender: UInt16) throws -> Self
    func withSignature(_ signature: [UInt8]) -> Self
}

public enum DKGMessageCodec {
    static let signingKey = DomainKeys.key(purpose: "dkg message")
    public static let headerLength = 1 + 32 + 2
    public static let signatureLength = 64
    /// Per-message item count limit (u16 counts; DKGParameters allows at most 65,535 members).
    public static let maximumItems = Int(UInt16.max)
}

extension DKGMessage {
    /// Header and body: the bytes the signature covers (through `signingHash`).
    public var unsignedEncoding: [UInt8] {
        var writer = ByteWriter(capacity: DKGMessageCodec.headerLength + 128)
        writer.write(Self.kind)
        writer.write(sessionId)
        writer.write(sender)
        writeBody(to: &writer)
        return writer.bytes
    }

    public var encoded: [UInt8] { unsignedEncoding + signature }

    /// keyed_hash(K_dkg message, kind || session id || sender || body).
    public var signingHash: Hash256 {
        Hash256(bytes: BLAKE3.keyedHash(key: DKGMessageCodec.signingKey, unsignedEncoding))!
    }

    public func signed(seed: [UInt8]) -> Self {
        withSignature(Ed25519.sign(message: signingHash.bytes, seed: seed))
    }

    public func hasValidSignature(operatorKey: [UInt8]) -> Bool {
        Ed25519.verify(signature: signature, message: signingHash.bytes, publicKey: operatorKey)
    }

    /// Strict decoding: exact kind, every count within its limit and the remaining input,
    /// identifiers non-zero and strictly increasing, points and scalars canonical, no
    /// trailing bytes. Errors name the field (`DKGContribution.commitments[3]`, ...).
    public init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes, path: Self.name)
        let kind = try reader.readUInt8("kind")
        guard kind == Self.kind else {
            throw reader.invalid("kind", at: 0, "\(kind) is not \(Self.name)'s kind \(Self.kind)")
        }
        let sessionId = try reader.readHash("session_id")
        let sender = try reader.readIdentifier("sender")
        self = try Self.readBody(from: &reader, sessionId: sessionId, sender: sender)
        try reader.expectEnd("signature")
    }
}

extension ByteReader {
    /// A member identifier: u16 LE, never zero.
    mutating func readIdentifier(_ field: String) throws -> UInt16 {
        let start = offset
        let value = try readUInt16(field)
        guard value != 0 else { throw invalid(field, at: start, "identifier 0 (identifiers start at 1)") }
        return value
    }

    /// A u16 count of items of `itemSize` bytes, at least `minimum`, refused before any
    /// allocation when the input left cannot hold that many.
    mutating func readCount(_ field: String, minimum: Int, itemSize: Int) throws -> Int {
        let start = offset
        let count = Int(try readUInt16(field))
        guard count >= minimum else { throw invalid(field, at: start, "\(count) items, at least \(minimum) required") }
        guard count * itemSize <= remaining else {
            throw DecodingError.truncated(field: path.isEmpty ? field : "\(path).\(field)", offset: start,
                                          needed: count * itemSize, available: remaining)
        }
        return count
    }

    /// Identifiers of a list must strictly increase (sorted, no duplicates: one canonical encoding).
    mutating func readIncreasingIdentifier(_ field: String, after previous: UInt16) throws -> UInt16 {
        let start = offset
        let value = try readIdentifier(field)
        guard value > previous else {
            throw invalid(field, at: start, "identifier \(value) does not follow \(previous) (lists are strictly increasing)")
        }
        return value
    }

    /// A u16 count (`field_count`) of `entrySize`-byte entries, each led by a member identifier
    /// (`field[i].key`): strictly increasing, never the sender. `readEntry` reads the rest.
    mutating func readMemberList<Entry>(_ field: String, key: String, sender: UInt16, minimum: Int, entrySize: Int,
                                        _ readEntry: (inout ByteReader, String, UInt16) throws -> Entry) throws -> [Entry] {
        let count = try readCount("\(field)_count", minimum: minimum, itemSize: entrySize)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var previous: UInt16 = 0
        for index in 0..<count {
            let name = "\(field)[\(index)]"
            let member = try readIncreasingIdentifier("\(name).\(key)", after: previous)
            guard member != sender else { throw invalid("\(name).\(key)", "names its own sender \(sender)") }
            previous = member
            entries.append(try readEntry(&self, name, member))
        }
        return entries
    }

    mutating func readPoint(_ field: String) throws -> Ed25519.Point {
        let start = offset
        let bytes = try readBytes(32, field)
        guard let point = Ed25519.Point(encoded: bytes) else {
            throw invalid(field, at: start, "not a canonical encoding of a curve point")
        }
        guard point.isInPrimeOrderSubgroup else {
            throw invalid(field, at: start, "point outside the prime-order subgroup")
        }
        return point
    }

    mutating func readScalar(_ field: String) throws -> Ed25519.Scalar {
        let start = offset
        let bytes = try readBytes(32, field)
        guard let scalar = Ed25519.Scalar(canonical: bytes) else {
            throw invalid(field, at: start, "scalar not below the group order l")
        }
        return scalar
    }

    mutating func readSignature() throws -> [UInt8] {
        try readBytes(DKGMessageCodec.signatureLength, "signature")
    }
}
