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
        let process = Process()
        process.executableURL = TestPaths.rustyExecutable
        process.arguments = arguments
        let outPipe = Pipe(), errPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data(), err = Data()
        group.enter()
        DispatchQueue.global().async { out = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { err = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let timedOut = !waitBounded(process, seconds: timeout)
        group.wait()
        return BoundedResult(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                             stderr: String(decoding: err, as: UTF8.self), timedOut: timedOut)
    }

    /// Waits up to `seconds` for `process`; past that it is killed (and reaped). False when killed.
    @discardableResult
    static func waitBounded(_ process: Process, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return false
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
