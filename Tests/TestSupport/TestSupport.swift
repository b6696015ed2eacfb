import Foundation
// Re-exported: every test target gets the package's one seeded generator and hex helper
// (Primitives) with TestSupport, whether or not it uses Primitives otherwise.
@_exported import Primitives

/// Shared by the test targets: where the external vectors are, and a seeded generator so
/// every random test is reproducible (`SeededGenerator(testSeed:)` prints its seed).
public enum TestPaths {
    /// The package root (this file is Tests/TestSupport/TestSupport.swift).
    public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The external test vectors: the copies in Tests/Vectors (so a lone clone tests
    /// itself), or the directory RUSTY_VECTORS names (to test against another copy).
    public static var vectors: URL {
        if let override = ProcessInfo.processInfo.environment["RUSTY_VECTORS"], !override.isEmpty {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.appendingPathComponent("Tests/Vectors")
    }

    public static func vector(_ name: String) throws -> Data {
        try Data(contentsOf: vectors.appendingPathComponent(name))
    }

    /// The built `rusty` executable next to the test bundle.
    public static var rustyExecutable: URL {
        let candidates = [
            Bundle.main.bundleURL.appendingPathComponent("rusty"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("rusty"),
        ]
        for url in candidates where FileManager.default.isExecutableFile(atPath: url.path) { return url }
        // swift test puts test bundles in .build/<config>/ beside the products.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let url = directory.appendingPathComponent("rusty")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            directory = directory.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/rusty")
    }
}

/// Property tests draw from the package's one seeded generator (Primitives).
extension SeededGenerator {
    /// The generator of one random test: seeded with `testSeed`, or with RUSTY_TEST_SEED
    /// (decimal or 0x-hex) when set, so any run can be replayed or varied. Prints the seed
    /// it uses and how to replay it.
    public init(testSeed: UInt64, _ label: String = #function, file: String = #fileID, line: Int = #line) {
        let seed = Self.overrideSeed ?? testSeed
        print("[seed] \(file):\(line) \(label): RUSTY_TEST_SEED=0x\(String(seed, radix: 16))")
        self.init(seed: seed)
    }

    /// RUSTY_TEST_SEED, parsed; a malformed value stops the run rather than being ignored.
    public static var overrideSeed: UInt64? {
        guard let text = ProcessInfo.processInfo.environment["RUSTY_TEST_SEED"], !text.isEmpty else { return nil }
        let parsed = text.lowercased().hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
        guard let parsed else { fatalError("RUSTY_TEST_SEED must be a decimal or 0x-hex UInt64, not '\(text)'") }
        return parsed
    }
}

/// Runs a command and returns its exit status and output.
public struct ProcessResult {
    public var status: Int32
    public var stdout: Data
    public var stderr: Data
    /// The child ran past its deadline and was killed (SIGKILL).
    public var timedOut = false
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

/// Every child is bounded: past `timeout` seconds it is killed and reaped, so a hung command
/// fails its test instead of hanging the suite.
public func runProcess(_ executable: URL, _ arguments: [String], stdin: Data? = nil,
                       currentDirectory: URL? = nil, timeout: Double = 300) throws -> ProcessResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    // Drain both pipes concurrently so a chatty child never blocks.
    let group = DispatchGroup()
    nonisolated(unsafe) var out = Data(), err = Data()
    group.enter()
    DispatchQueue.global().async { out = readToEnd(outPipe.fileHandleForReading); group.leave() }
    group.enter()
    DispatchQueue.global().async { err = readToEnd(errPipe.fileHandleForReading); group.leave() }
    if let stdin { inPipe.fileHandleForWriting.write(stdin) }
    try? inPipe.fileHandleForWriting.close()
    let finished = waitBounded(process, seconds: timeout)
    group.wait()
    return ProcessResult(status: process.terminationStatus, stdout: out, stderr: err, timedOut: !finished)
}

/// Everything until end of file. Foundation's `readDataToEndOfFile` traps when a signal
/// interrupts its read (EINTR); this retries instead.
public func readToEnd(_ handle: FileHandle) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
        if count > 0 {
            data.append(contentsOf: buffer[..<count])
        } else if count == 0 || errno != EINTR {
            return data
        }
    }
}

/// Waits up to `seconds` for `process`; past that it is killed (and reaped). False when killed.
@discardableResult
public func waitBounded(_ process: Process, seconds: Double) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(10_000) }
    guard process.isRunning else { return true }
    kill(process.processIdentifier, SIGKILL)
    process.waitUntilExit()
    return false
}
