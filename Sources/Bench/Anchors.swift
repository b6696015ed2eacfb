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
