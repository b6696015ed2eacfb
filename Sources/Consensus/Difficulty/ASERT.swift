import Primitives

/// ASERT difficulty: the target grows (or shrinks) exponentially with how far the chain is
/// ahead of (or behind) its ideal schedule since an anchor block, doubling every half-life.
/// This is the integer algorithm of aserti3-2d (Bitcoin Cash): a fixed-point exponent with
/// 16 fractional bits and a cubic approximation of 2^x, so every node computes the same bits.
///
/// Pure and total: attacker-controlled times and heights never trap; the result is always a
/// target between 1 and the PoW limit.
public struct ASERT: Sendable, Equatable {
    public var targetSpacing: Int64
    public var halfLife: Int64
    public var powLimit: UInt256
    /// Blocks of ideal schedule counted beyond the height difference: 1 in aserti3-2d
    /// (the anchor's *parent* time is the reference), 0 in Decred's DCP-0011 variant.
    public var heightOffset: Int64

    public init(targetSpacing: Int64, halfLife: Int64, powLimit: UInt256, heightOffset: Int64 = 1) {
        precondition(targetSpacing > 0 && halfLife > 0)
        self.targetSpacing = targetSpacing
        self.halfLife = halfLife
        self.powLimit = powLimit
        self.heightOffset = heightOffset
    }

    /// Target for a block whose height is `heightDelta` above the anchor and whose parent's
    /// time is `timeDelta` seconds after the anchor's reference time.
    public func nextTarget(anchorTarget: UInt256, timeDelta: Int64, heightDelta: Int64) -> UInt256 {
        // 128-bit intermediates: no input can overflow them.
        let ideal = Int128(targetSpacing) * (Int128(heightDelta) + Int128(heightOffset))
        let exponent = ((Int128(timeDelta) - ideal) * 65536) / Int128(halfLife) // truncates toward zero
        let shifts = exponent >> 16 // floor
        let fraction = UInt128(UInt16(truncatingIfNeeded: exponent))
        // 2^(fraction/65536) * 65536, approximated by a cubic (aserti3-2d's constants).
        let polynomial = 195_766_423_245_049 * fraction + 971_821_376 * fraction * fraction
            + 5127 * fraction * fraction * fraction + (UInt128(1) << 47)
        let factor = UInt64(65536 + (polynomial >> 48))

        // anchorTarget * factor needs up to 273 bits: keep the carry limb.
        let (low, high) = anchorTarget.multipliedFullWidth(by: factor)
        let totalShift = shifts - 16
        var result: UInt256
        if totalShift >= 0 {
            // Any bit shifted past 256 means the target exceeds every limit.
            if high != 0 || totalShift >= 256 || (totalShift > 0 && low.bitWidth + Int(totalShift) > 256) {
                return powLimit
            }
            result = low << Int(totalShift)
        } else {
            let right = -totalShift
            if right >= 320 { return UInt256(1) }
            // The carry limb lands at bit 256 - right; past bit 255 the target is above any limit.
            if high != 0 && (64 - high.leadingZeroBitCount) + 256 - Int(right) > 256 { return powLimit }
            result = UInt256.shiftRightWide(low: low, high: high, by: Int(right))
        }
        if result.isZero { return UInt256(1) }
        return powLimit < result ? powLimit : result
    }
}

extension UInt256 {
    /// `self * factor` as a 320-bit value: the low 256 bits and the carry limb.
    func multipliedFullWidth(by factor: UInt64) -> (low: UInt256, high: UInt64) {
        let words = [limbs.0, limbs.1, limbs.2, limbs.3]
        var out = [UInt64](repeating: 0, count: 4)
        var carry: UInt64 = 0
        for i in 0..<4 {
            let (high, low) = words[i].multipliedFullWidth(by: factor)
            let (sum, overflow) = low.addingReportingOverflow(carry)
            out[i] = sum
            carry = high &+ (overflow ? 1 : 0)
        }
        return (UInt256(limbs: (out[0], out[1], out[2], out[3])), carry)
    }

    /// (high:low) >> shift for a 320-bit value whose result fits 256 bits (shift > 0).
    static func shiftRightWide(low: UInt256, high: UInt64, by shift: Int) -> UInt256 {
        var result = low >> shift
        if high != 0 && shift < 320 {
            // The carry limb sits at bit 256; it lands at bit 256 - shift.
            let position = 256 - shift
            if position >= 0 {
                result = result.addingReportingOverflow(UInt256(high) << position).partialValue
            } else {
                result = result.addingReportingOverflow(UInt256(high >> UInt64(-position))).partialValue
            }
        }
        return result
    }
}
