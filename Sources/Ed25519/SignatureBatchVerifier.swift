import Foundation

/// Batch Ed25519 verification under ZIP-215: one verdict per item of a flat batch, in
/// order, each equal to `Ed25519.verify` on that item. The one interface the CPU and OpenCL
/// engines share, so callers (the chain, the pipeline, the CLI) take any of them. Declared
/// here rather than in SignatureBackends so ChainState can take one without OpenCL.
public protocol SignatureBatchVerifier: Sendable {
    var name: String { get }
    func verify(_ batch: SignatureBatch) throws -> [Bool]
}

extension SignatureBatchVerifier {
    /// Separate items: a public key that is not 32 bytes or a signature that is not 64
    /// bytes is invalid (and never reaches the engine); the rest go as one flat batch.
    public func verify(_ items: [SignatureItem]) throws -> [Bool] {
        let (batch, wellFormed) = SignatureBatch.flattening(items)
        return SignatureBatch.scatter(try verify(batch), to: wellFormed, count: items.count)
    }
}

/// The CPU engine: `Ed25519.verifyBatch` with its field backend chosen explicitly, on
/// `threads` threads.
public struct CPUSignatureVerifier: SignatureBatchVerifier {
    public let backend: Ed25519.Backend
    public let threads: Int

    public init(backend: Ed25519.Backend, threads: Int = 1) {
        self.backend = backend
        self.threads = max(1, threads)
    }

    /// The resolved field backend (`scalar`, `avx2`, `avx512ifma`).
    public var name: String { backend.resolved.rawValue }

    public func verify(_ batch: SignatureBatch) throws -> [Bool] {
        Ed25519.verifyBatch(batch, backend: backend, threads: threads)
    }
}
