import Ed25519
@testable import FROST
import Testing
import TestSupport

/// Binary encodings, Lagrange coefficients and VSS checks.
struct EncodingTests {
    @Test("commitments and shares round-trip; malformed encodings name the field")
    func roundTrips() throws {
        let (shares, _) = try TrustedDealer.generate(maxSigners: 3, minSigners: 2)
        let key = try KeyPackage(secretShare: shares[1])
        let commitments = SigningNonces(keyPackage: key).commitments
        #expect(try SigningCommitments(encoded: commitments.encoded) == commitments)
        #expect(commitments.encoded.count == SigningCommitments.encodedLength)
        let share = SignatureShare(identifier: key.identifier, share: .random())
        #expect(try SignatureShare(encoded: share.encoded) == share)

        #expect(throws: FROSTError.malformedEncoding(what: "signing commitments", reason: "95 bytes, expected 96")) {
            try SigningCommitments(encoded: Array(commitments.encoded.dropLast()))
        }
        var badPoint = commitments.encoded
        badPoint.replaceSubrange(64..<96, with: [2] + [UInt8](repeating: 0, count: 31)) // y = 2: off the curve
        #expect(throws: FROSTError.malformedEncoding(what: "binding commitment", reason: "not a canonical curve point")) {
            try SigningCommitments(encoded: badPoint)
        }
        var zeroID = share.encoded
        zeroID.replaceSubrange(0..<32, with: [UInt8](repeating: 0, count: 32))
        #expect(throws: FROSTError.zeroIdentifier) { try SignatureShare(encoded: zeroID) }
        var bigShare = share.encoded
        bigShare.replaceSubrange(32..<64, with: [UInt8](repeating: 0xFF, count: 32))
        #expect(throws: FROSTError.malformedEncoding(what: "signature share", reason: "share is not a canonical scalar")) {
            try SignatureShare(encoded: bigShare)
        }
        #expect(throws: FROSTError.malformedEncoding(what: "identifier", reason: "not a canonical 32-byte scalar")) {
            try Identifier(bytes: [1])
        }
    }

    @Test("Lagrange coefficients interpolate a polynomial at 0 and elsewhere; duplicates and strangers refused")
    func lagrange() throws {
        let polynomial = (0..<4).map { _ in Ed25519.Scalar.random() }
        let set = try [2, 5, 9, 11].map { try Identifier(UInt16($0)) }
        for x in [Ed25519.Scalar.zero, Ed25519.Scalar(7)] {
            var sum = Ed25519.Scalar.zero
            for id in set {
                sum = sum + (try Polynomial.lagrangeCoefficient(for: id, in: set, at: x)) * Polynomial.evaluate(polynomial, at: id.scalar)
            }
            #expect(sum == Polynomial.evaluate(polynomial, at: x))
        }
        #expect(throws: FROSTError.duplicateIdentifier(set[1])) {
            try Polynomial.interpolatingValue(for: set[0], in: set + [set[1]])
        }
        #expect(throws: FROSTError.identifierNotInSet(try Identifier(3))) {
            try Polynomial.interpolatingValue(for: try Identifier(3), in: set)
        }
    }

    @Test("identifiers order by integer value, including above 255")
    func identifierOrder() throws {
        #expect(try Identifier(256) > Identifier(255))
        #expect(try Identifier(2) < Identifier(257))
        #expect(try Identifier(300).description == "300")
    }

    @Test("VSS: a tampered share or a torsioned commitment is refused")
    func vss() throws {
        let (shares, _) = try TrustedDealer.generate(maxSigners: 4, minSigners: 3)
        for share in shares { try share.verify() }
        let bad = SecretShare(identifier: shares[2].identifier, signingShare: shares[2].signingShare + .one, commitment: shares[2].commitment)
        #expect(throws: FROSTError.invalidSecretShare(bad.identifier)) { try KeyPackage(secretShare: bad) }
        let orderFour = try #require(Ed25519.Point(encoded: [UInt8](repeating: 0, count: 32)))
        var coefficients = shares[0].commitment.coefficients
        coefficients[1] = coefficients[1] + orderFour
        #expect(throws: FROSTError.invalidVSSCommitment) { try VSSCommitment(coefficients: coefficients) }
        #expect(throws: FROSTError.invalidThreshold(minSigners: 1, maxSigners: 3)) {
            try TrustedDealer.generate(maxSigners: 3, minSigners: 1)
        }
    }
}
