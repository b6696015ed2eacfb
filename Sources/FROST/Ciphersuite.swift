/// FROST(Ed25519, SHA-512), RFC 9591 section 6.1: the one ciphersuite this module implements.
public enum FROSTCiphersuite {
    /// Prefix of every hash-to-scalar domain (H1, H3, H4, H5); H2 is plain SHA-512 so that
    /// the aggregate is an ordinary RFC 8032 signature.
    public static let contextString = Array("FROST-ED25519-SHA512-v1".utf8)
}
