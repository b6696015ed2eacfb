import Ed25519

/// One signer's round-two output.
public struct SignatureShare: Hashable, Sendable {
    public let identifier: Identifier
    public let share: Ed25519.Scalar

    public init(identifier: Identifier, share: Ed25519.Scalar) {
        self.identifier = identifier
        self.share = share
    }
}

/// Round two (RFC 9591 section 5.2): a signer's share of the signature.
public enum FROSTSigner {
    /// Signs `package` with the nonces from round one, consuming them (a nonce pair can sign
    /// once). Refuses a package that omits this signer, carries other commitments for it than
    /// its nonces', or has fewer than `minSigners` signers.
    public static func sign(package: SigningPackage, nonces: consuming SigningNonces, keyPackage: KeyPackage) throws -> SignatureShare {
        let id = keyPackage.identifier
        guard let own = package.commitment(of: id) else { throw FROSTError.signerNotInPackage(id) }
        guard own == nonces.commitments else { throw FROSTError.commitmentMismatch(id) }
        let count = package.commitments.count
        guard count >= keyPackage.minSigners else {
            throw FROSTError.wrongParticipantCount(count: count, minSigners: keyPackage.minSigners, maxSigners: Int(UInt16.max))
        }
        let derived = package.derive(verifyingKey: keyPackage.verifyingKey)
        let lambda = try Polynomial.interpolatingValue(for: id, in: package.identifiers)
        let rho = derived.bindingFactors[id] ?? .zero
        // z_i = d_i + e_i rho_i + lambda_i s_i c: scalar arithmetic, constant time in the secrets.
        let share = nonces.hiding + nonces.binding * rho + lambda * keyPackage.signingShare * derived.challenge
        return SignatureShare(identifier: id, share: share)
    }
}

/// The coordinator's side: share verification and aggregation into an RFC 8032 signature.
public enum FROSTAggregator {
    /// RFC 9591 verify_signature_share: [z_i]B == D_i + [rho_i]E_i + [c lambda_i]Y_i.
    public static func verify(share: SignatureShare, verifyingShare: Ed25519.Point, package: SigningPackage,
                              verifyingKey: Ed25519.Point) throws -> Bool {
        try verify(share: share, verifyingShare: verifyingShare, package: package,
                   derived: package.derive(verifyingKey: verifyingKey))
    }

    static func verify(share: SignatureShare, verifyingShare: Ed25519.Point, package: SigningPackage,
                       derived: SigningPackage.Derived) throws -> Bool {
        let id = share.identifier
        guard let commitment = package.commitment(of: id), let rho = derived.bindingFactors[id] else {
            throw FROSTError.unexpectedSignatureShare(id)
        }
        let lambda = try Polynomial.interpolatingValue(for: id, in: package.identifiers)
        // One multi-scalar product: [z]B - D - [rho]E - [c lambda]Y == O.
        let check = Ed25519.Point.multiScalar(
            [share.share, -.one, -rho, -(derived.challenge * lambda)],
            [.base, commitment.hiding, commitment.binding, verifyingShare])
        return check.isIdentity
    }

    /// Checks every share, deriving the binding factors and challenge once for all of them;
    /// returns the identifiers whose shares fail, in the order given.
    public static func invalidShares(_ shares: [SignatureShare], package: SigningPackage,
                                     publicKeyPackage: PublicKeyPackage) throws -> [Identifier] {
        try invalidShares(shares, package: package, publicKeyPackage: publicKeyPackage,
                          derived: package.derive(verifyingKey: publicKeyPackage.verifyingKey))
    }

    static func invalidShares(_ shares: [SignatureShare], package: SigningPackage, publicKeyPackage: PublicKeyPackage,
                              derived: SigningPackage.Derived) throws -> [Identifier] {
        var invalid = [Identifier]()
        for share in shares {
            guard let verifyingShare = publicKeyPackage.verifyingShares[share.identifier] else {
                throw FROSTError.missingVerifyingShare(share.identifier)
            }
            if try !verify(share: share, verifyingShare: verifyingShare, package: package, derived: derived) {
                invalid.append(share.identifier)
            }
        }
        return invalid
    }

    /// Sums the shares into the 64-byte signature R || z. The result is verified under the
    /// group key; when it fails, every share is checked and the culprits are named.
    public static func aggregate(package: SigningPackage, shares: [SignatureShare],
                                 publicKeyPackage: PublicKeyPackage) throws -> [UInt8] {
        let signers = package.identifiers
        let count = signers.count
        guard count >= publicKeyPackage.minSigners, count <= publicKeyPackage.maxSigners else {
            throw FROSTError.wrongParticipantCount(count: count, minSigners: publicKeyPackage.minSigners,
                                                   maxSigners: publicKeyPackage.maxSigners)
        }
        var byIdentifier = [Identifier: SignatureShare]()
        for share in shares {
            guard package.commitment(of: share.identifier) != nil else { throw FROSTError.unexpectedSignatureShare(share.identifier) }
            guard byIdentifier.updateValue(share, forKey: share.identifier) == nil else {
                throw FROSTError.duplicateIdentifier(share.identifier)
            }
        }
        for id in signers {
            guard byIdentifier[id] != nil else { throw FROSTError.missingSignatureShare(id) }
            guard publicKeyPackage.verifyingShares[id] != nil else { throw FROSTError.missingVerifyingShare(id) }
        }
        let derived = package.derive(verifyingKey: publicKeyPackage.verifyingKey)
        let z = shares.reduce(Ed25519.Scalar.zero) { $0 + $1.share }
        let signature = derived.groupCommitment.encoded + z.bytes
        if Ed25519.verify(signature: signature, message: package.message, publicKey: publicKeyPackage.verifyingKey.encoded) {
            return signature
        }
        let culprits = try invalidShares(signers.compactMap { byIdentifier[$0] }, package: package,
                                         publicKeyPackage: publicKeyPackage, derived: derived)
        guard !culprits.isEmpty else { throw FROSTError.sharesDoNotCombine }
        throw FROSTError.invalidSignatureShares(culprits)
    }
}
