/// The OpenCL C sources of Kernels/, embedded at build time by Plugins/EmbedKernelsPlugin.
public enum KernelSources {
    /// `pow_search.cl`: the `pow_search` kernel (see Kernels/README.md).
    public static var powSearch: String { source(named: "pow_search.cl") }
    /// `merkle.cl`: the `merkle_level` kernel.
    public static var merkle: String { source(named: "merkle.cl") }
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
