/// The OpenCL C sources of Kernels/, embedded at build time by Plugins/EmbedKernelsPlugin.
public enum KernelSources {
    /// `pow_search.cl`: the `pow_search` kernel (see Kernels/README.md), after the shared
    /// BLAKE3 compression of `blake3_compress.cl`.
    public static var powSearch: String { source(named: "blake3_compress.cl") + "\n" + source(named: "pow_search.cl") }
    /// `merkle.cl`: the `merkle_level` kernel, after the shared BLAKE3 compression.
    public static var merkle: String { source(named: "blake3_compress.cl") + "\n" + source(named: "merkle.cl") }
    /// `ed25519_verify.cl`: the `ed25519_verify` and `ed25519_base_table` kernels.
    public static var ed25519Verify: String { source(named: "ed25519_verify.cl") }

    /// Every embedded kernel file name.
    public static var names: [String] { EmbeddedKernels.files.keys.sorted() }

    public static func source(named name: String) -> String {
        guard let text = EmbeddedKernels.files[name] else {
            preconditionFailure("kernel \(name) was not embedded at build time")
        }
        return text
    }

    /// Build options every kernel file is written for.
    public static let buildOptions = "-cl-std=CL1.2"
}
