import Foundation
import JSONRPC
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A test node running the Stratum pool server on 127.0.0.1:`port`, paying `address` (an
/// address of the node's own wallet, so its coinbases are recognisable).
struct StratumPool {
    let node: TestNode
    let port: Int
    let address: String

    var url: String { "stratum+tcp://127.0.0.1:\(port)" }

    /// Creates the node's wallet, takes its first address offline, and starts the node with
    /// the pool server on a fresh port; `difficulty` pins the share difficulty (min = max).
    static func start(_ node: TestNode, difficulty: Double? = nil, _ extra: [String] = []) throws -> StratumPool {
        let address = try offlineAddress(node)
        let port = try FreePort.allocate()
        var flags = ["--stratum", "--stratumbind", "127.0.0.1", "--stratumport", String(port), "--stratumaddress", address]
        if let difficulty {
            let text = String(difficulty)
            flags += ["--stratumdifficulty", text, "--stratummindifficulty", text, "--stratummaxdifficulty", text]
        }
        try node.start(flags + extra)
        try node.waitRPC()
        let pool = StratumPool(node: node, port: port, address: address)
        let info = try pool.info()
        guard info["enabled"] == true, info["port"]?.int64Value == Int64(port) else {
            throw NetworkTestError("\(node.name): getstratuminfo does not show the pool on port \(port): \(info.text())")
        }
        return pool
    }

    /// `rusty wallet create` (cheap key derivation) and `rusty wallet address`, node stopped.
    static func offlineAddress(_ node: TestNode) throws -> String {
        let passphrase = node.root.appendingPathComponent("passphrase.txt")
        try "stratum test passphrase\n".write(to: passphrase, atomically: true, encoding: .utf8)
        let common = ["--datadir", node.root.path, "--network", "regtest", "--json"]
        let created = try runProcess(TestPaths.rustyExecutable, ["wallet", "create", "--passphrase-file", passphrase.path, "--kdf-log-n", "10"] + common,
                                     timeout: node.remaining(60))
        guard created.status == 0 else { throw NetworkTestError("rusty wallet create: \(created.stderrText)") }
        let result = try runProcess(TestPaths.rustyExecutable, ["wallet", "address"] + common, timeout: node.remaining(60))
        guard result.status == 0, let json = try? JSONParser.parse(Array(result.stdoutText.utf8)),
              let address = json["address"]?.stringValue else {
            throw NetworkTestError("rusty wallet address: \(result.stdoutText) \(result.stderrText)")
        }
        return address
    }

    func info() throws -> JSON { try node.rpc("getstratuminfo") }

    /// The worker's entry in getstratuminfo, if it has one.
    func worker(_ name: String, in info: JSON) -> JSON? {
        info["workers"]?.arrayValue?.first { $0["name"]?.stringValue == name }
    }

    /// Waits (bounded) until the pool's current job builds on the node's tip. For the tens of
    /// milliseconds between a block and the template that follows it, a new subscriber is
    /// handed the previous tip's job, and a share on that job is (rightly) stale.
    func waitForJobOnTip(timeout: Double = 60) throws {
        let tip = try XCTUnwrap(try node.rpc("getbestblockhash").stringValue)
        try waitInfo("job on the tip \(tip)", timeout: timeout) { $0["job"]?["previousblockhash"]?.stringValue == tip }
    }

    /// Polls getstratuminfo (bounded) until `condition` holds; the last answer.
    @discardableResult
    func waitInfo(_ what: String, timeout: Double, _ condition: (JSON) -> Bool) throws -> JSON {
        let end = Date().addingTimeInterval(node.remaining(timeout))
        var last = JSON.null
        while true {
            last = try info()
            if condition(last) { return last }
            guard Date() < end else { throw NetworkTestError("\(node.name): no \(what) within \(Int(timeout)) s; getstratuminfo: \(last.text())") }
            usleep(200_000)
        }
    }
}

/// Tests/Scripts/stratum_client.py under the system's python3.
enum StratumScript {
    static let path = TestPaths.packageRoot.appendingPathComponent("Tests/Scripts/stratum_client.py")

    static func python() throws -> URL {
        // .ci/run and scripts/setup.sh install Debian's python3.
        let found = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.isExecutableFile)
        return URL(fileURLWithPath: try XCTUnwrap(found, "python3 is not installed"))
    }

    /// Runs one mode against `pool` as `user`; the JSON summary it printed (the run must exit 0).
    static func run(_ mode: String, _ pool: StratumPool, user: String, timeout: Double = 60) throws -> JSON {
        let result = try runProcess(try python(), [path.path, mode, "--host", "127.0.0.1", "--port", String(pool.port), "--user", user,
                                                   "--timeout", "20"], timeout: pool.node.remaining(timeout))
        guard result.status == 0 else {
            throw NetworkTestError("stratum_client.py \(mode) exited \(result.status) (timed out: \(result.timedOut)): \(result.stderrText)\(result.stdoutText)")
        }
        guard let line = result.stdoutText.split(separator: "\n").last, let json = try? JSONParser.parse(Array(line.utf8)) else {
            throw NetworkTestError("stratum_client.py \(mode) printed no JSON summary: \(result.stdoutText)")
        }
        return json
    }
}

/// One `rusty mine` run in the background (output in files, killed with the test process),
/// for the tests that need several miners at once.
final class MinerProcess {
    let name: String
    let process = Process()
    let stdoutFile: URL
    let stderrFile: URL

    init(_ name: String, directory: URL, arguments: [String]) throws {
        self.name = name
        stdoutFile = directory.appendingPathComponent("\(name)-stdout.txt")
        stderrFile = directory.appendingPathComponent("\(name)-stderr.txt")
        for file in [stdoutFile, stderrFile] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        let rusty = TestPaths.rustyExecutable
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--pdeathsig", "KILL", "--", rusty.path, "mine"] + arguments
        } else {
            process.executableURL = rusty
            process.arguments = ["mine"] + arguments
        }
        process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var stdoutText: String { (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? "" }
    var stderrText: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// The JSON objects it printed, one per line (`--json`).
    var events: [JSON] { stdoutText.split(separator: "\n").compactMap { try? JSONParser.parse(Array($0.utf8)) } }

    /// SIGTERM, then a bounded wait (SIGKILL past it); the exit status.
    @discardableResult
    func stop(timeout: Double = 20) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        _ = TestSupport.waitBounded(process, seconds: timeout)
        return process.terminationStatus
    }

    /// Waits (bounded) for it to exit by itself; false when it had to be killed.
    func wait(timeout: Double) -> Bool { TestSupport.waitBounded(process, seconds: timeout) }

    var report: String { "---- \(name) stdout ----\n\(stdoutText.suffix(3000))\n---- \(name) stderr ----\n\(stderrText.suffix(3000))" }
}

/// Base units of an amount as the RPC writes it (a decimal with up to 8 places), exactly.
func baseUnits(_ amount: JSON?) -> Int64? {
    guard let text = amount?.text(), !text.hasPrefix("-") else { return nil }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count <= 2, let whole = Int64(parts[0]) else { return nil }
    let fraction = parts.count == 2 ? String(parts[1]) : ""
    guard fraction.count <= 8, let cents = Int64(fraction.padding(toLength: 8, withPad: "0", startingAt: 0)) else { return nil }
    return whole * 100_000_000 + cents
}
