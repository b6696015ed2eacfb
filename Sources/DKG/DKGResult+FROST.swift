import Ed25519
import FROST

extension DKGResult {
    /// This member's FROST signing key: its share, its verification share and the group key.
    public func keyPackage() throws -> KeyPackage {
        guard let verifyingShare = verificationShare(of: identifier) else { throw FROSTError.invalidGroupKey }
        return KeyPackage(identifier: try Identifier(identifier), signingShare: signingShare, verifyingShare: verifyingShare,
                          verifyingKey: groupKey, minSigners: threshold)
    }

    /// The quorum's public FROST package: the group key and every member's verification
    /// share (members outside Q hold valid shares too: theirs is the sum of Q's shares to them).
    public func publicKeyPackage() throws -> PublicKeyPackage {
        var shares: [Identifier: Ed25519.Point] = [:]
        for (index, share) in verificationShares.enumerated() { shares[try Identifier(UInt16(index + 1))] = share }
        return try PublicKeyPackage(verifyingShares: shares, verifyingKey: groupKey, minSigners: threshold)
    }
}
