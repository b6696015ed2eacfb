import Consensus
import Ed25519
import Masternodes
import Primitives

extension BlockDelta {
    /// The checks as one flat batch for the verifier (here, not in Consensus, which does not
    /// depend on a signature implementation).
    public var signatureBatch: SignatureBatch {
        var batch = SignatureBatch()
        batch.reserveCapacity(checks.count, messageBytes: checks.count * 32)
        for check in checks {
            // Scripts and payload records only collect 32-byte keys and 64-byte signatures.
            let appended = check.message.withUnsafeBytes { batch.append(publicKey: check.publicKey, signature: check.signature, message: $0) }
            precondition(appended, "a collected signature check has the wrong key or signature length")
        }
        return batch
    }

    /// Adds the block's special payload signatures (recorded by the masternode rules) to the
    /// checks, so they are verified in the same batch as the input signatures, on every
    /// core, instead of one by one on the serial stage.
    mutating func appendPayloadSignatures(_ payload: PayloadSignatureChecks, blockHash: Hash256, height: UInt64) {
        guard !payload.isEmpty else { return }
        checks.append(contentsOf: payload.checks)
        checkLocations.append(contentsOf: payload.transactions.map { CheckLocation.payload(blockHash: blockHash, height: height, transaction: $0) })
    }
}
