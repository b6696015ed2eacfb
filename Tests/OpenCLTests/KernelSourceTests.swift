import Ed25519
import Foundation
import OpenCLKernels
import OpenCLRuntime
import SignatureBackends
import Testing
import TestSupport

@Suite struct KernelSourceTests {
    @Test("each program is its files concatenated in order, and every embedded kernel file is in a program")
    func concatenation() {
        let programs: [(String, [String])] = [
            (KernelSources.powSearch, KernelSources.powSearchFiles),
            (KernelSources.merkle, KernelSources.merkleFiles),
            (KernelSources.ed25519Verify, KernelSources.ed25519VerifyFiles),
        ]
        for (source, files) in programs {
            #expect(source == files.map(KernelSources.source(named:)).joined(separator: "\n"), "\(files)")
            for file in files { #expect(KernelSources.names.contains(file), "\(file) not embedded") }
        }
        #expect(Set(programs.flatMap(\.1)) == Set(KernelSources.names))
        // The Ed25519 parts: only the last defines kernels, and each is a real part.
        for file in KernelSources.ed25519VerifyFiles.dropLast() {
            #expect(!KernelSources.source(named: file).contains("__kernel"), "\(file)")
            #expect(KernelSources.source(named: file).contains("static "), "\(file)")
        }
        let kernels = KernelSources.source(named: "ed25519_verify.cl")
        #expect(kernels.contains("__kernel void ed25519_verify(") && kernels.contains("__kernel void ed25519_base_table("))
    }

    @Test("the concatenated Ed25519 source builds on the device, has both kernels, and verifies the RFC 8032 vectors")
    func ed25519Builds() throws {
        // A context of its own, so the program is compiled here rather than found in memory.
        let context = try OpenCLContext(device: try firstDevice())
        let program = try context.program(source: KernelSources.program(KernelSources.ed25519VerifyFiles),
                                          options: KernelSources.buildOptions, cache: nil)
        #expect(!program.fromBinary)
        _ = try program.kernel(named: "ed25519_verify")
        _ = try program.kernel(named: "ed25519_base_table")
        // The verifier builds KernelSources.ed25519Verify, the same text (checked above).
        let vectors = try Ed25519Vectors.rfc8032()
        #expect(vectors.count == 5)
        let items = vectors.map { SignatureItem(publicKey: $0.publicKey, signature: $0.signature, message: $0.message) }
        #expect(try SharedSignature.openCL.get().verify(items) == vectors.map(\.valid))
        #expect(vectors.allSatisfy { $0.valid })
    }
}
