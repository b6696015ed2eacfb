import Foundation
import TestSupport

/// `rusty` run as a child with a deadline (SIGKILL past it) and always reaped, for the
/// durability and block-order tests.
struct BoundedResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool
    var json: [String: Any] {
        let line = stdout.split(separator: "\n").last.map(String.init) ?? ""
        return (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
    }
}

enum Rusty {
    static func temporary(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-\(name)-\(UUID().uuidString)")
    }

    /// Runs `rusty arguments` to completion, killing it after `timeout` seconds.
    static func run(_ arguments: [String], timeout: Double = 120) throws -> BoundedResult {
        let result = try runProcess(TestPaths.rustyExecutable, arguments, timeout: timeout)
        return BoundedResult(status: result.status, stdout: result.stdoutText, stderr: result.stderrText, timedOut: result.timedOut)
    }

    /// Waits up to `seconds` for `process`; past that it is killed (and reaped). False when killed.
    @discardableResult
    static func waitBounded(_ process: Process, seconds: Double) -> Bool {
        TestSupport.waitBounded(process, seconds: seconds)
    }
}

/// A `rusty` child running in the background, its output in files; `stop` (or deinit) kills
/// and reaps it and removes the files.
final class Background {
    let process = Process()
    let stdoutFile = Rusty.temporary("out")
    let stderrFile = Rusty.temporary("err")

    init(_ arguments: [String]) throws {
        process.executableURL = TestPaths.rustyExecutable
        process.arguments = arguments
        // Files, not pipes: a child that prints fast must never block on a full pipe.
        FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var stdout: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// Sends `signal` and waits (bounded) for the exit.
    func stop(_ signal: Int32 = SIGKILL, timeout: Double = 30) {
        if process.isRunning { kill(process.processIdentifier, signal) }
        Rusty.waitBounded(process, seconds: timeout)
    }

    /// Polls `condition` up to `seconds`; true once it holds.
    static func waitFor(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: stdoutFile)
        try? FileManager.default.removeItem(at: stderrFile)
    }
}
