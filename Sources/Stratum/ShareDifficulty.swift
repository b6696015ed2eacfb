// Share difficulty: how many times harder than the network's easiest block (its PoW limit) a
// share must be. The same unit as getmininginfo's difficulty, so a share of difficulty D is
// worth D blocks at the PoW limit, and a block on a chain of difficulty D is a share of D.

import Primitives

public enum ShareDifficulty {
    /// The target a share of `difficulty` must meet: powLimit / difficulty, computed through
    /// IEEE doubles so the server and every client derive the very same target from the same
    /// number. Clamped to [1, 2^256 - 1]; a difficulty that is not a positive finite number
    /// gives the PoW limit.
    public static func target(difficulty: Double, powLimit: UInt256) -> UInt256 {
        guard difficulty.isFinite, difficulty > 0 else { return powLimit }
        let quotient = powLimit.approximateDouble / difficulty
        return exactInteger(quotient)
    }

    /// The difficulty of `target` (powLimit / target, as a double).
    public static func difficulty(target: UInt256, powLimit: UInt256) -> Double {
        powLimit.approximateDouble / max(target.approximateDouble, 1)
    }

    /// `value` (a non-negative double) as the integer below it, clamped to [1, 2^256 - 1].
    static func exactInteger(_ value: Double) -> UInt256 {
        guard value.isFinite else { return value > 0 ? .max : UInt256(1) }
        if value < 1 { return UInt256(1) }
        if value >= 0x1p256 { return .max }
        // value = significand * 2^(exponent - 52) with a 53-bit integer significand.
        let significand = UInt64(value.significandBitPattern) | (1 << 52)
        let shift = Int(value.exponent) - 52
        return shift >= 0 ? UInt256(significand) << shift : UInt256(significand >> UInt64(-shift))
    }

}
