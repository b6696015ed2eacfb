import Ed25519

/// FROST(Ed25519, SHA-512), RFC 9591 section 6.1: the one ciphersuite this module implements.
public enum FROSTCiphersuite {
    /// Prefix of every hash-to-scalar domain (H1, H3, H4, H5); H2 is plain SHA-512 so that
    /// the aggregate is an ordinary RFC 8032 signature.
    public static let contextString = Array("FROST-ED25519-SHA512-v1".utf8)

    typealias Scalar = Ed25519.Scalar

    private static func hash(_ label: String, _ parts: [[UInt8]]) -> [UInt8] {
        var input = contextString + Array(label.utf8)
        for part in parts { input += part }
        defer { Ed25519.wipe(&input) }
        return Ed25519.sha512(input)
    }

    /// H1: binding factors.
    static func h1(_ parts: [UInt8]...) -> Scalar { reduced(hash("rho", parts)) }
    /// H2: the challenge, SHA-512 with no context string (RFC 8032's k).
    static func h2(_ parts: [UInt8]...) -> Scalar { reduced(Ed25519.sha512(parts.flatMap { $0 })) }
    /// H3: nonce generation (its input holds the secret share).
    static func h3(_ parts: [UInt8]...) -> Scalar { reduced(hash("nonce", parts)) }
    /// H4: the message digest in the binding-factor input.
    static func h4(_ message: [UInt8]) -> [UInt8] { hash("msg", [message]) }
    /// H5: the commitment-list digest in the binding-factor input.
    static func h5(_ encodedCommitments: [UInt8]) -> [UInt8] { hash("com", [encodedCommitments]) }

    private static func reduced(_ digest: [UInt8]) -> Scalar {
        var digest = digest
        defer { Ed25519.wipe(&digest) }
        return Scalar(reducing: digest)
    }
}
