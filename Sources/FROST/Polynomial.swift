import Ed25519

/// Polynomials over the scalar field and Lagrange interpolation (RFC 9591 section 4.2).
public enum Polynomial {
    public typealias Scalar = Ed25519.Scalar

    /// f(x) = coefficients[0] + coefficients[1] x + ... (Horner; constant time in the
    /// coefficients, which are secret for a dealer or DKG participant).
    public static func evaluate(_ coefficients: [Scalar], at x: Scalar) -> Scalar {
        var value = Scalar.zero
        for coefficient in coefficients.reversed() { value = value * x + coefficient }
        return value
    }

    /// The Lagrange basis polynomial of `xi` over `set`, evaluated at `x` (0 for signing,
    /// the lost participant's identifier for share repair): prod_{j != i} (x - x_j) / (x_i - x_j).
    /// Throws when `xi` is not in `set` or `set` repeats an identifier.
    public static func lagrangeCoefficient(for xi: Identifier, in set: [Identifier], at x: Scalar = .zero) throws -> Scalar {
        var seen = Set<Identifier>()
        for id in set where !seen.insert(id).inserted { throw FROSTError.duplicateIdentifier(id) }
        guard seen.contains(xi) else { throw FROSTError.identifierNotInSet(xi) }
        var numerator = Scalar.one, denominator = Scalar.one
        for xj in set where xj != xi {
            numerator = numerator * (x - xj.scalar)
            denominator = denominator * (xi.scalar - xj.scalar)
        }
        // Distinct identifiers make every factor of the denominator non-zero.
        guard let inverse = denominator.inverse else { throw FROSTError.duplicateIdentifier(xi) }
        return numerator * inverse
    }

    /// RFC 9591 derive_interpolating_value: the coefficient at 0.
    public static func interpolatingValue(for xi: Identifier, in set: [Identifier]) throws -> Scalar {
        try lagrangeCoefficient(for: xi, in: set, at: .zero)
    }
}
