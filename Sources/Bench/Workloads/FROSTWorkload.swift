import Ed25519
import FROST

/// `rusty bench` section frost: FROST(Ed25519, SHA-512) signing as a quorum does it, with a
/// trusted-dealer key (the DKG's output has the same shape): 30 of 50 signers.
enum FROSTWorkload: BenchWorkload {
    static let section = BenchSectionName.frost
    static let maxSigners = 50, minSigners = 30

    static func run(_ r: Recorder) throws {
        let (shares, publicKeys) = try TrustedDealer.generate(maxSigners: maxSigners, minSigners: minSigners)
        let keys = try shares.prefix(minSigners).map { try KeyPackage(secretShare: $0) }
        let message = Array("rusty coin chain lock".utf8)
        var commitments = [SigningCommitments]()
        for key in keys { commitments.append(SigningNonces(keyPackage: key).commitments) }

        try r.rate("nonce pairs and commitments (round one)", backend: "scalar", unit: "pairs/s") { k in
            for i in 0..<k { _ = SigningNonces(keyPackage: keys[i % keys.count]).commitments }
            return Double(k)
        }

        // Round two: one signer's share over a fresh package each time (its own nonces are
        // consumed by signing, so each share needs a new pair in the package).
        let signer = keys[0]
        try r.rate("fresh nonces + signature share (\(minSigners) signers)", backend: "scalar", unit: "shares/s") { k in
            for _ in 0..<k {
                let nonces = SigningNonces(keyPackage: signer)
                let package = try SigningPackage(commitments: [nonces.commitments] + commitments.dropFirst(), message: message)
                _ = try FROSTSigner.sign(package: package, nonces: nonces, keyPackage: signer)
            }
            return Double(k)
        }

        let (package, signatureShares) = try LocalSession.shares(keys: keys, message: message)
        // A coordinator checks a whole session's shares at once (binding factors derived once).
        try r.rate("signature share verifications (\(minSigners) per session)", backend: "scalar", unit: "shares/s") { k in
            for _ in 0..<k {
                guard try FROSTAggregator.invalidShares(signatureShares, package: package, publicKeyPackage: publicKeys).isEmpty else {
                    throw BenchError.verificationFailed("FROST signature shares")
                }
            }
            return Double(k * signatureShares.count)
        }

        var times = [Double]()
        for _ in 0..<(r.mode.runs + 1) {
            var signature = [UInt8]()
            times.append(try Recorder.time {
                signature = try FROSTAggregator.aggregate(package: package, shares: signatureShares, publicKeyPackage: publicKeys)
            } * 1000)
            guard Ed25519.verify(signature: signature, message: message, publicKey: publicKeys.verifyingKey.encoded) else {
                throw BenchError.verificationFailed("FROST aggregate")
            }
        }
        r.add("aggregate \(minSigners) of \(maxSigners) (verified)", backend: "scalar", unit: "ms", values: Array(times.dropFirst()))
    }
}
