import Ed25519

/// A participant identifier: a non-zero scalar (RFC 9591 section 3.2), ordered by its integer
/// value. Our quorums number members 1...n, so `init(_: UInt16)` is the usual way to make one.
public struct Identifier: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let scalar: Ed25519.Scalar

    public init(scalar: Ed25519.Scalar) throws {
        guard !scalar.isZero else { throw FROSTError.zeroIdentifier }
        self.scalar = scalar
    }

    public init(_ value: UInt16) throws { try self.init(scalar: Ed25519.Scalar(UInt64(value))) }

    /// The canonical 32-byte scalar encoding; decoding rejects zero and values >= l.
    public var bytes: [UInt8] { scalar.bytes }

    public init(bytes: [UInt8]) throws {
        guard let scalar = Ed25519.Scalar(canonical: bytes) else {
            throw FROSTError.malformedEncoding(what: "identifier", reason: "not a canonical 32-byte scalar")
        }
        try self.init(scalar: scalar)
    }

    public static func < (a: Identifier, b: Identifier) -> Bool {
        // Little-endian bytes: compare from the most significant end.
        for i in stride(from: 31, through: 0, by: -1) where a.bytes[i] != b.bytes[i] {
            return a.bytes[i] < b.bytes[i]
        }
        return false
    }

    /// Decimal for identifiers below 2^64 (all of ours), else the scalar in hex, big-endian.
    public var description: String {
        if bytes[8...].allSatisfy({ $0 == 0 }) {
            return String(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
        return "0x" + bytes.reversed().map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
