import ArgumentParser
import ChainState
import Foundation
import Node
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run the network node, or report on a running one (--status).",
        discussion: """
            Files live in DATADIR/NETWORK (bitcoind's layout): the chain state and block files (the same directory \
            `verify-chain --datadir DATADIR/NETWORK` uses), debug.log, node-status.json. Settings come from, in order of \
            precedence: the options given here, the environment (RUSTY_KEY, e.g. RUSTY_MAXCONNECTIONS=40; lists separated \
            by commas), the configuration files (DATADIR/NETWORK/rusty.conf over DATADIR/rusty.conf, or only --conf): `key=value` lines with the options' names, \
            a key repeated for a list, `[main]`, `[test]` and `[regtest]` sections applying to one network, `regtest=1` \
            or `network=NAME` at the top choosing the network. SIGINT or SIGTERM stops the node gracefully. \
            --status: exit 0 when a node is running on the datadir, 1 when none is.
            """
    )

    @Option(help: "Data directory root; the network's files are in DATADIR/NETWORK (default: ~/.rusty).")
    var datadir: String?

    @Option(help: "Network: mainnet, testnet, regtest (default: mainnet).")
    var network: String?

    @Option(help: "Configuration file (default: DATADIR/rusty.conf when it exists).")
    var conf: String?

    @Flag(inversion: .prefixedNo, help: "Accept inbound connections (default: yes, unless --connect is given).")
    var listen: Bool?

    @Option(help: "Port to listen on (default: the network's P2P port; 0: any free port).")
    var port: Int?

    @Option(help: "Address to listen on, HOST[:PORT] or [IPV6][:PORT] (repeatable; default: 0.0.0.0).")
    var bind: [String] = []

    @Option(help: "Connect only to this peer, HOST[:PORT] (repeatable).")
    var connect: [String] = []

    @Option(help: "Keep a connection to this peer, HOST[:PORT] (repeatable).")
    var addnode: [String] = []

    @Option(help: "Ask this peer for addresses once, HOST[:PORT] (repeatable).")
    var seednode: [String] = []

    @Option(name: .customLong("maxconnections"), help: "Most connections, inbound and outbound (default: 125).")
    var maxConnections: Int?

    @Option(name: .customLong("maxoutbound"), help: .hidden)
    var maxOutbound: Int?

    @Option(help: "Signature backend: auto, scalar, simd, avx2, avx512ifma, opencl (default: auto).")
    var backend: String?

    @Option(help: "Signature verification threads (default: all cores).")
    var threads: Int?

    @Option(help: "UTXO cache size in MiB (default: 256).")
    var dbcache: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: info).")
    var loglevel: String?

    @Flag(inversion: .prefixedNo, help: "Log to standard error too (default: when standard error is a terminal).")
    var printtoconsole: Bool?

    @Option(help: "Log file; a relative path is taken from DATADIR/NETWORK (default: DATADIR/NETWORK/debug.log).")
    var debuglogfile: String?

    // Test-sized protocol timing, in seconds, and the initial-sync work threshold.
    @Option(help: .hidden) var handshaketimeout: Double?
    @Option(help: .hidden) var pinginterval: Double?
    @Option(help: .hidden) var pingtimeout: Double?
    @Option(help: .hidden) var blockstalltimeout: Double?
    @Option(help: .hidden) var bantime: Double?
    @Option(help: .hidden) var minimumchainwork: String?

    @Flag(inversion: .prefixedNo, help: "Serve JSON-RPC (default: yes).")
    var server: Bool?

    @Option(help: "Port of the JSON-RPC server (default: the network's RPC port; 0: any free port).")
    var rpcport: Int?

    @Option(help: "Address for the JSON-RPC server, HOST[:PORT] (repeatable; default 127.0.0.1). Beyond loopback it needs --rpcallowip and --rpcauth or --rpcuser/--rpcpassword.")
    var rpcbind: [String] = []

    @Option(help: "Allow JSON-RPC clients from this address or subnet, e.g. 10.0.0.0/8 (repeatable; loopback always).")
    var rpcallowip: [String] = []

    @Option(help: "JSON-RPC user name (with --rpcpassword; default: the cookie file).")
    var rpcuser: String?

    @Option(help: "JSON-RPC password (with --rpcuser).")
    var rpcpassword: String?

    @Option(help: "JSON-RPC credentials USER:SALT$HASH, from scripts/rpcauth.py (repeatable).")
    var rpcauth: [String] = []

    @Option(help: "Where to write the RPC cookie (default DATADIR/NETWORK/.cookie).")
    var rpccookiefile: String?

    @Option(help: "JSON-RPC requests answered at once before new ones get HTTP 503 (default 64).")
    var rpcworkqueue: Int?

    @Option(help: "Seconds a JSON-RPC request may take to arrive, and an idle connection may stay open (default 30).")
    var rpcservertimeout: Double?

    @Flag(inversion: .prefixedNo, help: "Keep an index of every transaction, for getrawtransaction (default: no).")
    var txindex: Bool?

    @Flag(help: "Do not load the wallet (DATADIR/NETWORK/wallet.dat).")
    var disablewallet = false

    @Option(help: "Mempool size bound in megabytes; past it the lowest fee-rate packages are evicted and the minimum fee rises (default: 300).")
    var maxmempool: Int?

    @Option(help: "Hours a transaction may stay in the mempool (default: 336).")
    var mempoolexpiry: Int?

    @Option(help: "Minimum fee rate, RUST per kvB, to enter the mempool and be relayed (default: 0.00001).")
    var minrelaytxfee: String?

    @Option(help: "Fee rate, RUST per kvB, a replacement pays for its own size, and the step of the rising minimum (default: 0.00001).")
    var incrementalrelayfee: String?

    @Option(help: "Most unconfirmed ancestors of a transaction, itself included (default: 25).")
    var limitancestorcount: Int?

    @Option(help: "Most kilobytes of a transaction with its unconfirmed ancestors (default: 101).")
    var limitancestorsize: Int?

    @Option(help: "Most in-mempool descendants of a transaction, itself included (default: 25).")
    var limitdescendantcount: Int?

    @Option(help: "Most kilobytes of a transaction with its in-mempool descendants (default: 101).")
    var limitdescendantsize: Int?

    @Option(help: "Most orphan transactions kept waiting for a parent (default: 100).")
    var maxorphantx: Int?

    @Flag(inversion: .prefixedNo, help: "Save the mempool to DATADIR/NETWORK/mempool.dat at shutdown and load it at start (default: yes).")
    var persistmempool: Bool?

    @Flag(inversion: .prefixedNo, help: "Run the Stratum v1 pool server (needs --stratumaddress) (default: no).")
    var stratum: Bool?

    @Option(help: "Port of the Stratum server (default: the network's, 3373 on mainnet; 0: any free port).")
    var stratumport: Int?

    @Option(help: "Address the Stratum server listens on (default: 0.0.0.0).")
    var stratumbind: String?

    @Option(help: "Address of this network the pool's blocks pay (required with --stratum).")
    var stratumaddress: String?

    @Option(help: "Initial share difficulty of a Stratum connection, relative to the network's easiest block (default: 1024).")
    var stratumdifficulty: Double?

    @Option(help: "Lowest share difficulty variable difficulty may set (default: 1; equal to the maximum pins it).")
    var stratummindifficulty: Double?

    @Option(help: "Highest share difficulty variable difficulty may set (default: 1e15).")
    var stratummaxdifficulty: Double?

    @Option(help: "Shares per second per Stratum connection variable difficulty aims at (default: 3).")
    var stratumsharerate: Double?

    @Option(help: "Most Stratum connections at once (default: 10000; at most 65536, one nonce prefix each).")
    var stratummaxconnections: Int?

    @Option(help: "Most Stratum connections from one IP address, loopback included (default: 64; a farm behind one address may need more).")
    var stratummaxconnectionsperip: Int?

    // Test-sized relay timing, in seconds: mean delay of transaction announcements, of feefilter updates.
    @Option(help: .hidden) var trickleinterval: Double?
    @Option(help: .hidden) var feefilterinterval: Double?

    @Flag(inversion: .prefixedNo, help: "Run as a masternode: authenticate to peers with the operator key once registered (needs --operator-key-file) (default: no).")
    var masternode: Bool?

    @Option(name: [.customLong("operator-key-file"), .customLong("operatorkeyfile")],
            help: "The masternode's operator key file (rusty masternode keygen --out FILE; mode 0600).")
    var operatorKeyFile: String?

    // Test-sized: milliseconds between a block's announcement to masternode peers and to the others.
    @Option(help: .hidden) var masternoderelaydelay: Int?

    @Flag(help: "Report on the node running on the datadir (its node-status.json) instead of starting one.")
    var status = false

    @Flag(help: "With --status: print JSON.")
    var json = false

    func validate() throws {
        if json && !status { throw ValidationError("--json goes with --status") }
    }

    /// Only the options given on the command line, so the environment and rusty.conf can set the others.
    var flags: [String: [String]] {
        var flags = [String: [String]]()
        func set(_ key: String, _ value: (some CustomStringConvertible)?) {
            if let value { flags[key] = [value.description] }
        }
        set("datadir", datadir)
        set("network", network)
        set("conf", conf)
        set("listen", listen.map { $0 ? "1" : "0" })
        set("port", port)
        for (key, values) in [("bind", bind), ("connect", connect), ("addnode", addnode), ("seednode", seednode)] where !values.isEmpty {
            flags[key] = values
        }
        set("maxconnections", maxConnections)
        set("maxoutbound", maxOutbound)
        set("backend", backend)
        set("threads", threads)
        set("dbcache", dbcache)
        set("loglevel", loglevel)
        set("printtoconsole", printtoconsole.map { $0 ? "1" : "0" })
        set("debuglogfile", debuglogfile)
        set("handshaketimeout", handshaketimeout)
        set("pinginterval", pinginterval)
        set("pingtimeout", pingtimeout)
        set("blockstalltimeout", blockstalltimeout)
        set("bantime", bantime)
        set("minimumchainwork", minimumchainwork)
        set("server", server.map { $0 ? "1" : "0" })
        set("rpcport", rpcport)
        for (key, values) in [("rpcbind", rpcbind), ("rpcallowip", rpcallowip), ("rpcauth", rpcauth)] where !values.isEmpty {
            flags[key] = values
        }
        set("rpcuser", rpcuser)
        set("rpcpassword", rpcpassword)
        set("rpccookiefile", rpccookiefile)
        set("rpcworkqueue", rpcworkqueue)
        set("rpcservertimeout", rpcservertimeout)
        set("txindex", txindex.map { $0 ? "1" : "0" })
        if disablewallet { flags["disablewallet"] = ["1"] }
        set("maxmempool", maxmempool)
        set("mempoolexpiry", mempoolexpiry)
        set("minrelaytxfee", minrelaytxfee)
        set("incrementalrelayfee", incrementalrelayfee)
        set("limitancestorcount", limitancestorcount)
        set("limitancestorsize", limitancestorsize)
        set("limitdescendantcount", limitdescendantcount)
        set("limitdescendantsize", limitdescendantsize)
        set("maxorphantx", maxorphantx)
        set("persistmempool", persistmempool.map { $0 ? "1" : "0" })
        set("trickleinterval", trickleinterval)
        set("feefilterinterval", feefilterinterval)
        set("stratum", stratum.map { $0 ? "1" : "0" })
        set("stratumport", stratumport)
        set("stratumbind", stratumbind)
        set("stratumaddress", stratumaddress)
        set("stratumdifficulty", stratumdifficulty)
        set("stratummindifficulty", stratummindifficulty)
        set("stratummaxdifficulty", stratummaxdifficulty)
        set("stratumsharerate", stratumsharerate)
        set("stratummaxconnections", stratummaxconnections)
        set("stratummaxconnectionsperip", stratummaxconnectionsperip)
        set("masternode", masternode.map { $0 ? "1" : "0" })
        set("operatorkeyfile", operatorKeyFile)
        set("masternoderelaydelay", masternoderelaydelay)
        return flags
    }

    func run() throws {
        let configuration: NodeConfiguration
        do {
            configuration = try NodeConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment, configFile: nil)
        } catch let error as NodeConfigurationError {
            // A bad option is a usage error; a bad environment variable or file is a bad input.
            if error.origin == .flag { throw ValidationError(error.message) }
            throw CommandFailure(.invalid, error.message)
        }
        if status { return try report(configuration) }
        // The daemon stops gracefully through swift-service-lifecycle's signal handling, which
        // expects the default dispositions, not runMain's immediate exit.
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        do {
            let setup = try configuration.nodeSetup()
            for warning in setup.startupWarnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
            let logging = try NodeLogging.bootstrap(configuration)
            defer { logging.close() }
            let status = NodeStatusFileReporter(path: configuration.statusFile, logger: logging.logger("status"))
            try NodeDaemon.run(setup, logging: logging, status: status)
        } catch {
            throw Self.failure(for: error)
        }
    }

    /// The daemon's errors in the one error format: a datadir in use reads as it does for every
    /// other command (`DATADIR: in use by another process`, exit 1).
    static func failure(for error: Error) -> Error {
        if let state = error as? ChainStateError, case .inUse(let directory) = state {
            return CommandFailure(.invalid, "\(directory): in use by another process")
        }
        if error is ExitCode || error is CommandFailure { return error }
        return CommandFailure(.invalid, "\(error)")
    }

    /// `--status`: the status file of a live node, else the one clear error.
    func report(_ configuration: NodeConfiguration) throws {
        let directory = configuration.networkDirectory
        let current: NodeStatus?
        do {
            current = try NodeStatusFile.read(from: configuration.statusFile)
        } catch {
            throw CommandFailure(.invalid, "\(error)")
        }
        guard let current else { throw CommandFailure(.invalid, "no node is running on \(directory)") }
        guard current.state != .stopped, NodeStatusFile.isRunning(pid: current.pid) else {
            throw CommandFailure(.invalid, "no node is running on \(directory) (the last one, pid \(current.pid), was \(current.state.rawValue) "
                                 + "at height \(current.height), \(LogFormat.timestamp(current.updatedAt)))")
        }
        if json {
            try printJSON(NodeStatusOutput(datadir: directory, statusFile: configuration.statusFile, status: current))
        } else {
            print(Self.text(current, directory: directory))
        }
    }

    static func text(_ status: NodeStatus, directory: String) -> String {
        let progress = String(format: "%.2f%%", status.verificationProgress * 100)
        var lines = [
            "node pid \(status.pid) on \(directory) (\(status.network)): \(status.state.rawValue), started \(LogFormat.timestamp(status.startedAt))",
            "height \(status.height) of \(status.headers) headers (\(progress) verified), \(String(format: "%.1f", status.blocksPerSecond)) blocks/s",
            "tip \(status.tipHash)",
            "peers \(status.peers.count): \(status.inboundCount) inbound, \(status.outboundCount) outbound; received \(status.bytesReceived) bytes, sent \(status.bytesSent) bytes",
        ]
        if !status.listening.isEmpty { lines.append("listening on \(status.listening.joined(separator: ", "))") }
        for peer in status.peers {
            let ping = peer.pingMillis.map { String(format: ", ping %.1f ms", $0) } ?? ""
            lines.append("  peer \(peer.id) \(peer.inbound ? "inbound " : "outbound") \(peer.address) \(peer.userAgent) (version \(peer.version)): "
                         + "start height \(peer.startingHeight), synced \(peer.syncedHeight)\(ping)")
        }
        lines.append("updated \(LogFormat.timestamp(status.updatedAt))")
        return lines.joined(separator: "\n")
    }
}
