import ChainParams
import Foundation
import Logging
import Mempool
import Primitives

/// Every setting of `rusty node`, resolved from the command line, the environment and
/// `rusty.conf` (DESIGN section 9). The names are bitcoind's where the setting exists there.
public struct NodeConfiguration: Sendable, Equatable {
    public enum Network: String, CaseIterable, Sendable {
        case mainnet, testnet, regtest

        /// The `rusty.conf` section whose keys apply only to this network (bitcoind's names).
        public var sectionName: String {
            switch self {
            case .mainnet: return "main"
            case .testnet: return "test"
            case .regtest: return "regtest"
            }
        }
    }

    /// The signature backend, as `verify-chain --backend` takes it.
    public enum Backend: String, CaseIterable, Sendable {
        case auto, scalar, simd, avx2, avx512ifma, opencl
    }

    /// Test-sized timing of the peer protocol (hidden options), in seconds.
    public struct Timeouts: Sendable, Equatable {
        /// From connection to a completed version/verack exchange.
        public var handshake: Double = 60
        /// Between pings on an idle connection.
        public var pingInterval: Double = 120
        /// A ping unanswered this long disconnects the peer.
        public var pingTimeout: Double = 1200
        /// A requested block not delivered this long frees the peer's download slots.
        public var blockStall: Double = 2
        /// How long a misbehaving peer's address stays banned.
        public var banDuration: Double = 86_400
        public init() {}
    }

    /// The JSON-RPC server (bitcoind's rpc* settings).
    public struct RPC: Sendable, Equatable {
        /// Serve RPC at all (`server`, default yes).
        public var enabled = true
        /// The port for `rpcbind` addresses without one (default the network's `ports.rpc`; 0: any free port).
        public var port: UInt16
        /// Addresses to listen on (default 127.0.0.1 only).
        public var bind: [Endpoint]
        /// Clients allowed besides loopback (`rpcallowip`: an address or a subnet).
        public var allowIP: [String] = []
        public var user: String?
        public var password: String?
        /// `USER:SALT$HASH` lines (scripts/rpcauth.py makes them).
        public var auth: [String] = []
        /// Where the cookie is written (default `<networkDirectory>/.cookie`).
        public var cookieFile: String
        /// Requests answered at once before new ones get HTTP 503.
        public var workQueue = 64
        /// Seconds a request may take to arrive, and an idle connection may stay open.
        public var timeout: Double = 30
    }

    public var network: Network = .mainnet
    /// The datadir root (`--datadir`, default `~/.rusty`); the network's files are in `networkDirectory`.
    public var datadir: String
    /// The configuration file that was read (nil when the default one does not exist).
    public var configFile: String?
    /// Accept inbound connections (default: yes, unless `connect` is given).
    public var listen = true
    /// The port to listen on (default the network's `ports.p2p`; 0 picks a free port).
    public var port: UInt16
    /// Addresses to listen on (default 0.0.0.0); one without a port uses `port`.
    public var bind: [Endpoint]
    /// When not empty, the only peers connected to (no address manager, no seeds).
    public var connect: [Endpoint] = []
    /// Peers kept connected beside the automatic ones.
    public var addnode: [Endpoint] = []
    /// Peers asked once for addresses, then disconnected.
    public var seednode: [Endpoint] = []
    public var maxConnections = 125
    /// Outbound slots within `maxConnections` (the daemon uses the smaller of the two).
    public var maxOutbound = 8
    public var backend: Backend = .auto
    /// Signature verification threads (nil: all cores).
    public var threads: Int?
    /// UTXO cache size in MiB.
    public var dbcacheMiB = 256
    public var logLevel: Logger.Level = .info
    /// Log to standard error too (default: when standard error is a terminal).
    public var printToConsole: Bool
    /// The log file (default `<networkDirectory>/debug.log`; a relative path is taken from there).
    public var debugLogFile: String
    public var timeouts = Timeouts()
    /// Overrides the network's minimum chain work for initial sync (hidden, for tests).
    public var minimumChainWork: UInt256?
    public var rpc: RPC
    /// Keep the transaction index (`txindex`), so any transaction can be looked up.
    public var txindex = false
    /// Do not load the wallet even when the datadir has one.
    public var disableWallet = false
    /// The mempool's policy: the network's defaults (Config/NETWORK.json `relayPolicy`) with
    /// the mempool flags applied.
    public var mempoolPolicy: MempoolPolicy
    /// Save mempool.dat at shutdown and load it at start.
    public var persistMempool = true
    /// Mean seconds between transaction announcements to a peer (nil: 5 inbound, 2 outbound).
    public var trickleInterval: Double?
    /// Mean seconds between `feefilter` messages to a peer (nil: 600).
    public var feeFilterInterval: Double?
    /// The Stratum pool server (off by default).
    public var stratum: StratumConfiguration
    /// `--masternode` and its operator key file.
    public var masternode = MasternodeConfiguration()

    /// `<datadir>/<network>`: chain state, block files, peers, logs, status (bitcoind's layout).
    /// It is also the `--datadir` of `verify-chain`, `utxo-info` and `mine` for that network.
    public var networkDirectory: String { datadir + "/" + network.rawValue }
    /// The status file the daemon rewrites every second (`rusty node --status` reads it).
    public var statusFile: String { networkDirectory + "/node-status.json" }

    /// The defaults for `network` under `datadir` (an absolute path).
    public init(network: Network = .mainnet, datadir: String, printToConsole: Bool = false) throws {
        self.network = network
        self.datadir = datadir
        self.printToConsole = printToConsole
        port = try Self.parameters(network).ports.p2p
        bind = [try Endpoint("0.0.0.0", defaultPort: port, allowPortZero: true)]
        debugLogFile = datadir + "/" + network.rawValue + "/debug.log"
        mempoolPolicy = MempoolPolicy(try Self.parameters(network).relayPolicy)
        stratum = try StratumConfiguration(port: try Self.parameters(network).ports.stratum)
        let rpcPort = try Self.parameters(network).ports.rpc
        rpc = RPC(port: rpcPort, bind: [try Endpoint("127.0.0.1", defaultPort: rpcPort, allowPortZero: true)],
                  cookieFile: datadir + "/" + network.rawValue + "/.cookie")
    }

    /// The network's built-in chain parameters.
    public static func parameters(_ network: Network) throws -> ChainParameters {
        try ChainParameters.builtIn(network.rawValue)
    }
}

/// A setting that could not be used, named with where it came from: `PATH:LINE: ...` for
/// the configuration file, `RUSTY_KEY: ...` for the environment, `--key` for a flag.
public struct NodeConfigurationError: Error, CustomStringConvertible, Equatable {
    public enum Origin: Sendable, Equatable {
        /// A command-line flag: a usage error.
        case flag
        case environment
        /// The configuration file (or its absence when given explicitly).
        case file
    }

    public let origin: Origin
    public let message: String
    public var description: String { message }

    public init(_ origin: Origin, _ message: String) {
        self.origin = origin
        self.message = message
    }
}
