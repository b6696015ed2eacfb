import Ed25519

/// Everything FROST refuses, each case naming what is wrong (and whose input, where known).
public enum FROSTError: Error, Equatable, Sendable {
    /// An identifier must be a non-zero scalar.
    case zeroIdentifier
    case invalidThreshold(minSigners: Int, maxSigners: Int)
    /// The number of signers (or shares) is outside [minSigners, maxSigners].
    case wrongParticipantCount(count: Int, minSigners: Int, maxSigners: Int)
    case duplicateIdentifier(Identifier)
    /// The identifier is not among those of the interpolation set.
    case identifierNotInSet(Identifier)
    /// Commitments must be sorted by identifier, ascending.
    case commitmentsNotSorted
    /// A nonce commitment is not a prime-order, non-identity point.
    case invalidCommitment(Identifier)
    /// The signer's nonces do not match its commitment in the signing package.
    case commitmentMismatch(Identifier)
    case signerNotInPackage(Identifier)
    case missingSignatureShare(Identifier)
    case unexpectedSignatureShare(Identifier)
    case missingVerifyingShare(Identifier)
    /// These participants' signature shares fail verification (identifiable abort).
    case invalidSignatureShares([Identifier])
    /// Every share verifies but their sum is not a valid signature: fewer signers than the
    /// key's real threshold, or verifying shares that do not belong to the group key.
    case sharesDoNotCombine
    /// A secret share does not match the dealer's Feldman commitment.
    case invalidSecretShare(Identifier)
    /// A Feldman commitment must have minSigners prime-order coefficients.
    case invalidVSSCommitment
    /// The verifying key is not a prime-order, non-identity point.
    case invalidGroupKey
    /// A participant's verifying share is not in the prime-order subgroup (an honest share
    /// would then fail verification and be blamed).
    case invalidVerifyingShare(Identifier)
    /// Share repair needs at least minSigners helpers, and the lost participant is not one of them.
    case invalidRepairHelpers
    /// A binary encoding is malformed: `what` is the field, `reason` what is wrong with it.
    case malformedEncoding(what: String, reason: String)
}
