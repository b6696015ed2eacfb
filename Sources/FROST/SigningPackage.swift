import Ed25519

/// What the coordinator sends every signer in round two: the message and the commitments of
/// the chosen signers, sorted by identifier.
public struct SigningPackage: Sendable {
    public let commitments: [SigningCommitments]
    public let message: [UInt8]

    /// Refuses lists that are unsorted, repeat an identifier, or hold an identity commitment
    /// (each commitment's points were checked for prime order when it was made or decoded).
    public init(commitments: [SigningCommitments], message: [UInt8]) throws {
        for (previous, next) in zip(commitments, commitments.dropFirst()) {
            if previous.identifier == next.identifier { throw FROSTError.duplicateIdentifier(next.identifier) }
            if next.identifier < previous.identifier { throw FROSTError.commitmentsNotSorted }
        }
        for commitment in commitments where commitment.hiding.isIdentity || commitment.binding.isIdentity {
            throw FROSTError.invalidCommitment(commitment.identifier)
        }
        self.commitments = commitments
        self.message = message
    }

    public var identifiers: [Identifier] { commitments.map(\.identifier) }

    public func commitment(of id: Identifier) -> SigningCommitments? { commitments.first { $0.identifier == id } }

    /// RFC 9591 encode_group_commitment_list.
    var encodedCommitmentList: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(96 * commitments.count)
        for c in commitments { out += c.identifier.bytes + c.hiding.encoded + c.binding.encoded }
        return out
    }

    /// The binding factor inputs (RFC 9591 compute_binding_factors), in commitment order:
    /// verifying key || H4(message) || H5(commitment list) || identifier.
    func bindingFactorInputs(verifyingKey: Ed25519.Point) -> [[UInt8]] {
        let prefix = verifyingKey.encoded + FROSTCiphersuite.h4(message) + FROSTCiphersuite.h5(encodedCommitmentList)
        return commitments.map { prefix + $0.identifier.bytes }
    }

    /// Everything both signers and the aggregator derive from the package.
    struct Derived {
        let bindingFactors: [Identifier: Ed25519.Scalar]
        let groupCommitment: Ed25519.Point
        let challenge: Ed25519.Scalar
    }

    func derive(verifyingKey: Ed25519.Point) -> Derived {
        var factors = [Identifier: Ed25519.Scalar]()
        var scalars = [Ed25519.Scalar](), points = [Ed25519.Point]()
        for (commitment, input) in zip(commitments, bindingFactorInputs(verifyingKey: verifyingKey)) {
            let rho = FROSTCiphersuite.h1(input)
            factors[commitment.identifier] = rho
            scalars += [.one, rho]
            points += [commitment.hiding, commitment.binding]
        }
        // R = sum (D_i + [rho_i] E_i): public values, so variable time.
        let groupCommitment = Ed25519.Point.multiScalar(scalars, points)
        let challenge = FROSTCiphersuite.h2(groupCommitment.encoded, verifyingKey.encoded, message)
        return Derived(bindingFactors: factors, groupCommitment: groupCommitment, challenge: challenge)
    }
}
