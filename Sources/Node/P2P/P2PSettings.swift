// The P2P layer's settings, resolved by the node from its configuration.

import AddressBook
import Masternodes
import Primitives

public struct P2PSettings: Sendable {
    /// Accept inbound connections on each `bind` address (host and port).
    public var listen = true
    public var bind: [Listener] = []
    /// The port this node advertises and treats as its own.
    public var port: Int
    /// Only these peers (no address manager, no other outbound).
    public var connect: [PeerEndpoint] = []
    /// Kept connected beside the automatic outbound connections.
    public var addnode: [PeerEndpoint] = []
    /// Bootstrap nodes: connect, ask for addresses, disconnect.
    public var seednode: [PeerEndpoint] = []
    /// The network's built-in seed list (Config/), used when the address manager is empty.
    public var fixedSeeds: [PeerEndpoint] = []
    public var maxConnections = 125
    public var maxOutbound = 8
    public var handshakeTimeout = 60.0
    public var pingInterval = 120.0
    public var pingTimeout = 1200.0
    /// A peer holding up the download window's first block this long loses its slots.
    public var stallTimeout = 2.0
    /// Any single block request older than this disconnects its peer.
    public var blockTimeout = 60.0
    /// An unanswered getheaders older than this disconnects the peer.
    public var headersTimeout = 120.0
    /// Seconds between attempts to reach a `--connect`/`--addnode` peer.
    public var reconnectInterval = 2.0
    /// How long a `setban` lasts by default, and misbehaviour's discouragement is remembered.
    public var banSeconds = 86_400.0
    /// During initial sync, a header chain with at least this much work is stored even when it
    /// does not beat the tip yet (zero: only work beyond the tip counts).
    public var minimumChainWork = UInt256.zero
    /// Regtest: loopback and private addresses are peers like any (test networks on one host).
    public var allowLocalAddresses = false
    public var userAgent = "/rusty:0.1.0/"
    /// Bytes of downloaded blocks waiting for the verifier (besides the scheduler's own bound).
    public var importBufferBytes = 64 << 20
    /// Mean seconds between transaction announcements to one peer (Poisson-distributed, per
    /// peer, as Bitcoin Core does to hide where a transaction came from): inbound peers wait
    /// longer than outbound ones, whom we chose.
    public var inboundTrickleInterval = 5.0
    public var outboundTrickleInterval = 2.0
    /// Mean seconds between `feefilter` messages to one peer while the pool's minimum fee stays put.
    public var feeFilterInterval = 600.0
    /// Once the pool's minimum fee moved by more than a third, the next `feefilter` goes
    /// within this many seconds (uniformly drawn) instead of waiting for the interval.
    public var maxFeeFilterChangeDelay = 60.0

    /// `--masternode`: this node's operator keys (it authenticates to peers once READY).
    public var operatorKeys: OperatorKeys?
    /// Seconds between announcing a new block to authenticated masternode peers and to
    /// the others (only when there are masternode peers; zero: right after them).
    public var masternodeRelayDelay = 0.0

    public struct Listener: Sendable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) { (self.host, self.port) = (host, port) }
    }

    /// Listening on all IPv4 addresses at `port` unless `bind` says otherwise.
    public init(port: Int) {
        self.port = port
        bind = [Listener(host: "0.0.0.0", port: port)]
    }

    /// Inbound slots: what the outbound ones leave.
    var maxInbound: Int { max(0, maxConnections - maxOutbound) }
}
