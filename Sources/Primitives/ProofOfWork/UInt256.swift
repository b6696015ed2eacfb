/// Unsigned 256-bit integer for PoW targets and chain work. Limbs are little-endian
/// (`limbs.0` least significant). Arithmetic that could overflow reports it instead of trapping.
public struct UInt256: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var limbs: (UInt64, UInt64, UInt64, UInt64)

    public static let zero = UInt256(0)
    public static let max = UInt256(limbs: (.max, .max, .max, .max))

    public init(limbs: (UInt64, UInt64, UInt64, UInt64)) { self.limbs = limbs }
    public init(_ value: UInt64) { limbs = (value, 0, 0, 0) }

    /// From 32 bytes, most significant first (how hashes are read for PoW).
    public init(bigEndian bytes: some Collection<UInt8>) {
        precondition(bytes.count == 32, "UInt256 needs 32 bytes")
        var words = [UInt64](repeating: 0, count: 4)
        for (index, byte) in bytes.enumerated() {
            let bitFromTop = index * 8
            let limb = 3 - bitFromTop / 64
            words[limb] |= UInt64(byte) << (56 - UInt64(bitFromTop % 64))
        }
        limbs = (words[0], words[1], words[2], words[3])
    }

    public init(_ hash: Hash256) { self.init(bigEndian: hash.bytes) }

    /// From up to 64 hex digits, most significant first.
    public init?(hex: some StringProtocol) {
        guard !hex.isEmpty, hex.count <= 64 else { return nil }
        let padded = String(repeating: "0", count: 64 - hex.count) + hex
        guard let bytes = HexCoding.decode(padded) else { return nil }
        self.init(bigEndian: bytes)
    }

    var words: [UInt64] {
        get { [limbs.0, limbs.1, limbs.2, limbs.3] }
        set { limbs = (newValue[0], newValue[1], newValue[2], newValue[3]) }
    }

    public var bigEndianBytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32)
        for limb in words.reversed() {
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) }
        }
        return out
    }

    public var hex: String { HexCoding.encode(bigEndianBytes) }
    public var description: String { hex }
    public var isZero: Bool { self == .zero }

    /// The value as the nearest-below double, limb by limb from the top: difficulties, work
    /// and hashrates for display, and share targets (the same double on every machine).
    public var approximateDouble: Double {
        [limbs.3, limbs.2, limbs.1, limbs.0].reduce(0.0) { $0 * 18_446_744_073_709_551_616.0 + Double($1) }
    }

    /// Number of significant bits (0 for zero).
    public var bitWidth: Int {
        let w = words
        for i in stride(from: 3, through: 0, by: -1) where w[i] != 0 {
            return i * 64 + 64 - w[i].leadingZeroBitCount
        }
        return 0
    }

    public static func == (lhs: UInt256, rhs: UInt256) -> Bool {
        lhs.limbs.0 == rhs.limbs.0 && lhs.limbs.1 == rhs.limbs.1 && lhs.limbs.2 == rhs.limbs.2 && lhs.limbs.3 == rhs.limbs.3
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(limbs.0)
        hasher.combine(limbs.1)
        hasher.combine(limbs.2)
        hasher.combine(limbs.3)
    }

    public static func < (lhs: UInt256, rhs: UInt256) -> Bool {
        if lhs.limbs.3 != rhs.limbs.3 { return lhs.limbs.3 < rhs.limbs.3 }
        if lhs.limbs.2 != rhs.limbs.2 { return lhs.limbs.2 < rhs.limbs.2 }
        if lhs.limbs.1 != rhs.limbs.1 { return lhs.limbs.1 < rhs.limbs.1 }
        return lhs.limbs.0 < rhs.limbs.0
    }

    /// Bit `index` (0: least significant), 0 or 1.
    func bit(_ index: Int) -> UInt64 {
        let limb: UInt64
        switch index >> 6 {
        case 0: limb = limbs.0
        case 1: limb = limbs.1
        case 2: limb = limbs.2
        default: limb = limbs.3
        }
        return (limb >> UInt64(index & 63)) & 1
    }

    /// self = self * 2 + low (the top bit falls off).
    mutating func shiftLeftOne(inserting low: UInt64) {
        limbs = (limbs.0 << 1 | low, limbs.1 << 1 | limbs.0 >> 63, limbs.2 << 1 | limbs.1 >> 63, limbs.3 << 1 | limbs.2 >> 63)
    }

    /// A negative shift shifts the other way; any magnitude is allowed (Int.min included).
    public static func << (value: UInt256, shift: Int) -> UInt256 {
        guard shift > 0 else { return shift == 0 ? value : (shift.magnitude >= 256 ? .zero : value >> Int(shift.magnitude)) }
        guard shift < 256 else { return .zero }
        let w = value.words
        var out = [UInt64](repeating: 0, count: 4)
        let limbShift = shift / 64, bitShift = shift % 64
        for i in stride(from: 3, through: limbShift, by: -1) {
            out[i] = w[i - limbShift] << UInt64(bitShift)
            if bitShift > 0 && i - limbShift - 1 >= 0 { out[i] |= w[i - limbShift - 1] >> UInt64(64 - bitShift) }
        }
        return UInt256(limbs: (out[0], out[1], out[2], out[3]))
    }

    public static func >> (value: UInt256, shift: Int) -> UInt256 {
        guard shift > 0 else { return shift == 0 ? value : (shift.magnitude >= 256 ? .zero : value << Int(shift.magnitude)) }
        guard shift < 256 else { return .zero }
        let w = value.words
        var out = [UInt64](repeating: 0, count: 4)
        let limbShift = shift / 64, bitShift = shift % 64
        for i in 0..<(4 - limbShift) {
            out[i] = w[i + limbShift] >> UInt64(bitShift)
            if bitShift > 0 && i + limbShift + 1 < 4 { out[i] |= w[i + limbShift + 1] << UInt64(64 - bitShift) }
        }
        return UInt256(limbs: (out[0], out[1], out[2], out[3]))
    }

    public func addingReportingOverflow(_ other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        let a = words, b = other.words
        var out = [UInt64](repeating: 0, count: 4)
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (s1, o1) = a[i].addingReportingOverflow(b[i])
            let (s2, o2) = s1.addingReportingOverflow(carry)
            out[i] = s2
            carry = (o1 ? 1 : 0) + (o2 ? 1 : 0)
        }
        return (UInt256(limbs: (out[0], out[1], out[2], out[3])), carry != 0)
    }

    public func subtractingReportingOverflow(_ other: UInt256) -> (partialValue: UInt256, overflow: Bool) {
        var borrow: UInt64 = 0
        func limb(_ a: UInt64, _ b: UInt64) -> UInt64 {
            let (d1, o1) = a.subtractingReportingOverflow(b)
            let (d2, o2) = d1.subtractingReportingOverflow(borrow)
            borrow = (o1 || o2) ? 1 : 0
            return d2
        }
        let l0 = limb(limbs.0, other.limbs.0), l1 = limb(limbs.1, other.limbs.1)
        let l2 = limb(limbs.2, other.limbs.2), l3 = limb(limbs.3, other.limbs.3)
        return (UInt256(limbs: (l0, l1, l2, l3)), borrow != 0)
    }

    /// Multiplication by a 64-bit factor.
    public func multipliedReportingOverflow(by factor: UInt64) -> (partialValue: UInt256, overflow: Bool) {
        let a = words
        var out = [UInt64](repeating: 0, count: 4)
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (high, low) = a[i].multipliedFullWidth(by: factor)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            out[i] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        return (UInt256(limbs: (out[0], out[1], out[2], out[3])), carry != 0)
    }

    /// Quotient and remainder by a non-zero divisor (binary long division).
    public func quotientAndRemainder(dividingBy divisor: UInt256) -> (quotient: UInt256, remainder: UInt256) {
        precondition(!divisor.isZero, "division by zero")
        if self < divisor { return (.zero, self) }
        // Shift-subtract from the dividend's top bit; the quotient's bits enter from the right.
        var quotient = UInt256.zero
        var remainder = UInt256.zero
        for index in stride(from: bitWidth - 1, through: 0, by: -1) {
            // A bit shifted out of the top means the remainder is past 2^256, so above the
            // divisor; the wrapped difference is then still exact (it is below the divisor).
            let carry = remainder.limbs.3 >> 63
            remainder.shiftLeftOne(inserting: bit(index))
            let (difference, borrow) = remainder.subtractingReportingOverflow(divisor)
            let subtract = carry == 1 || !borrow
            if subtract { remainder = difference }
            quotient.shiftLeftOne(inserting: subtract ? 1 : 0)
        }
        return (quotient, remainder)
    }
}
