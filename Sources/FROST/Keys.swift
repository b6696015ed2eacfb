import Ed25519

/// Feldman VSS commitment to a sharing polynomial: [a_k]B for each coefficient a_k, constant
/// term first (so `coefficients[0]` is the group verifying key).
public struct VSSCommitment: Equatable, Sendable {
    public let coefficients: [Ed25519.Point]

    /// Every coefficient must be a prime-order point (a small-order component would let a
    /// dealer make shares that verify for some participants and not others).
    public init(coefficients: [Ed25519.Point]) throws {
        guard !coefficients.isEmpty, coefficients.allSatisfy(\.isInPrimeOrderSubgroup) else {
            throw FROSTError.invalidVSSCommitment
        }
        self.coefficients = coefficients
    }

    /// Commitment to `polynomial` (RFC 9591 vss_commit); constant time in the coefficients.
    public init(polynomial: [Ed25519.Scalar]) {
        self.coefficients = polynomial.map { Ed25519.Point.base(times: $0) }
    }

    public var verifyingKey: Ed25519.Point { coefficients[0] }

    /// The public image [f(x)]B of the committed polynomial at `id` (vartime: public data).
    public func verifyingShare(for id: Identifier) -> Ed25519.Point {
        var powers = [Ed25519.Scalar.one]
        for _ in 1..<max(1, coefficients.count) { powers.append((powers.last ?? .one) * id.scalar) }
        return Ed25519.Point.multiScalar(powers, coefficients)
    }
}

/// One participant's share from a dealer (or DKG) before it is checked.
public struct SecretShare: Sendable {
    public let identifier: Identifier
    public let signingShare: Ed25519.Scalar
    public let commitment: VSSCommitment

    public init(identifier: Identifier, signingShare: Ed25519.Scalar, commitment: VSSCommitment) {
        self.identifier = identifier
        self.signingShare = signingShare
        self.commitment = commitment
    }

    /// RFC 9591 vss_verify: [share]B equals the commitment evaluated at the identifier.
    public func verify() throws {
        guard Ed25519.Point.base(times: signingShare) == commitment.verifyingShare(for: identifier) else {
            throw FROSTError.invalidSecretShare(identifier)
        }
    }
}

/// What one signer holds: its share, its public verifying share, and the group's key.
public struct KeyPackage: Sendable {
    public let identifier: Identifier
    public let signingShare: Ed25519.Scalar
    public let verifyingShare: Ed25519.Point
    public let verifyingKey: Ed25519.Point
    public let minSigners: Int

    public init(identifier: Identifier, signingShare: Ed25519.Scalar, verifyingShare: Ed25519.Point,
                verifyingKey: Ed25519.Point, minSigners: Int) {
        self.identifier = identifier
        self.signingShare = signingShare
        self.verifyingShare = verifyingShare
        self.verifyingKey = verifyingKey
        self.minSigners = minSigners
    }

    /// Checks the share against its commitment first.
    public init(secretShare: SecretShare) throws {
        try secretShare.verify()
        self.init(identifier: secretShare.identifier, signingShare: secretShare.signingShare,
                  verifyingShare: Ed25519.Point.base(times: secretShare.signingShare),
                  verifyingKey: secretShare.commitment.verifyingKey, minSigners: secretShare.commitment.coefficients.count)
    }
}

/// The public side of a key: every participant's verifying share and the group key.
public struct PublicKeyPackage: Equatable, Sendable {
    public let verifyingShares: [Identifier: Ed25519.Point]
    public let verifyingKey: Ed25519.Point
    public let minSigners: Int
    public var maxSigners: Int { verifyingShares.count }

    public init(verifyingShares: [Identifier: Ed25519.Point], verifyingKey: Ed25519.Point, minSigners: Int) throws {
        guard verifyingKey.isInPrimeOrderSubgroup, !verifyingKey.isIdentity else { throw FROSTError.invalidGroupKey }
        if let torsioned = verifyingShares.first(where: { !$0.value.isInPrimeOrderSubgroup }) {
            throw FROSTError.invalidVerifyingShare(torsioned.key)
        }
        guard minSigners >= 2, minSigners <= verifyingShares.count else {
            throw FROSTError.invalidThreshold(minSigners: minSigners, maxSigners: verifyingShares.count)
        }
        self.verifyingShares = verifyingShares
        self.verifyingKey = verifyingKey
        self.minSigners = minSigners
    }

    /// RFC 9591 derive_group_info for the given participants.
    public init(commitment: VSSCommitment, identifiers: [Identifier]) throws {
        var shares = [Identifier: Ed25519.Point]()
        for id in identifiers {
            guard shares[id] == nil else { throw FROSTError.duplicateIdentifier(id) }
            shares[id] = commitment.verifyingShare(for: id)
        }
        try self.init(verifyingShares: shares, verifyingKey: commitment.verifyingKey, minSigners: commitment.coefficients.count)
    }
}

/// Trusted-dealer key generation (RFC 9591 appendix C), for tests and benchmarks: the
/// quorums use the DKG.
public enum TrustedDealer {
    /// Shares of `secret` (random when nil) for participants 1...maxSigners.
    public static func generate(secret: Ed25519.Scalar? = nil, maxSigners: Int, minSigners: Int) throws
        -> (shares: [SecretShare], publicKeyPackage: PublicKeyPackage) {
        guard minSigners >= 2, maxSigners >= minSigners, maxSigners <= Int(UInt16.max) else {
            throw FROSTError.invalidThreshold(minSigners: minSigners, maxSigners: maxSigners)
        }
        let identifiers = try (1...maxSigners).map { try Identifier(UInt16($0)) }
        let coefficients = (1..<minSigners).map { _ in Ed25519.Scalar.random() }
        return try generate(secret: secret ?? .random(), coefficients: coefficients, identifiers: identifiers)
    }

    /// The dealer with its polynomial given: f(x) = secret + coefficients[0] x + ...
    static func generate(secret: Ed25519.Scalar, coefficients: [Ed25519.Scalar], identifiers: [Identifier]) throws
        -> (shares: [SecretShare], publicKeyPackage: PublicKeyPackage) {
        let polynomial = [secret] + coefficients
        let commitment = VSSCommitment(polynomial: polynomial)
        let shares = identifiers.map {
            SecretShare(identifier: $0, signingShare: Polynomial.evaluate(polynomial, at: $0.scalar), commitment: commitment)
        }
        return (shares, try PublicKeyPackage(commitment: commitment, identifiers: identifiers))
    }
}
