import Ed25519
@testable import FROST
import Testing
import TestSupport

/// Signing sessions over random keys and signer sets, honest and adversarial.
struct SigningPropertyTests {
    struct Session {
        let keyPackages: [Identifier: KeyPackage]
        let publicKeys: PublicKeyPackage
    }

    static func session(maxSigners: Int, minSigners: Int) throws -> Session {
        let (shares, publicKeys) = try TrustedDealer.generate(maxSigners: maxSigners, minSigners: minSigners)
        var packages = [Identifier: KeyPackage]()
        for share in shares { packages[share.identifier] = try KeyPackage(secretShare: share) }
        return Session(keyPackages: packages, publicKeys: publicKeys)
    }

    /// Runs both rounds for `signers`; `corrupt` may alter the shares before aggregation.
    static func sign(_ session: Session, signers: [Identifier], message: [UInt8],
                     corrupt: ([SignatureShare]) -> [SignatureShare] = { $0 }) throws -> [UInt8] {
        let (package, shares) = try shares(session, signers: signers, message: message)
        return try FROSTAggregator.aggregate(package: package, shares: corrupt(shares), publicKeyPackage: session.publicKeys)
    }

    static func shares(_ session: Session, signers: [Identifier], message: [UInt8]) throws -> (SigningPackage, [SignatureShare]) {
        try LocalSession.shares(keys: signers.map { try #require(session.keyPackages[$0]) }, message: message)
    }

    @Test("any threshold-sized (or larger) subset of n signs a valid RFC 8032 signature")
    func anySubsetSigns() throws {
        var rng = SeededGenerator(testSeed: 0xF057)
        for _ in 0..<12 {
            let n = Int.random(in: 2...10, using: &rng), t = Int.random(in: 2...n, using: &rng)
            let session = try Self.session(maxSigners: n, minSigners: t)
            let size = Int.random(in: t...n, using: &rng)
            let signers = Array(session.keyPackages.keys.shuffled(using: &rng).prefix(size))
            let message = rng.bytes(Int.random(in: 0...200, using: &rng))
            let signature = try Self.sign(session, signers: signers, message: message)
            #expect(Ed25519.verify(signature: signature, message: message, publicKey: session.publicKeys.verifyingKey.encoded),
                    "\(size) of \(n), threshold \(t)")
        }
    }

    @Test("threshold - 1 signers: refused by signer and aggregator; forcing it yields no valid signature")
    func belowThreshold() throws {
        let session = try Self.session(maxSigners: 5, minSigners: 3)
        let signers = try [Identifier(2), Identifier(4)]
        #expect(throws: FROSTError.wrongParticipantCount(count: 2, minSigners: 3, maxSigners: 65535)) {
            try Self.sign(session, signers: signers, message: [1, 2, 3])
        }
        // Signers told the threshold is 2 (a lie): every share is well formed, but they do not
        // interpolate the group secret, so aggregation finds no valid signature.
        var lied = session.keyPackages
        for (id, key) in lied {
            lied[id] = KeyPackage(identifier: id, signingShare: key.signingShare, verifyingShare: key.verifyingShare,
                                  verifyingKey: key.verifyingKey, minSigners: 2)
        }
        let liedPublic = try PublicKeyPackage(verifyingShares: session.publicKeys.verifyingShares,
                                              verifyingKey: session.publicKeys.verifyingKey, minSigners: 2)
        #expect(throws: FROSTError.sharesDoNotCombine) {
            try Self.sign(Session(keyPackages: lied, publicKeys: liedPublic), signers: signers, message: [1, 2, 3])
        }
    }

    @Test("a corrupted signature share is named by its identifier")
    func corruptedShareIsNamed() throws {
        let session = try Self.session(maxSigners: 7, minSigners: 4)
        let signers = try [1, 3, 4, 6, 7].map { try Identifier(UInt16($0)) }
        for culprit in [signers[0], signers[3]] {
            #expect(throws: FROSTError.invalidSignatureShares([culprit])) {
                try Self.sign(session, signers: signers, message: Array("block".utf8)) { shares in
                    shares.map { $0.identifier == culprit ? SignatureShare(identifier: culprit, share: $0.share + .one) : $0 }
                }
            }
        }
        // Two culprits, named in identifier order.
        #expect(throws: FROSTError.invalidSignatureShares([signers[1], signers[4]])) {
            try Self.sign(session, signers: signers, message: []) { shares in
                shares.map { [signers[1], signers[4]].contains($0.identifier) ? SignatureShare(identifier: $0.identifier, share: .zero) : $0 }
            }
        }
    }

    @Test("missing, extra and duplicate shares are refused by name")
    func shareSetChecks() throws {
        let session = try Self.session(maxSigners: 4, minSigners: 2)
        let signers = try [Identifier(1), Identifier(2), Identifier(3)]
        let (package, shares) = try Self.shares(session, signers: signers, message: [9])
        let publicKeys = session.publicKeys
        #expect(try FROSTAggregator.invalidShares(shares, package: package, publicKeyPackage: publicKeys).isEmpty)
        let bad = SignatureShare(identifier: signers[1], share: shares[1].share + .one)
        #expect(try FROSTAggregator.invalidShares([shares[0], bad, shares[2]], package: package, publicKeyPackage: publicKeys) == [signers[1]])
        #expect(throws: FROSTError.missingSignatureShare(signers[2])) {
            try FROSTAggregator.aggregate(package: package, shares: Array(shares.prefix(2)), publicKeyPackage: publicKeys)
        }
        #expect(throws: FROSTError.duplicateIdentifier(signers[0])) {
            try FROSTAggregator.aggregate(package: package, shares: shares + [shares[0]], publicKeyPackage: publicKeys)
        }
        let stranger = SignatureShare(identifier: try Identifier(4), share: .one)
        #expect(throws: FROSTError.unexpectedSignatureShare(stranger.identifier)) {
            try FROSTAggregator.aggregate(package: package, shares: shares + [stranger], publicKeyPackage: publicKeys)
        }
    }

    @Test("tampered commitments: the signer refuses a package that misstates its own; the aggregator names the victims of a swap")
    func tamperedCommitments() throws {
        let session = try Self.session(maxSigners: 3, minSigners: 2)
        let one = try Identifier(1), two = try Identifier(2)
        let key = try #require(session.keyPackages[one])
        let nonces = SigningNonces(keyPackage: key), other = SigningNonces(keyPackage: key)
        let forged = try SigningCommitments(identifier: one, hiding: other.commitments.hiding, binding: nonces.commitments.binding)
        let twoKey = try #require(session.keyPackages[two])
        let twoNonces = SigningNonces(keyPackage: twoKey)
        let package = try SigningPackage(commitments: [forged, twoNonces.commitments], message: [7])
        // (Nonces are consumed by signing, so they cannot be captured by #expect's closure.)
        do {
            _ = try FROSTSigner.sign(package: package, nonces: nonces, keyPackage: key)
            Issue.record("signed a package with a forged commitment")
        } catch {
            #expect(error as? FROSTError == .commitmentMismatch(one))
        }
        // Honest shares checked against a package whose commitment for 2 was replaced.
        let (honest, shares) = try Self.shares(session, signers: [one, two], message: [7])
        let replaced = try SigningCommitments(identifier: two, hiding: honest.commitments[1].binding, binding: honest.commitments[1].hiding)
        let tampered = try SigningPackage(commitments: [honest.commitments[0], replaced], message: [7])
        // The binding factors of both depend on the whole list, so both shares now fail.
        #expect(throws: FROSTError.invalidSignatureShares([one, two])) {
            try FROSTAggregator.aggregate(package: tampered, shares: shares, publicKeyPackage: session.publicKeys)
        }
    }

    @Test("signing packages refuse unsorted or repeated identifiers and identity or small-order commitments")
    func packageChecks() throws {
        let session = try Self.session(maxSigners: 3, minSigners: 2)
        let c1 = SigningNonces(keyPackage: try #require(session.keyPackages[try Identifier(1)])).commitments
        let c2 = SigningNonces(keyPackage: try #require(session.keyPackages[try Identifier(2)])).commitments
        #expect(throws: FROSTError.commitmentsNotSorted) { try SigningPackage(commitments: [c2, c1], message: []) }
        #expect(throws: FROSTError.duplicateIdentifier(c1.identifier)) { try SigningPackage(commitments: [c1, c1], message: []) }
        #expect(throws: FROSTError.invalidCommitment(c1.identifier)) {
            try SigningCommitments(identifier: c1.identifier, hiding: .identity, binding: c1.binding)
        }
        // A point of order 8 ((0, -1) has order 2; this one is of order 4): not prime order.
        let orderFour = try #require(Ed25519.Point(encoded: [0] + [UInt8](repeating: 0, count: 31)))
        #expect(throws: FROSTError.invalidCommitment(c1.identifier)) {
            try SigningCommitments(identifier: c1.identifier, hiding: c1.hiding, binding: orderFour)
        }
        let torsioned = c1.binding + orderFour
        #expect(throws: FROSTError.invalidCommitment(c1.identifier)) {
            try SigningCommitments(identifier: c1.identifier, hiding: c1.hiding, binding: torsioned)
        }
        #expect(throws: FROSTError.zeroIdentifier) { try Identifier(0) }
    }

    @Test("nonces are hedged: two nonce pairs for one share differ")
    func freshNonces() throws {
        let session = try Self.session(maxSigners: 2, minSigners: 2)
        let key = try #require(session.keyPackages[try Identifier(1)])
        let a = SigningNonces(keyPackage: key), b = SigningNonces(keyPackage: key)
        #expect(a.commitments != b.commitments)
        #expect(a.hiding != a.binding)
    }
}
