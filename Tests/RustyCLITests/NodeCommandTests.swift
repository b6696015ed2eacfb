import ArgumentParser
import ChainState
import Foundation
import Node
@testable import RustyCLI
import Testing
import TestSupport

/// `rusty node`: `--status` on a datadir with no node, a stale one and a live one, and
/// configuration errors reported before anything starts.
@Suite struct NodeCommandTests {
    static func status(pid: Int32, state: NodeStatus.State) -> NodeStatus {
        NodeStatus(pid: pid, network: "regtest", startedAt: Date(timeIntervalSince1970: 1_796_029_200),
                   updatedAt: Date(timeIntervalSince1970: 1_796_029_260.25), state: state, height: 42,
                   tipHash: String(repeating: "cd", count: 32), headers: 50, verificationProgress: 0.84,
                   peers: [NodeStatus.PeerSummary(id: 3, address: "127.0.0.1:40000", inbound: true, version: 70001,
                                                  userAgent: "/rusty:0.1.0/", startingHeight: 50, syncedHeight: 50, pingMillis: 2)],
                   inboundCount: 1)
    }

    @Test("--status without a running node: 'rusty: no node is running on DATADIR/NETWORK', exit 1")
    func noNode() throws {
        let datadir = Rusty.temporary("node-none")
        defer { try? FileManager.default.removeItem(at: datadir) }
        let result = try Rusty.run(["node", "--status", "--datadir", datadir.path, "--network", "regtest"], timeout: 60)
        #expect(result.status == 1 && result.stderr == "rusty: no node is running on \(datadir.path)/regtest\n", "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        // A status file left by a node that stopped (or whose process is gone) is no running node.
        let directory = datadir.path + "/regtest"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try NodeStatusFile.write(Self.status(pid: getpid(), state: .stopped), to: directory + "/node-status.json")
        let stopped = try Rusty.run(["node", "--status", "--json", "--datadir", datadir.path, "--network", "regtest"], timeout: 60)
        #expect(stopped.status == 1 && stopped.stderr.hasPrefix("rusty: no node is running on \(directory) (the last one"), "\(stopped.stderr)")
        try NodeStatusFile.write(Self.status(pid: Int32.max, state: .synced), to: directory + "/node-status.json")
        let gone = try Rusty.run(["node", "--status", "--datadir", datadir.path, "--network", "regtest"], timeout: 60)
        #expect(gone.status == 1 && gone.stderr.hasPrefix("rusty: no node is running on \(directory)"), "\(gone.stderr)")
    }

    @Test("--status of a live node (this test process stands in for it): text and --json, exit 0; the network from rusty.conf")
    func liveNode() throws {
        let datadir = Rusty.temporary("node-live")
        defer { try? FileManager.default.removeItem(at: datadir) }
        let directory = datadir.path + "/regtest"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "regtest=1\n".write(toFile: datadir.path + "/rusty.conf", atomically: true, encoding: .utf8)
        try NodeStatusFile.write(Self.status(pid: getpid(), state: .syncingBlocks), to: directory + "/node-status.json")
        let text = try Rusty.run(["node", "--status", "--datadir", datadir.path], timeout: 60)
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("syncing-blocks") && text.stdout.contains("height 42 of 50 headers (84.00% verified)"), "\(text.stdout)")
        #expect(text.stdout.contains("peer 3 inbound  127.0.0.1:40000 /rusty:0.1.0/"), "\(text.stdout)")
        let json = try Rusty.run(["node", "--status", "--json", "--datadir", datadir.path], timeout: 60)
        #expect(json.status == 0, "\(json.stderr)")
        let status = json.json["status"] as? [String: Any]
        #expect(status?["height"] as? Int == 42 && status?["state"] as? String == "syncing-blocks")
        #expect(status?["startedAt"] as? String == "2026-11-30T09:00:00.000Z")
        #expect(json.json["datadir"] as? String == directory)
        // The document is NodeStatusOutput's, and encodes back to the same bytes.
        let output = try JSONOutputTests.roundTrip(NodeStatusOutput.self, json.stdout)
        #expect(output.status == Self.status(pid: getpid(), state: .syncingBlocks) && output.statusFile == directory + "/node-status.json")
    }

    @Test("configuration errors: a bad option is a usage error (64); a missing --conf or a bad rusty.conf line exits 1 naming it")
    func configurationErrors() throws {
        let datadir = Rusty.temporary("node-conf")
        defer { try? FileManager.default.removeItem(at: datadir) }
        let usage = try Rusty.run(["node", "--status", "--datadir", datadir.path, "--maxconnections", "0"], timeout: 60)
        #expect(usage.status == 64 && usage.stderr.hasPrefix("rusty: invalid value '0' for --maxconnections: expected an integer 1...1000\n"), "\(usage.stderr)")
        #expect(usage.stderr.contains("\nUsage: rusty node "), "\(usage.stderr)")
        let missing = datadir.path + "/missing.conf"
        let noFile = try Rusty.run(["node", "--status", "--datadir", datadir.path, "--conf", missing], timeout: 60)
        #expect(noFile.status == 1 && noFile.stderr == "rusty: \(missing): No such file or directory\n", "\(noFile.stderr)")
        try FileManager.default.createDirectory(at: datadir, withIntermediateDirectories: true)
        try "# settings\nmaxconnection=5\n".write(toFile: datadir.path + "/rusty.conf", atomically: true, encoding: .utf8)
        let badKey = try Rusty.run(["node", "--status", "--datadir", datadir.path], timeout: 60)
        #expect(badKey.status == 1 && badKey.stderr == "rusty: \(datadir.path)/rusty.conf:2: unknown key 'maxconnection'\n", "\(badKey.stderr)")
        let environment = try runProcess(URL(fileURLWithPath: "/usr/bin/env"),
                                         ["RUSTY_DBCACHE=lots", TestPaths.rustyExecutable.path, "node", "--status", "--datadir", datadir.path, "--conf", "/dev/null"],
                                         timeout: 60)
        #expect(environment.status == 1 && environment.stderrText == "rusty: RUSTY_DBCACHE: invalid value 'lots' for dbcache: expected an integer 1...1048576\n",
                "\(environment.stderrText)")
        let json = try Rusty.run(["node", "--json", "--datadir", datadir.path], timeout: 60)
        #expect(json.status == 64 && json.stderr.contains("--json goes with --status"), "\(json.stderr)")
    }

    @Test("the daemon's errors: a datadir in use reads as for every command ('DATADIR: in use by another process', exit 1)")
    func daemonErrors() {
        let inUse = NodeCommand.failure(for: ChainStateError.inUse(directory: "/data/regtest")) as? CommandFailure
        #expect(inUse?.status == .invalid && inUse?.message == "/data/regtest: in use by another process")
        struct Refused: Error, CustomStringConvertible { var description: String { "port 29373: Address already in use" } }
        let other = NodeCommand.failure(for: Refused()) as? CommandFailure
        #expect(other?.status == .invalid && other?.message == "port 29373: Address already in use")
        #expect(NodeCommand.failure(for: ExitStatus.terminated.code) as? ExitCode == ExitStatus.terminated.code)
    }

    @Test("only the options given reach resolve as flags, booleans as 1/0 and repeated options as lists")
    func givenOptionsOnly() throws {
        let command = try NodeCommand.parse(["--no-listen", "--bind", "127.0.0.1:1", "--bind", "[::1]:2", "--maxconnections", "5",
                                             "--handshaketimeout", "0.5", "--printtoconsole", "--network", "regtest"])
        #expect(command.flags == ["listen": ["0"], "bind": ["127.0.0.1:1", "[::1]:2"], "maxconnections": ["5"], "handshaketimeout": ["0.5"],
                                  "printtoconsole": ["1"], "network": ["regtest"]])
        #expect(try NodeCommand.parse([]).flags.isEmpty)
        let configuration = try NodeConfiguration.resolve(flags: command.flags.merging(["datadir": ["/nonexistent-rusty-root"]]) { $1 },
                                                          environment: [:], configFile: nil, standardErrorIsTerminal: false)
        #expect(!configuration.listen && configuration.printToConsole && configuration.timeouts.handshake == 0.5)
        #expect(configuration.bind.map(\.port) == [1, 2] && configuration.maxConnections == 5 && configuration.network == .regtest)
    }

    @Test("end to end: a datadir in use by mine is named (exit 1); then a node runs on it, --status reports it, SIGTERM stops it and --status says so")
    func runningNode() throws {
        let root = Rusty.temporary("node-run")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.path + "/regtest"
        let node = ["node", "--datadir", root.path, "--network", "regtest", "--port", "0", "--bind", "127.0.0.1", "--rpcport", "0",
                    "--no-printtoconsole"]
        // The node's chain state is the directory other commands take as --datadir.
        let miner = try Background(["mine", "--datadir", directory, "--backend", "scalar", "--key", String(repeating: "11", count: 32)])
        #expect(Background.waitFor(30) { miner.stdout.contains("accepted block") }, "\(miner.stderr)")
        let busy = try Rusty.run(node, timeout: 60)
        #expect(busy.status == 1 && busy.stderr == "rusty: \(directory): in use by another process\n", "\(busy.stderr)")
        miner.stop(SIGINT)
        #expect(miner.process.terminationStatus == 0)

        let running = try Background(node)
        defer { running.stop() }
        #expect(Background.waitFor(30) { (try? Rusty.run(["node", "--status", "--datadir", root.path, "--network", "regtest"]).status) == 0 },
                "\(running.stderr)")
        let status = try Rusty.run(["node", "--status", "--json", "--datadir", root.path, "--network", "regtest"], timeout: 60)
        let document = status.json["status"] as? [String: Any]
        #expect(document?["pid"] as? Int == Int(running.process.processIdentifier) && (document?["height"] as? Int ?? 0) >= 1,
                "\(status.stdout)")
        running.stop(SIGTERM, timeout: 60)
        #expect(running.process.terminationReason == .exit, "\(running.stderr)")
        let after = try Rusty.run(["node", "--status", "--datadir", root.path, "--network", "regtest"], timeout: 60)
        #expect(after.status == 1 && after.stderr.hasPrefix("rusty: no node is running on \(directory) (the last one, pid \(running.process.processIdentifier), was stopped"),
                "\(after.stderr)")
        #expect(try String(contentsOfFile: directory + "/debug.log", encoding: .utf8).contains(" INFO [p2p] listening on 127.0.0.1:"))
    }
}
