import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// libsodium loaded at run time (never linked into `rusty`): nil when it is not installed.
final class Sodium {
    typealias Init = @convention(c) () -> Int32
    typealias SeedKeypair = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt8>, UnsafePointer<UInt8>) -> Int32
    typealias SignDetached = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutablePointer<UInt64>?, UnsafePointer<UInt8>, UInt64,
                                             UnsafePointer<UInt8>) -> Int32
    typealias VerifyDetached = @convention(c) (UnsafePointer<UInt8>, UnsafePointer<UInt8>, UInt64, UnsafePointer<UInt8>) -> Int32

    let handle: UnsafeMutableRawPointer
    let seedKeypair: SeedKeypair
    let signDetached: SignDetached
    let verifyDetached: VerifyDetached
    let version: String

    init?() {
        var opened: UnsafeMutableRawPointer?
        for name in ["libsodium.so.23", "libsodium.so.26", "libsodium.so"] {
            if let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) { opened = handle; break }
        }
        guard let handle = opened else { return nil }
        guard let initSymbol = dlsym(handle, "sodium_init"), let keypair = dlsym(handle, "crypto_sign_seed_keypair"),
              let sign = dlsym(handle, "crypto_sign_detached"), let verify = dlsym(handle, "crypto_sign_verify_detached") else {
            dlclose(handle)
            return nil
        }
        guard unsafeBitCast(initSymbol, to: Init.self)() >= 0 else { dlclose(handle); return nil }
        self.handle = handle
        seedKeypair = unsafeBitCast(keypair, to: SeedKeypair.self)
        signDetached = unsafeBitCast(sign, to: SignDetached.self)
        verifyDetached = unsafeBitCast(verify, to: VerifyDetached.self)
        if let versionSymbol = dlsym(handle, "sodium_version_string") {
            let function = unsafeBitCast(versionSymbol, to: (@convention(c) () -> UnsafePointer<CChar>).self)
            version = String(cString: function())
        } else {
            version = "?"
        }
    }

    deinit { dlclose(handle) }

    /// (public key, secret key) of a 32-byte seed.
    func keypair(seed: [UInt8]) -> (publicKey: [UInt8], secretKey: [UInt8]) {
        var publicKey = [UInt8](repeating: 0, count: 32), secretKey = [UInt8](repeating: 0, count: 64)
        _ = seedKeypair(&publicKey, &secretKey, seed)
        return (publicKey, secretKey)
    }

    func sign(_ message: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 64)
        _ = signDetached(&signature, nil, message, UInt64(message.count), secretKey)
        return signature
    }

    func verify(_ signature: [UInt8], _ message: [UInt8], publicKey: [UInt8]) -> Bool {
        verifyDetached(signature, message, UInt64(message.count), publicKey) == 0
    }
}

/// `b3sum` on PATH, run as a subprocess.
enum B3Sum {
    static func executable() -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("b3sum")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs `b3sum --num-threads 1 FILE`; returns its hex digest.
    static func hash(_ executable: URL, file: String) throws -> String {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--num-threads", "1", file]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError.anchorFailed("b3sum exited with \(process.terminationStatus)") }
        return String(decoding: output, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}

extension B3Sum {
    /// Runs `b3sum --num-threads 1 FILE` with its output discarded, through posix_spawn
    /// (Foundation's Process adds tens of milliseconds per launch, more than b3sum needs for 64 MiB).
    static func run(_ executable: URL, file: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = [executable.path, "--num-threads", "1", file]
        var cArguments = arguments.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable.path, &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw BenchError.anchorFailed("cannot start b3sum (error \(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw BenchError.anchorFailed("waitpid failed") }
        }
        guard status == 0 else { throw BenchError.anchorFailed("b3sum exited with status \(status)") }
    }
}

public enum BenchError: Error, CustomStringConvertible {
    case anchorFailed(String)
    case verificationFailed(String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .anchorFailed(let text): return "anchor failed: \(text)"
        case .verificationFailed(let text): return "verification failed: \(text)"
        case .mismatch(let text): return "result mismatch: \(text)"
        }
    }
}
