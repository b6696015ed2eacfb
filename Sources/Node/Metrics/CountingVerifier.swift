// Signature batches by backend for `/metrics`: the node's verifiers wrapped so every batch
// (block imports through the pipeline, single blocks through the chain state, the mempool)
// is counted where it is verified.

import Ed25519
import Verification

struct CountingVerifier: SignatureBatchVerifier {
    let inner: any SignatureBatchVerifier
    let metrics: NodeMetrics
    var name: String { inner.name }

    func verify(_ batch: SignatureBatch) throws -> [Bool] {
        let results = try inner.verify(batch)
        metrics.signatureBatch(backend: inner.name, signatures: batch.count)
        return results
    }
}

extension VerificationPipeline.Options {
    /// The same options with every batch counted in `metrics`.
    func counted(in metrics: NodeMetrics) -> Self {
        var options = self
        let inner = verifier
        let backend = backendName
        options.verifier = { batch in
            let results = try inner(batch)
            metrics.signatureBatch(backend: backend, signatures: batch.count)
            return results
        }
        return options
    }
}
