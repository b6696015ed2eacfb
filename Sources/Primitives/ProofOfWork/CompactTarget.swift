/// Bitcoin's compact `nBits` encoding of a 256-bit target: one exponent byte (the length of
/// the number in bytes) and a 23-bit mantissa with a sign bit at 0x00800000.
public struct CompactTarget: Hashable, Sendable, CustomStringConvertible {
    public let bits: UInt32

    public init(bits: UInt32) { self.bits = bits }

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case negative(UInt32)
        case overflow(UInt32)
        case zero(UInt32)

        public var description: String {
            switch self {
            case .negative(let bits): return "compact target \(hex32(bits)) has the sign bit set"
            case .overflow(let bits): return "compact target \(hex32(bits)) overflows 256 bits"
            case .zero(let bits): return "compact target \(hex32(bits)) is zero"
            }
        }
    }

    /// The target, or why this encoding is not a usable PoW target (negative, over 256 bits, zero).
    public func target() throws(Problem) -> UInt256 {
        let exponent = Int(bits >> 24)
        let mantissa = bits & 0x007F_FFFF
        if mantissa != 0 && bits & 0x0080_0000 != 0 { throw .negative(bits) }
        if mantissa == 0 { throw .zero(bits) }
        // Same overflow rule as Bitcoin Core's SetCompact: the number must fit in 256 bits.
        if exponent > 34 || (mantissa > 0xFF && exponent > 33) || (mantissa > 0xFFFF && exponent > 32) {
            throw .overflow(bits)
        }
        if exponent <= 3 {
            let value = UInt256(UInt64(mantissa >> (8 * UInt32(3 - exponent))))
            if value.isZero { throw .zero(bits) }
            return value
        }
        return UInt256(UInt64(mantissa)) << (8 * (exponent - 3))
    }

    /// The canonical compact encoding of `target` (Bitcoin Core's GetCompact): rounds down
    /// to 23 significant bits, never sets the sign bit.
    public init(target: UInt256) {
        var size = (target.bitWidth + 7) / 8
        var mantissa: UInt32
        if size <= 3 {
            mantissa = UInt32(truncatingIfNeeded: target.limbs.0 << UInt64(8 * (3 - size)))
        } else {
            mantissa = UInt32(truncatingIfNeeded: (target >> (8 * (size - 3))).limbs.0)
        }
        if mantissa & 0x0080_0000 != 0 {
            mantissa >>= 8
            size += 1
        }
        bits = UInt32(size) << 24 | mantissa
    }

    public var description: String { hex32(bits) }
}

func hex32(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}

public enum ProofOfWork {
    /// Whether `hash`, read as a big-endian 256-bit number, is at most `target`.
    public static func meets(_ hash: Hash256, target: UInt256) -> Bool {
        !(target < UInt256(hash))
    }

    /// Expected number of hashes to find a block at `target`: 2^256 / (target + 1),
    /// computed as ~target / (target + 1) + 1 so it fits in 256 bits.
    public static func work(target: UInt256) -> UInt256 {
        let (denominator, overflow) = target.addingReportingOverflow(UInt256(1))
        if overflow { return UInt256(1) }
        let complement = UInt256(limbs: (~target.limbs.0, ~target.limbs.1, ~target.limbs.2, ~target.limbs.3))
        return complement.quotientAndRemainder(dividingBy: denominator).quotient
            .addingReportingOverflow(UInt256(1)).partialValue
    }
}
