import ArgumentParser
import Foundation
import MiningClient

/// `rusty bench stratum`: the pool server's share throughput and latency under simulated miners.
struct BenchStratumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stratum",
        abstract: "Load a Stratum pool server with simulated miners: shares/s accepted and submit latency.",
        // Parsed on its own (see `routed`), so the usage names the whole command itself.
        usage: "rusty bench stratum --url <url> --user <user> [--password <password>] [--connections <connections>] "
            + "[--seconds <seconds>] [--in-flight <in-flight>] [--rate <rate>] [--threads <threads>] [--network <network>] [--json]",
        discussion: """
            Opens --connections connections to the pool (one event loop group of --threads threads); each \
            subscribes, authorizes as --user and then submits real shares of its current job back to back, \
            keeping --in-flight submits unanswered, solving them on the CPU (closed loop: the server's \
            throughput); with --rate, the connections submit that many shares per second in all instead \
            (open loop: the latency at that load). Shares that would also be blocks \
            are skipped, so the pool's share difficulty must be easier than the chain's (pin it, e.g. \
            --stratumdifficulty 0.5 --stratummindifficulty 0.5 --stratummaxdifficulty 0.5 on regtest). After \
            every connection has its first job, --seconds are measured: shares answered true per second, and \
            the latency of every submit -> answer (p50, p99, max). scripts/stratum-load.sh runs it against a \
            local regtest node.
            """
    )

    @Option(help: "The pool: stratum+tcp://HOST:PORT.")
    var url: String

    @Option(help: "The user name to authorize (ADDRESS or ADDRESS.worker).")
    var user: String

    @Option(help: "The password sent with mining.authorize.")
    var password = "x"

    @Option(help: "Simulated miners (connections).")
    var connections = 50

    @Option(help: "Seconds measured.")
    var seconds = 10.0

    @Option(name: .customLong("in-flight"), help: "Submits each connection keeps unanswered.")
    var inFlight = 4

    @Option(help: "Shares per second over all connections (open loop, to read the latency at that load); 0: back to back.")
    var rate = 0.0

    @Option(help: "Event loop threads.")
    var threads = 1

    @Option(help: "Network whose PoW limit is share difficulty 1: regtest, testnet or mainnet.")
    var network = "regtest"

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    func validate() throws {
        _ = try Self.endpoint(url)
        try checkCountRange("--connections", connections, 1...60_000)
        try checkCountRange("--in-flight", inFlight, 1...1_000)
        try checkCountRange("--threads", threads, 1...64)
        guard seconds.isFinite, (0.1...3_600).contains(seconds) else { throw ValidationError("--seconds must be 0.1...3600") }
        guard rate.isFinite, (0...10_000_000).contains(rate) else { throw ValidationError("--rate must be 0...10000000 shares/s") }
        guard !user.isEmpty else { throw ValidationError("--user must not be empty") }
    }

    /// `rusty bench stratum ...` parsed here: BenchCommand's positional section names would
    /// take "stratum" before ArgumentParser looks for a subcommand. nil for other commands.
    static func routed(_ arguments: [String]) throws -> (any ParsableCommand)? {
        guard arguments.count >= 2, arguments[0] == "bench", arguments[1] == configuration.commandName else { return nil }
        return try parseAsRoot(Array(arguments.dropFirst(2)))
    }

    /// HOST and PORT of a stratum+tcp URL.
    static func endpoint(_ url: String) throws -> (host: String, port: Int) {
        let scheme = "stratum+tcp://"
        guard url.hasPrefix(scheme) else { throw ValidationError("--url must start with \(scheme) (got '\(url)')") }
        let rest = url.dropFirst(scheme.count).split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]), (1...65_535).contains(port) else {
            throw ValidationError("--url needs a port 1...65535: stratum+tcp://HOST:PORT (got '\(url)')")
        }
        let host = rest[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard !host.isEmpty else { throw ValidationError("--url needs a host: stratum+tcp://HOST:PORT (got '\(url)')") }
        return (host, port)
    }

    func run() throws {
        let (host, port) = try Self.endpoint(url)
        let parameters = try consensusParameters(network)
        var settings = StratumLoadSettings(host: host, port: port, user: user, powLimit: parameters.powLimit)
        settings.password = password
        settings.connections = connections
        settings.seconds = seconds
        settings.inFlight = inFlight
        settings.threads = threads
        settings.rate = rate
        let report: StratumLoadReport
        do {
            report = try StratumLoad.run(settings)
        } catch {
            throw CommandFailure(.invalid, "bench stratum: \(error)")
        }
        if json {
            try printJSON(report)
            return
        }
        let rejected = report.rejected.sorted { $0.key < $1.key }.map { "\($0.value) x \($0.key)" }.joined(separator: ", ")
        let load = report.rate > 0 ? String(format: "open loop at %.0f shares/s, at most %d in flight each", report.rate, report.inFlight)
            : "\(report.inFlight) in flight each"
        print("stratum load: \(report.connections) connections, \(load), " + String(format: "%.1f s", report.seconds))
        print(String(format: "  accepted: %d shares, %.0f shares/s", report.accepted, report.sharesPerSecond))
        print("  rejected: \(rejected.isEmpty ? "none" : rejected)")
        print(String(format: "  latency:  p50 %.3f ms, p99 %.3f ms, max %.3f ms", report.latencyP50Milliseconds,
                     report.latencyP99Milliseconds, report.latencyMaxMilliseconds))
        print("  hashes:   \(report.hashes) (\(report.blocksSkipped) block solutions skipped), disconnects \(report.disconnects)"
              + (report.rate > 0 ? ", not sent (all in flight) \(report.missedShares)" : ""))
    }
}
