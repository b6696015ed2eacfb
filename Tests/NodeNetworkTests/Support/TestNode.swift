import Foundation
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One `rusty node` process on 127.0.0.1 with its own datadir `root` (chain state, debug.log
/// and node-status.json in `root/regtest`). It can be stopped, killed and started again on
/// the same datadir; every wait is bounded by the network's deadline.
final class TestNode {
    let name: String
    let root: URL
    let port: Int
    /// The JSON-RPC server's port (127.0.0.1).
    let rpcPort: Int
    private let deadline: Date
    private(set) var process: Process?
    private(set) var arguments: [String] = []
    private var runs = 0

    init(name: String, root: URL, port: Int, rpcPort: Int, deadline: Date) {
        self.name = name
        self.root = root
        self.port = port
        self.rpcPort = rpcPort
        self.deadline = deadline
    }

    /// The chain-state directory (what `verify-chain`, `utxo-info` and `mine` take as --datadir).
    var directory: URL { root.appendingPathComponent("regtest") }
    var logFile: URL { directory.appendingPathComponent("debug.log") }
    var statusFile: URL { directory.appendingPathComponent("node-status.json") }
    var endpoint: String { "127.0.0.1:\(port)" }
    var isRunning: Bool { process?.isRunning ?? false }
    var pid: Int32? { isRunning ? process?.processIdentifier : nil }

    /// Starts the node with the common test options and `extra` (e.g. --connect, --listen).
    func start(_ extra: [String] = []) throws {
        precondition(!isRunning, "\(name) is already running")
        arguments = extra
        runs += 1
        let rusty = TestPaths.rustyExecutable
        var command = ["node", "--network", "regtest", "--datadir", root.path, "--port", String(port), "--bind", "127.0.0.1",
                       "--rpcport", String(rpcPort),
                       "--loglevel", "debug", "--no-printtoconsole", "--threads", "1", "--backend", "simd"] + extra
        let process = Process()
        // setpriv --pdeathsig: the node dies with the test process even if the test process
        // itself is killed, so no node outlives a crashed run.
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            command = ["--pdeathsig", "KILL", "--", rusty.path] + command
        } else {
            process.executableURL = rusty
        }
        process.arguments = command
        // Files, not pipes: nothing reads them while the node runs, so a pipe could fill up.
        let out = root.appendingPathComponent("stdout-\(runs).txt")
        let err = root.appendingPathComponent("stderr-\(runs).txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        self.process = process
    }

    /// SIGTERM (or `signal`), then waits (bounded) for a graceful exit; past `timeout` SIGKILL.
    /// Throws when the node did not exit by itself with status 0.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 30) throws {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, signal)
        let exited = TestSupport.waitBounded(process, seconds: remaining(timeout))
        guard exited else { throw NetworkTestError("\(name) did not stop within \(Int(timeout)) s of signal \(signal) (killed)") }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw NetworkTestError("\(name) exited with status \(process.terminationStatus) (\(process.terminationReason == .exit ? "exit" : "signal")) after signal \(signal)")
        }
    }

    /// The status file as last written, whoever wrote it (after a stop: the final one).
    func lastStatus() -> NodeStatus? {
        (try? Data(contentsOf: statusFile)).flatMap(NodeStatus.init(data:))
    }

    /// SIGKILL and reap: a crash, as far as the node can tell.
    func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func restart(_ extra: [String]? = nil) throws {
        try stop()
        try start(extra ?? arguments)
    }

    /// The current status file, when it was written by the running process.
    func status() -> NodeStatus? {
        guard let pid, let data = try? Data(contentsOf: statusFile), let status = NodeStatus(data: data),
              status.pid == pid else { return nil }
        return status
    }

    /// Polls the status file until `condition` holds; throws (with the last reading and the
    /// end of debug.log) past `timeout` or when the process exits.
    @discardableResult
    func wait(_ what: String, timeout: Double, poll: Double = 0.1, _ condition: (NodeStatus) -> Bool) throws -> NodeStatus {
        let limit = remaining(timeout)
        let end = Date().addingTimeInterval(limit)
        var last: NodeStatus?
        while true {
            guard isRunning else {
                throw NetworkTestError("\(name) exited (status \(process?.terminationStatus ?? -1)) while waiting for \(what)\n\(stderrText())")
            }
            if let status = status() {
                last = status
                if condition(status) { return status }
            }
            if Date() >= end { break }
            usleep(UInt32(poll * 1e6))
        }
        throw NetworkTestError("\(name): no \(what) within \(Int(limit)) s; last status: \(last.map { "\($0)" } ?? "none")")
    }

    /// Waits until the node reports a bound listener (peers started after this connect at once).
    func waitListening(timeout: Double = 30) throws {
        try wait("listening", timeout: timeout) { ($0.raw["listening"] as? [Any])?.isEmpty == false }
    }

    /// `timeout`, cut to what is left of the test's time.
    func remaining(_ timeout: Double) -> Double {
        max(0, min(timeout, deadline.timeIntervalSinceNow))
    }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
    var logLines: [Substring] { log.split(separator: "\n") }

    func logTail(_ count: Int = 40) -> String {
        logLines.suffix(count).joined(separator: "\n")
    }

    func stderrText() -> String {
        let err = root.appendingPathComponent("stderr-\(runs).txt")
        return (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    }

    /// Resident memory (VmRSS) in KiB, from /proc.
    var rssKiB: Int? { pid.flatMap(ProcessMemory.rssKiB) }

    /// `rusty utxo-info --json` on the (stopped) node's chain state.
    func utxoInfo() throws -> [String: Any] {
        let result = try runProcess(TestPaths.rustyExecutable, ["utxo-info", "--datadir", directory.path, "--json"], timeout: remaining(60))
        guard result.status == 0, let line = result.stdoutText.split(separator: "\n").last,
              let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw NetworkTestError("\(name): utxo-info failed (\(result.status)): \(result.stderrText)")
        }
        return object
    }

    /// Mines `blocks` on the node's chain state with `rusty mine` (the node must be stopped);
    /// returns the hash of the last block.
    func mine(_ blocks: Int) throws -> String {
        precondition(!isRunning, "mine needs the datadir: stop \(name) first")
        let result = try runProcess(TestPaths.rustyExecutable,
                                    ["mine", "--network", "regtest", "--datadir", directory.path, "--blocks", String(blocks),
                                     "--backend", "scalar", "--cpu-threads", "1", "--json"], timeout: remaining(120))
        let lines = result.stdoutText.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        guard result.status == 0, let hash = lines.last(where: { $0["hash"] != nil })?["hash"] as? String else {
            throw NetworkTestError("\(name): mine failed (\(result.status)): \(result.stdoutText)\n\(result.stderrText)")
        }
        return hash
    }
}

enum ProcessMemory {
    /// VmRSS of `pid` in KiB; nil once the process is gone.
    static func rssKiB(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
        return Int(line.split(separator: " ").dropFirst().first ?? "")
    }
}

/// Samples a process's RSS every 50 ms on its own thread while an attack runs, so the peak
/// is seen even if the node frees the memory again before the attack ends.
final class RSSMonitor: @unchecked Sendable {
    private let pid: Int32
    private let lock = NSLock()
    private var peak = 0
    private var samples = 0
    private var running = true
    private let done = DispatchSemaphore(value: 0)

    init(pid: Int32) {
        self.pid = pid
        peak = ProcessMemory.rssKiB(pid) ?? 0
        let thread = Thread { [self] in
            while lock.withLock({ running }) {
                if let rss = ProcessMemory.rssKiB(pid) { lock.withLock { peak = max(peak, rss); samples += 1 } }
                usleep(50_000)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling (idempotent); the peak RSS in KiB and the number of samples.
    func stop() -> (peakKiB: Int, samples: Int) {
        let first = lock.withLock { () -> Bool in
            defer { running = false }
            return running
        }
        if first { done.wait() }
        return lock.withLock { (peak, samples) }
    }
}
