import Crypto
import Ed25519
import Primitives

/// A Schnorr proof that the sender knows a_0 for its commitment C_0 = a_0 B (FROST KeyGen's
/// proof of knowledge; it stops a member choosing C_0 as a function of the others' (rogue key)).
/// R = k B, c = H(session, sender, C_0, R), z = k + a_0 c; valid iff z B == R + c C_0.
public struct ProofOfKnowledge: Sendable, Equatable {
    public let commitment: Ed25519.Point   // R
    public let response: Ed25519.Scalar    // z

    public init(commitment: Ed25519.Point, response: Ed25519.Scalar) {
        self.commitment = commitment
        self.response = response
    }

    static let label = Array("RustyCoin v1 dkg proof of knowledge".utf8)

    /// SHA-512 (labelled) of session id || sender (u16 LE) || C_0 || R, reduced mod l.
    static func challenge(session: Hash256, sender: UInt16, constantCommitment: Ed25519.Point,
                          nonceCommitment: Ed25519.Point) -> Ed25519.Scalar {
        var hasher = SHA512()
        hasher.update(data: label)
        hasher.update(data: session.bytes)
        hasher.update(data: [UInt8(truncatingIfNeeded: sender), UInt8(truncatingIfNeeded: sender >> 8)])
        hasher.update(data: constantCommitment.encoded)
        hasher.update(data: nonceCommitment.encoded)
        return Ed25519.Scalar(reducing: Array(hasher.finalize()))
    }

    static func prove(secret: Ed25519.Scalar, constantCommitment: Ed25519.Point, session: Hash256, sender: UInt16,
                      using generator: inout some RandomNumberGenerator) -> ProofOfKnowledge {
        let nonce = randomScalar(using: &generator)
        let nonceCommitment = Ed25519.Point.base(times: nonce)
        let c = challenge(session: session, sender: sender, constantCommitment: constantCommitment, nonceCommitment: nonceCommitment)
        return ProofOfKnowledge(commitment: nonceCommitment, response: nonce + secret * c)
    }

    func verify(constantCommitment: Ed25519.Point, session: Hash256, sender: UInt16) -> Bool {
        let c = Self.challenge(session: session, sender: sender, constantCommitment: constantCommitment, nonceCommitment: commitment)
        // z B - c C_0 == R, in one multi-scalar multiplication.
        return Ed25519.Point.multiScalar([response, -c], [Ed25519.Point.base, constantCommitment]) == commitment
    }
}
