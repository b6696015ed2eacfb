import Ed25519
import Foundation
import OpenCLRuntime

/// Batch Ed25519 verification under ZIP-215: one verdict per item, in order, each equal to
/// `Ed25519.verify` on that item. A public key that is not 32 bytes or a signature that is
/// not 64 bytes is invalid.
public protocol SignatureBatchVerifier: Sendable {
    var name: String { get }
    func verify(_ items: [SignatureItem]) throws -> [Bool]
}

/// The backend for a resolved `--backend` choice: `.simd` is the best CPU field backend
/// (`Ed25519.Backend.auto`), `.scalar` the portable one, both on `threads` threads.
public enum SignatureVerifiers {
    public static func make(_ resolved: BackendChoice.Resolved, threads: Int = 1) throws -> any SignatureBatchVerifier {
        switch resolved {
        case .scalar: return CPUSignatureVerifier(backend: .scalar, threads: threads)
        case .simd: return CPUSignatureVerifier(backend: .auto, threads: threads)
        case .opencl(let devices): return try OpenCLSignatureVerifier(devices: devices)
        }
    }
}

/// `Ed25519.verifyBatch` with one field backend on `threads` threads.
public struct CPUSignatureVerifier: SignatureBatchVerifier {
    public let backend: Ed25519.Backend
    public let threads: Int

    public init(backend: Ed25519.Backend = .auto, threads: Int = 1) {
        self.backend = backend
        self.threads = max(1, threads)
    }

    /// The resolved field backend (`scalar`, `avx2`, `avx512ifma`).
    public var name: String { backend.resolved.rawValue }

    public func verify(_ items: [SignatureItem]) throws -> [Bool] {
        Ed25519.verifyBatch(items, backend: backend, threads: threads)
    }
}
