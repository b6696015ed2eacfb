import Ed25519

/// A signer's public round-one output: commitments to its hiding and binding nonces.
public struct SigningCommitments: Hashable, Sendable {
    public let identifier: Identifier
    public let hiding: Ed25519.Point
    public let binding: Ed25519.Point

    /// Both points must be prime-order and not the identity (RFC 9591 section 4.3's
    /// commitment checks, done when the commitment is accepted rather than at use).
    public init(identifier: Identifier, hiding: Ed25519.Point, binding: Ed25519.Point) throws {
        for point in [hiding, binding] where point.isIdentity || !point.isInPrimeOrderSubgroup {
            throw FROSTError.invalidCommitment(identifier)
        }
        self.identifier = identifier
        self.hiding = hiding
        self.binding = binding
    }
}

/// A signer's secret round-one state: the two nonces. Non-copyable and consumed by
/// `FROSTSigner.sign`, so a nonce pair cannot be used twice (two signature shares under one
/// nonce pair reveal the signing share). The nonces live in one heap buffer that is wiped
/// when the value ends.
public struct SigningNonces: ~Copyable {
    private let storage: UnsafeMutableRawBufferPointer // hiding (32) || binding (32)
    public let commitments: SigningCommitments

    /// Fresh hedged nonces for `keyPackage` (RFC 9591 nonce_generate: 32 random bytes from
    /// the OS CSPRNG hashed with the signing share, so a weak RNG alone does not leak it).
    public init(keyPackage: KeyPackage) {
        var hidingRandomness = Self.randomBytes(), bindingRandomness = Self.randomBytes()
        self.init(identifier: keyPackage.identifier, signingShare: keyPackage.signingShare,
                  hidingRandomness: hidingRandomness, bindingRandomness: bindingRandomness)
        Ed25519.wipe(&hidingRandomness)
        Ed25519.wipe(&bindingRandomness)
    }

    /// Deterministic entry point for the test vectors: the randomness is given.
    init(identifier: Identifier, signingShare: Ed25519.Scalar, hidingRandomness: [UInt8], bindingRandomness: [UInt8]) {
        let hiding = Self.nonce(randomness: hidingRandomness, secret: signingShare)
        let binding = Self.nonce(randomness: bindingRandomness, secret: signingShare)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        storage.copyBytes(from: hiding.bytes + binding.bytes)
        // Multiples of B are prime order; the identity (a nonce of 0 mod l, probability
        // 2^-252) is refused by SigningPackage.
        commitments = SigningCommitments(unchecked: identifier, hiding: .base(times: hiding), binding: .base(times: binding))
    }

    deinit {
        Ed25519.wipe(storage)
        storage.deallocate()
    }

    static func nonce(randomness: [UInt8], secret: Ed25519.Scalar) -> Ed25519.Scalar {
        FROSTCiphersuite.h3(randomness, secret.bytes)
    }

    var hiding: Ed25519.Scalar { Ed25519.Scalar(reducing: Array(storage[0..<32])) }
    var binding: Ed25519.Scalar { Ed25519.Scalar(reducing: Array(storage[32..<64])) }

    private static func randomBytes() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

extension SigningCommitments {
    /// A signer's own commitments: multiples of B, so the subgroup check is skipped.
    fileprivate init(unchecked identifier: Identifier, hiding: Ed25519.Point, binding: Ed25519.Point) {
        self.identifier = identifier
        self.hiding = hiding
        self.binding = binding
    }
}
