import CEd25519

extension Ed25519 {
    /// An Ed25519 secret ready to sign: the expanded seed and its public key, derived
    /// together once here (so a public key that is not the seed's can never reach a
    /// signature) and held in memory this object owns, outside Swift's copy-on-write
    /// arrays, so no stray copies exist and `deinit` can wipe it.
    public final class SigningKey: @unchecked Sendable {
        // Written only in init and deinit; reads from several threads are safe.
        private let key: UnsafeMutablePointer<rc_ed25519_signing_key>
        public let publicKey: [UInt8]

        /// From a 32-byte seed. The caller still owns (and should wipe) `seed`.
        public convenience init(seed: [UInt8]) {
            precondition(seed.count == Ed25519.seedLength, "Ed25519 seed must be 32 bytes")
            self.init(expanded: seed.withUnsafeBytes(Self.expand))
        }

        /// From a 32-byte seed in memory the caller controls (and wipes).
        public convenience init(seed: UnsafeRawBufferPointer) {
            precondition(seed.count == Ed25519.seedLength, "Ed25519 seed must be 32 bytes")
            self.init(expanded: Self.expand(seed))
        }

        private static func expand(_ seed: UnsafeRawBufferPointer) -> UnsafeMutablePointer<rc_ed25519_signing_key> {
            let key = UnsafeMutablePointer<rc_ed25519_signing_key>.allocate(capacity: 1)
            rc_ed25519_signing_key_init(key, seed.baseAddress!.assumingMemoryBound(to: UInt8.self))
            return key
        }

        private init(expanded: UnsafeMutablePointer<rc_ed25519_signing_key>) {
            key = expanded
            // Read the field in place: `pointee` could copy the whole secret struct to the stack.
            let offset = MemoryLayout<rc_ed25519_signing_key>.offset(of: \.public_key)!
            publicKey = Array(UnsafeRawBufferPointer(start: UnsafeRawPointer(expanded) + offset, count: Ed25519.publicKeyLength))
        }

        deinit {
            rc_ed25519_signing_key_wipe(key)
            key.deallocate()
        }

        /// Deterministic RFC 8032 signature of `message`.
        public func sign(message: [UInt8]) -> [UInt8] {
            message.withUnsafeBytes { sign(message: $0) }
        }

        public func sign(message: UnsafeRawBufferPointer) -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureLength)
            rc_ed25519_sign_with_key(&signature, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, key)
            return signature
        }
    }
}
