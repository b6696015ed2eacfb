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
        let nonce = hedgedNonce(secret: secret, session: session, sender: sender, using: &generator)
        let nonceCommitment = Ed25519.Point.base(times: nonce)
        let c = challenge(session: session, sender: sender, constantCommitment: constantCommitment, nonceCommitment: nonceCommitment)
        return ProofOfKnowledge(commitment: nonceCommitment, response: nonce + secret * c)
    }

    static let nonceLabel = Array("RustyCoin v1 dkg proof nonce".utf8)

    /// k = SHA-512(label || a_0 || session || sender || 32 bytes of `generator` || 32 bytes of
    /// the OS CSPRNG) mod l: hedged as FROST's nonces are. With k from `generator` alone, a
    /// seed reused across two sessions would give one k under two challenges, and
    /// z1 - z2 = a_0 (c1 - c2) would reveal a_0.
    static func hedgedNonce(secret: Ed25519.Scalar, session: Hash256, sender: UInt16,
                            using generator: inout some RandomNumberGenerator) -> Ed25519.Scalar {
        var system = SystemRandomNumberGenerator()
        var fresh = [UInt8]()
        fresh.reserveCapacity(64)
        for _ in 0..<4 { withUnsafeBytes(of: generator.next().littleEndian) { fresh.append(contentsOf: $0) } }
        for _ in 0..<4 { withUnsafeBytes(of: system.next().littleEndian) { fresh.append(contentsOf: $0) } }
        var secretBytes = secret.bytes
        defer { Ed25519.wipe(&fresh); Ed25519.wipe(&secretBytes) }
        var hasher = SHA512()
        hasher.update(data: nonceLabel)
        hasher.update(data: secretBytes)
        hasher.update(data: session.bytes)
        hasher.update(data: [UInt8(truncatingIfNeeded: sender), UInt8(truncatingIfNeeded: sender >> 8)])
        hasher.update(data: fresh)
        return Ed25519.Scalar(reducing: Array(hasher.finalize()))
    }

    func verify(constantCommitment: Ed25519.Point, session: Hash256, sender: UInt16) -> Bool {
        let c = Self.challenge(session: session, sender: sender, constantCommitment: constantCommitment, nonceCommitment: commitment)
        // z B - c C_0 == R, in one multi-scalar multiplication.
        return Ed25519.Point.multiScalar([response, -c], [Ed25519.Point.base, constantCommitment]) == commitment
    }
}
