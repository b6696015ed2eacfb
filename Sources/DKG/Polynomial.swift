import Ed25519
import FROST

/// A secret polynomial f(x) = a_0 + a_1 x + ... + a_{t-1} x^{t-1} over the scalars mod l.
/// Member i's contribution is f_i: a_0 is its part of the group secret, f_i(j) is j's share.
struct SecretPolynomial {
    private(set) var coefficients: [Ed25519.Scalar]

    init(coefficients: [Ed25519.Scalar]) { self.coefficients = coefficients }

    /// `degree + 1` coefficients drawn from `generator` (64 bytes each, reduced mod l).
    init(threshold: Int, using generator: inout some RandomNumberGenerator) {
        coefficients = (0..<threshold).map { _ in randomScalar(using: &generator) }
    }

    /// f(identifier), by FROST's constant-time Horner evaluation.
    func evaluate(at identifier: UInt16) -> Ed25519.Scalar {
        Polynomial.evaluate(coefficients, at: Ed25519.Scalar(UInt64(identifier)))
    }

    /// The Feldman commitments a_k B, one per coefficient.
    var commitments: [Ed25519.Point] { coefficients.map { Ed25519.Point.base(times: $0) } }

    /// Drops the coefficients (the scalars are immutable values; this releases our copies).
    mutating func erase() { coefficients = [] }
}

/// A uniformly distributed scalar: 64 bytes from `generator`, reduced mod l, the bytes wiped.
func randomScalar(using generator: inout some RandomNumberGenerator) -> Ed25519.Scalar {
    var wide = [UInt8](repeating: 0, count: 64)
    for index in stride(from: 0, to: 64, by: 8) {
        let word = generator.next()
        for byte in 0..<8 { wide[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
    }
    defer { Ed25519.wipe(&wide) }
    return Ed25519.Scalar(reducing: wide)
}

/// Feldman checks on commitment vectors that were decoded (and subgroup-checked) once, at
/// message decoding; FROST's `VSSCommitment` re-checks the subgroup on every construction.
enum FeldmanCommitments {
    /// 1, x, x^2, ..., x^{count-1} mod l.
    static func powers(of identifier: UInt16, count: Int) -> [Ed25519.Scalar] {
        let x = Ed25519.Scalar(UInt64(identifier))
        var powers: [Ed25519.Scalar] = []
        powers.reserveCapacity(count)
        var power = Ed25519.Scalar.one
        for _ in 0..<count { powers.append(power); power = power * x }
        return powers
    }

    /// sum_k x^k C_k: the public image f(x) B of a committed polynomial (vartime: public data).
    static func evaluate(_ commitments: [Ed25519.Point], at identifier: UInt16) -> Ed25519.Point {
        Ed25519.Point.multiScalar(powers(of: identifier, count: commitments.count), commitments)
    }

    /// The Feldman check: share B == sum_k x^k C_k.
    static func verify(share: Ed25519.Scalar, of identifier: UInt16, against commitments: [Ed25519.Point]) -> Bool {
        Ed25519.Point.base(times: share) == evaluate(commitments, at: identifier)
    }

    /// All shares of one recipient at once: with random 128-bit weights r_i,
    /// (sum r_i s_i) B == sum_i sum_k r_i x^k C_ik holds for all valid shares, and for any
    /// invalid one only with probability about 2^-128. The secret side is a constant-time
    /// base multiplication; the public side one multi-scalar multiplication.
    static func verifyBatch(_ items: [(sender: UInt16, share: Ed25519.Scalar, commitments: [Ed25519.Point])],
                            of identifier: UInt16) -> Bool {
        guard items.count > 1 else {
            return items.allSatisfy { verify(share: $0.share, of: identifier, against: $0.commitments) }
        }
        var random = SystemRandomNumberGenerator()
        let longest = items.map(\.commitments.count).max() ?? 0
        let powers = powers(of: identifier, count: longest)
        var weightedShares = Ed25519.Scalar.zero
        var scalars: [Ed25519.Scalar] = [], points: [Ed25519.Point] = []
        scalars.reserveCapacity(items.count * longest); points.reserveCapacity(items.count * longest)
        for item in items {
            var weightBytes = [UInt8](repeating: 0, count: 16)
            for index in 0..<16 { weightBytes[index] = UInt8.random(in: 0...255, using: &random) }
            let weight = Ed25519.Scalar(reducing: weightBytes)
            weightedShares = weightedShares + weight * item.share
            for (power, commitment) in zip(powers, item.commitments) { scalars.append(weight * power); points.append(commitment) }
        }
        return Ed25519.Point.base(times: weightedShares) == Ed25519.Point.multiScalar(scalars, points)
    }
}
