/// A 32-byte hash. Bytes are kept in the order BLAKE3 outputs them; `hex` prints them in
/// that order (no byte reversal anywhere). As a PoW value it is read big-endian: byte 0 is
/// the most significant.
public struct Hash256: Hashable, Sendable, Comparable, CustomStringConvertible {
    // Raw bytes in memory order (w0 holds bytes 0..7, and so on).
    var w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64

    public static let zero = Hash256(w0: 0, w1: 0, w2: 0, w3: 0)

    init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0; self.w1 = w1; self.w2 = w2; self.w3 = w3
    }

    /// From exactly 32 bytes.
    public init(_ buffer: UnsafeRawBufferPointer) {
        precondition(buffer.count == 32, "Hash256 needs 32 bytes")
        w0 = buffer.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        w1 = buffer.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        w2 = buffer.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        w3 = buffer.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
    }

    /// From a 32-element byte array; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self = bytes.withUnsafeBytes { Hash256($0) }
    }

    /// From 64 hex digits (either case); nil otherwise.
    public init?(hex: some StringProtocol) {
        guard let bytes = HexCoding.decode(hex), bytes.count == 32 else { return nil }
        self.init(bytes: bytes)
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try Swift.withUnsafeBytes(of: &copy) { try body($0) }
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }
    public var hex: String { HexCoding.encode(bytes) }
    public var description: String { hex }
    public var isZero: Bool { (w0 | w1 | w2 | w3) == 0 }

    public static func == (lhs: Hash256, rhs: Hash256) -> Bool {
        ((lhs.w0 ^ rhs.w0) | (lhs.w1 ^ rhs.w1) | (lhs.w2 ^ rhs.w2) | (lhs.w3 ^ rhs.w3)) == 0
    }

    /// Hashes are uniformly random already: two words feed the hasher (equality still
    /// compares all four).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(w0 ^ w2)
    }

    /// Big-endian order: the order in which hashes compare against PoW targets.
    public static func < (lhs: Hash256, rhs: Hash256) -> Bool {
        if lhs.w0 != rhs.w0 { return UInt64(bigEndian: lhs.w0) < UInt64(bigEndian: rhs.w0) }
        if lhs.w1 != rhs.w1 { return UInt64(bigEndian: lhs.w1) < UInt64(bigEndian: rhs.w1) }
        if lhs.w2 != rhs.w2 { return UInt64(bigEndian: lhs.w2) < UInt64(bigEndian: rhs.w2) }
        if lhs.w3 != rhs.w3 { return UInt64(bigEndian: lhs.w3) < UInt64(bigEndian: rhs.w3) }
        return false
    }
}

/// Lower-case hex, strict on input (even length, hex digits only).
public enum HexCoding {
    private static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
