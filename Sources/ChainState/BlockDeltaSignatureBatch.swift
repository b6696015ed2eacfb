import Consensus
import Ed25519

extension BlockDelta {
    /// The checks as one flat batch for the verifier (here, not in Consensus, which does not
    /// depend on a signature implementation).
    public var signatureBatch: SignatureBatch {
        var batch = SignatureBatch()
        batch.reserveCapacity(checks.count, messageBytes: checks.count * 32)
        for check in checks {
            // Scripts only collect 32-byte keys and 64-byte signatures.
            let appended = check.message.withUnsafeBytes { batch.append(publicKey: check.publicKey, signature: check.signature, message: $0) }
            precondition(appended, "a collected signature check has the wrong key or signature length")
        }
        return batch
    }
}
