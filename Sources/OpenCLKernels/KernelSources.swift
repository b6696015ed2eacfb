/// The OpenCL C sources of Kernels/, embedded at build time by Plugins/EmbedKernelsPlugin.
/// A program is the concatenation of its files in order (shared code first); each list
/// below is what the host builds, so tests and the README name the same files.
public enum KernelSources {
    /// The `pow_search` kernel (see Kernels/README.md), after the shared BLAKE3 compression.
    public static let powSearchFiles = ["blake3_compress.cl", "pow_search.cl"]
    /// The `merkle_level` kernel, after the shared BLAKE3 compression.
    public static let merkleFiles = ["blake3_compress.cl", "merkle.cl"]
    /// The `ed25519_verify` and `ed25519_base_table` kernels, after the field, group,
    /// SHA-512 and scalar code they use (each part uses only those before it).
    public static let ed25519VerifyFiles = [
        "ed25519_field.cl", "ed25519_group.cl", "ed25519_sha512.cl", "ed25519_scalar.cl", "ed25519_verify.cl",
    ]

    public static var powSearch: String { program(powSearchFiles) }
    public static var merkle: String { program(merkleFiles) }
    public static var ed25519Verify: String { program(ed25519VerifyFiles) }

    /// The files' texts joined by newlines: the source one program is built from.
    public static func program(_ files: [String]) -> String {
        files.map(source(named:)).joined(separator: "\n")
    }

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
