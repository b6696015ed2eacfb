import Foundation
import Testing
import TestSupport

/// `rusty mine --rpc/--stratum` flags; mining against real pools and nodes is in the network tests.
@Suite
struct MineSourceCommandTests {
    @Test("source flags are checked: exactly one source, flags of that source only, URLs with clear errors", arguments: [
        ([String](), "one of --datadir, --rpc or --stratum is required"),
        (["--datadir", "/tmp/unused", "--rpc", "http://h:1"], "cannot be combined"),
        (["--stratum", "stratum+tcp://h:1"], "--stratum needs --user"),
        (["--stratum", "http://h:1", "--user", "u"], "scheme must be stratum+tcp"),
        (["--stratum", "stratum+tcp://h:1", "--user", "u", "--key", String(repeating: "ab", count: 32)], "do not apply to --stratum"),
        (["--rpc", "http://h"], "has no port"),
        (["--rpc", "http://h:1", "--user", "u"], "--user applies to --stratum only"),
        (["--rpc", "http://h:1", "--shares", "2"], "--shares applies to --stratum only"),
        (["--rpc", "http://h:1", "--address", "rcrt1notanaddress"], "bech32m address of regtest or 64 hex digits"),
        (["--datadir", "/tmp/unused", "--duration", "2"], "apply to --rpc and --stratum"),
        (["--stratum", "stratum+tcp://h:1", "--user", "u", "--status-interval", "0"], "--status-interval must be between"),
        // --stratum needs no payout on testnet or mainnet (the pool pays --user): the check that fails is a later one.
        (["--network", "testnet", "--stratum", "stratum+tcp://h:1", "--user", "u", "--status-interval", "0"], "--status-interval must be between"),
        (["--network", "mainnet", "--stratum", "stratum+tcp://h:1", "--user", "u", "--status-interval", "0"], "--status-interval must be between"),
        (["--network", "testnet", "--rpc", "http://h:1"], "--address is required on testnet"),
    ])
    func usageErrors(arguments: [String], message: String) throws {
        let result = try runProcess(TestPaths.rustyExecutable, ["mine"] + arguments)
        #expect(result.status == 64, "\(arguments): \(result.stderrText)")
        #expect(result.stderrText.contains(message), "\(arguments): \(result.stderrText)")
    }

    @Test("an unreachable pool is retried with backoff until --duration ends the run (exit 0, a JSON summary)")
    func unreachablePool() throws {
        let result = try runProcess(TestPaths.rustyExecutable, ["mine", "--stratum", "stratum+tcp://127.0.0.1:1", "--user", "u",
                                                                "--duration", "2.5", "--status-interval", "1", "--json",
                                                                "--backend", "simd", "--cpu-threads", "1"])
        #expect(result.status == 0, "\(result.stderrText)")
        let events = result.stdoutText.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.contains { $0["event"] as? String == "reconnect" && $0["attempt"] as? Int == 1 })
        #expect(events.contains { $0["event"] as? String == "status" })
        let summary = try #require(events.last)
        #expect(summary["event"] as? String == "summary")
        #expect(summary["accepted"] as? Int == 0)
        #expect(summary["stoppedby"] as? String == "--duration 2.5")
    }

    @Test("a closed standard output stops remote mining (long before --duration)")
    func closedOutputStops() throws {
        let command = "'\(TestPaths.rustyExecutable.path)' mine --stratum stratum+tcp://127.0.0.1:1 --user u --duration 60 "
            + "--status-interval 0.2 --backend simd --cpu-threads 1 | head -n 1"
        let began = Date()
        let result = try runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", command])
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(Date().timeIntervalSince(began) < 30, "\(result.stderrText)")
        #expect(result.stderrText.contains("standard output closed"), "\(result.stderrText)")
    }
}
