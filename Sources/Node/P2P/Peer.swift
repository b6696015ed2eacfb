// One connection's state, owned by the peer manager (touched on its event loop only).

import AddressBook
import Foundation
import NIOCore
import Primitives
import Wire

/// Loop-confined (see `PeerManager`); marked Sendable so the loop's closures can carry it.
final class Peer: @unchecked Sendable {
    enum Kind: String {
        /// Chosen from the address manager.
        case outbound
        /// `--connect` or `--addnode`: kept connected, never evicted.
        case manual
        /// `--seednode`: connect, ask for addresses, disconnect.
        case seed
        case inbound
    }

    let id: Int
    let channel: Channel
    let kind: Kind
    let endpoint: PeerEndpoint
    let connectedAt: Double
    /// The nonce of our version message (self-connection detection).
    let ourNonce: UInt64

    var isInbound: Bool { kind == .inbound }
    var version: VersionMessage?
    var gotVerack = false
    var handshakeDone: Bool { version != nil && gotVerack }
    var disconnecting = false

    // Sync.
    var bestKnownHeight: UInt64 = 0
    var sendHeaders = false
    /// A getheaders is outstanding since this time.
    var headersRequestedAt: Double?
    /// The peer's best height when a headers sync with it last ended with nothing new for
    /// us (its best chain is one we refuse, e.g. below a chain lock): not asked again until it
    /// announces more.
    var headersExhaustedAt: UInt64?
    var unconnectingHeaders = 0
    var presync: HeaderPresync?
    var unrequestedBlocks = 0
    var knownBlocks = BoundedSet<Hash256>(capacity: 4096)

    // Transactions (TransactionRelay.swift).
    /// wtxids the peer has (it announced or sent them, or we announced them to it).
    var knownTransactions = BoundedSet<Hash256>(capacity: 5000)
    /// The peer's `feefilter`: nothing below it is announced to it.
    var feeFilter: UInt64 = 0
    /// The version's `relay`: false, nothing is announced to it.
    var relayTransactions = true
    /// wtxids waiting for the next trickled `inv` (bounded: `PeerManager.maxAnnouncementQueue`).
    var announcementQueue = Set<Hash256>()
    /// When the next trickled `inv` may go (monotonic seconds; nil before the handshake, and
    /// for inbound peers, who share `TransactionRelayState.nextInboundTrickleAt`).
    var nextTrickleAt: Double?
    /// wtxids announced to the peer and txids of those transactions' parents it may ask
    /// for: what `getdata` may fetch from the pool (Bitcoin Core's recently announced invs).
    var servableTransactions = BoundedSet<Hash256>(capacity: 5000)
    /// When the peer's last `mempool` request was taken (monotonic seconds; one per 30 s).
    var lastMempoolRequestAt: Double?
    /// A `mempool` request waits for the peer's next trickle (TransactionServing.swift).
    var mempoolRequested = false
    /// The pool's clock when the last `mempool` answer was taken: what entered the pool
    /// before then may be fetched; of what entered in that second or after, only what the
    /// answer listed (`mempoolAnswerLastSecond`).
    var mempoolAnswerPoolTime: UInt64?
    var mempoolAnswerLastSecond = Set<Hash256>()
    /// The answer's wtxids still to send, from `mempoolAnswerNext`, while the connection is writable.
    var mempoolAnswer: [Hash256] = []
    var mempoolAnswerNext = 0
    /// Relayed transactions of this peer waiting for acceptance, and their bytes (its share).
    var transactionsWaiting = 0
    var transactionBytesWaiting = 0
    /// Our last `feefilter` to the peer, and when the next may go.
    var feeFilterSent: UInt64?
    var nextFeeFilterAt: Double = 0

    // Serving getdata, one item at a time while the connection stays writable.
    var pendingGetData: [InventoryItem] = []
    var pendingGetDataStart = 0
    var serving = false

    // Masternode authentication (PeerManager+Masternodes.swift).
    /// The challenge we sent after the handshake (answered by a masternode peer's `mnauth`).
    var challengeSent: [UInt8]?
    /// The peer's challenge to us; answered when this node is a READY masternode.
    var challengeReceived: [UInt8]?
    var answeredChallenge = false
    var gotMasternodeAuth = false
    /// An `mnauth` this node could not verify while the peer's chain was ahead of its own
    /// (its list may lack the masternode yet): verified again as the tip advances.
    var pendingMasternodeAuth: MasternodeAuth?
    /// Set once the peer proved it holds a valid masternode's operator key.
    var masternode: AuthenticatedMasternode?

    // Liveness.
    var pingNonce: UInt64?
    var pingSentAt: Double = 0
    var lastPingMillis: Double?
    var minPingMillis: Double?

    // Addresses.
    var addressTokens = RateLimiter(burst: 1000, perSecond: 0.1)
    var inventoryTokens = RateLimiter(burst: 50_000, perSecond: 10_000)
    var addressOverruns = 0
    var answeredGetAddr = false
    var gotAddresses = false

    // Eviction inputs and counters.
    var lastBlockAt: Double = 0
    var lastTransactionAt: Double = 0
    var bytesReceived = 0
    var bytesSent = 0
    /// Bytes by message command (getpeerinfo's bytessent_per_msg / bytesrecv_per_msg).
    var bytesSentByCommand: [String: UInt64] = [:]
    var bytesReceivedByCommand: [String: UInt64] = [:]
    /// Unix seconds of the last message each way (0: none yet).
    var lastSendAt: UInt64 = 0
    var lastReceiveAt: UInt64 = 0
    /// The peer's clock minus ours when its version message came (seconds).
    var timeOffset: Int64 = 0

    init(id: Int, channel: Channel, kind: Kind, endpoint: PeerEndpoint, connectedAt: Double, ourNonce: UInt64) {
        self.id = id
        self.channel = channel
        self.kind = kind
        self.endpoint = endpoint
        self.connectedAt = connectedAt
        self.ourNonce = ourNonce
    }

    var userAgent: String { version?.userAgent ?? "" }
    var label: String { "peer \(id) (\(endpoint), \(kind.rawValue))" }
}

/// A peer proven to be a masternode: its registration and the operator key that signed.
struct AuthenticatedMasternode {
    let proTxHash: Hash256
    let operatorKey: [UInt8]
}

/// A set that forgets its oldest members past `capacity` (what a peer is known to have:
/// bounded whatever it announces).
struct BoundedSet<Element: Hashable> {
    private var members = Set<Element>()
    private var order: [Element] = []
    private var head = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    func contains(_ element: Element) -> Bool { members.contains(element) }

    mutating func insert(_ element: Element) {
        guard members.insert(element).inserted else { return }
        order.append(element)
        if members.count > capacity {
            members.remove(order[head])
            head += 1
            if head > capacity { order.removeFirst(head); head = 0 }
        }
    }

    var count: Int { members.count }
}

/// A token bucket: `burst` tokens, refilled at `perSecond`.
struct RateLimiter {
    private var tokens: Double
    private var updatedAt: Double?
    let burst: Double
    let perSecond: Double

    init(burst: Double, perSecond: Double) {
        self.burst = burst
        self.perSecond = perSecond
        tokens = burst
    }

    /// Takes up to `count` tokens; returns how many were available.
    mutating func take(_ count: Int, now: Double) -> Int {
        if let updatedAt { tokens = min(burst, tokens + max(0, now - updatedAt) * perSecond) }
        updatedAt = now
        let granted = min(Double(count), tokens.rounded(.down))
        tokens -= granted
        return Int(granted)
    }
}
