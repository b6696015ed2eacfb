import Ed25519
import OpenCLRuntime

/// The engine for a resolved `--backend` choice: `.simd` is the best CPU field backend
/// (`Ed25519.Backend.auto`), `.scalar` the portable one, both on `threads` threads.
/// (`SignatureBatchVerifier` and `CPUSignatureVerifier` are in Ed25519, where ChainState
/// sees them.)
public enum SignatureVerifiers {
    public static func make(_ resolved: BackendChoice.Resolved, threads: Int = 1) throws -> any SignatureBatchVerifier {
        switch resolved {
        case .scalar: return CPUSignatureVerifier(backend: .scalar, threads: threads)
        case .simd: return CPUSignatureVerifier(backend: .auto, threads: threads)
        case .opencl(let devices): return try OpenCLSignatureVerifier(devices: devices)
        }
    }
}

