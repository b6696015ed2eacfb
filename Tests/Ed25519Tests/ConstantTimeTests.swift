import Foundation
import Testing
import TestSupport

/// Key derivation and signing run under valgrind with the seed marked undefined
/// (ConstantTime/ctime.c): a branch or memory index that depends on the secret is an
/// error. CI installs valgrind (scripts/setup.sh, .ci/run), so there this never skips.
struct ConstantTimeTests {
    static let valgrind: URL? = executable("valgrind")

    static func executable(_ name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let url = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }

    /// The system `cc`, and the toolchain's clang (which builds the package) when present.
    static var compilers: [String] {
        var names = ["cc"]
        if executable("clang") != nil { names.append("clang") }
        return names
    }

    /// Compiles ctime.c with the CEd25519 sources as the package does (-O3).
    static func build(with compiler: String) throws -> URL {
        let root = TestPaths.packageRoot
        let sources = root.appendingPathComponent("Sources/CEd25519")
        let cFiles = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".c") }.sorted()
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-ctime-\(compiler)-\(UUID().uuidString)")
        // DWARF 4: the valgrind of current distributions cannot read clang's default DWARF 5.
        let arguments = ["-O3", "-gdwarf-4", "-std=gnu11", "-I", sources.appendingPathComponent("include").path, "-I", sources.path]
            + cFiles.map { sources.appendingPathComponent($0).path }
            + [root.appendingPathComponent("Tests/Ed25519Tests/ConstantTime/ctime.c").path, "-o", output.path, "-lpthread"]
        let compile = try runProcess(URL(fileURLWithPath: "/usr/bin/env"), [compiler] + arguments)
        try #require(compile.status == 0, "\(compiler) failed: \(compile.stderrText)")
        return output
    }

    @Test("signing and key derivation have no secret-dependent branch or index (valgrind); a leaky variant is caught",
          .enabled(if: valgrind != nil, "valgrind is not installed (apt-get install valgrind); the constant-time check cannot run"),
          arguments: compilers)
    func secretIndependent(compiler: String) throws {
        let program = try Self.build(with: compiler)
        defer { try? FileManager.default.removeItem(at: program) }
        let valgrindArguments = ["--tool=memcheck", "--error-exitcode=1", "--track-origins=yes", program.path]

        let library = try runProcess(Self.valgrind!, valgrindArguments)
        #expect(library.status == 0, "\(compiler): secret-dependent code in signing or key derivation:\n\(library.stderrText)")
        #expect(library.stdoutText == "ctime: library done\n", "\(compiler): \(library.stderrText)")

        // The same check on a variable-time derivation must fail, or it proves nothing.
        let leaky = try runProcess(Self.valgrind!, valgrindArguments + ["leaky"])
        #expect(leaky.status == 1, "\(compiler): the leaky variant was not reported:\n\(leaky.stderrText)")
        #expect(leaky.stderrText.contains("depends on uninitialised value") && leaky.stderrText.contains("ge_wnaf"), "\(compiler)")
    }
}
