/// Both FROST rounds in one process that holds every signer's key package: for tests,
/// benchmarks and tools. (Quorum members sign on their own machines and exchange the
/// commitments and shares over P2P.)
public enum LocalSession {
    /// The signing package and every signer's share for `message`, signers in identifier order.
    public static func shares(keys: [KeyPackage], message: [UInt8]) throws -> (SigningPackage, [SignatureShare]) {
        try run(keys.sorted { $0.identifier < $1.identifier }[...], commitments: [], message: message)
    }

    /// Nonces are non-copyable, so each signer's pair lives in one frame of this recursion:
    /// committed on the way down, consumed by signing on the way back up.
    private static func run(_ keys: ArraySlice<KeyPackage>, commitments: [SigningCommitments], message: [UInt8]) throws
        -> (SigningPackage, [SignatureShare]) {
        guard let key = keys.first else { return (try SigningPackage(commitments: commitments, message: message), []) }
        let nonces = SigningNonces(keyPackage: key)
        var (package, shares) = try run(keys.dropFirst(), commitments: commitments + [nonces.commitments], message: message)
        shares.insert(try FROSTSigner.sign(package: package, nonces: nonces, keyPackage: key), at: 0)
        return (package, shares)
    }
}
