// The P2P core: connections, the version handshake, liveness, misbehaviour, and dispatch of
// each message to the sync, relay and address handlers (PeerManager+*.swift).

import AddressBook
import ChainState
import Consensus
import Dispatch
import Foundation
import Logging
import Masternodes
import Mempool
import NIOCore
import NIOPosix
import Primitives
import Verification
import Wire

/// Owns every peer. All of its state lives on one event loop (`loop`), which every channel
/// of the node also uses, so handlers call in directly and no lock guards the peer table;
/// work that may wait for the chain state's writer (headers, serving blocks) runs on
/// `chainQueue`/`servingQueue` and comes back with `loop.execute`.
public final class PeerManager: @unchecked Sendable {
    let loop: EventLoop
    let group: EventLoopGroup
    let chain: ChainService
    let parameters: ConsensusParameters
    let settings: P2PSettings
    let logger: Logger
    let addresses: AddressManager
    let bans: BanList
    let pool: TransactionPool
    let importer: BlockImporter
    let magic: [UInt8]

    var peers: [Int: Peer] = [:]
    private var nextPeerID = 1
    /// Outbound attempts in progress, by endpoint.
    var connecting: Set<PeerEndpoint> = []
    /// When each manual/seed endpoint was last tried.
    var lastAttempt: [PeerEndpoint: Double] = [:]
    var seedsTried = false
    var lastSeedRound: Double?
    var connectingOutbound = 0
    /// This node's own IPs as seen on its connections (so it never dials itself).
    var ownAddresses = Set<[UInt8]>()
    /// Endpoints found to be this node (a self-connection), not dialled again.
    var selfEndpoints = Set<PeerEndpoint>()
    /// Blocks connected since the last announcement (their headers go to `sendheaders` peers).
    var recentlyConnected: [Hash256] = []
    var scheduler: DownloadScheduler
    var headerSyncPeer: Int?
    /// Hashes handed to the importer and not yet connected, in order.
    var importing: [Hash256] = []
    var targetSequence: UInt64 = 0
    var lastTargetRefresh: Double = 0
    var listeners: [Channel] = []
    var timer: RepeatedTask?
    var stopping = false
    let chainQueue = DispatchQueue(label: "rusty.p2p.chain")
    let servingQueue = DispatchQueue(label: "rusty.p2p.serving")
    /// Relayed transactions on their way into the pool (Relay.swift).
    let transactionQueue = DispatchQueue(label: "rusty.p2p.transactions")
    var transactionsBeingAccepted = 0
    static let maxTransactionsBeingAccepted = 5_000
    /// Batches, announcements, parent requests (TransactionRelay.swift), on its own finer timer.
    var relay = TransactionRelayState()
    /// Quorum DKG and signing traffic between masternodes (Quorum/PeerManager+Quorum.swift).
    var quorumRelay = QuorumRelayState()
    /// A masternode's DKGs, shares and signing (Quorum/PeerManager+QuorumService.swift).
    var quorumService: QuorumNodeService?
    var relayTimer: RepeatedTask?
    var random = SystemRandomNumberGenerator()
    // Sync progress, for the log and the status file.
    var syncStartedAt: Double = 0
    var syncStartHeight: UInt64 = 0
    var lastProgressLog: Double = 0
    var lastLoggedHeight: UInt64 = 0
    var blocksPerSecond: Double = 0
    var rateSample: (time: Double, height: UInt64) = (0, 0)
    var totalBytesReceived = 0
    var totalBytesSent = 0
    /// Bytes by message command over every connection (metrics, PeerManager+Admin.swift).
    var bytesSentByCommand: [String: UInt64] = [:]
    var bytesReceivedByCommand: [String: UInt64] = [:]
    /// `--addnode` peers and those `addnode add` added: kept connected.
    var addedNodes: [PeerEndpoint]
    /// False after `setnetworkactive false`: no connections in or out until it is true again.
    var networkActive = true
    let startedAt = Date()
    /// `--masternode`: this node's operator identity and state (PeerManager+Masternodes.swift).
    var masternodeIdentity: MasternodeIdentity?
    /// The network's masternode numbers; nil when its parameters lack them (no authentication then).
    let masternodeParameters: MasternodeParameters?
    /// Chain locks seen, sent and waiting for their block (ChainLockRelay.swift).
    lazy var chainLocks = ChainLockRelayState(parameters: parameters)
    /// Signed governance execution records (Relay/GovernanceExecutionRelay.swift).
    lazy var governanceExecutions = GovernanceExecutionRelayState(parameters: parameters)

    public init(group: EventLoopGroup, chain: ChainService, parameters: ConsensusParameters, settings: P2PSettings, logger: Logger,
                addresses: AddressManager, bans: BanList, pool: TransactionPool, pipelineOptions: VerificationPipeline.Options) {
        self.group = group
        loop = group.next()
        self.chain = chain
        self.parameters = parameters
        self.settings = settings
        self.logger = logger
        self.addresses = addresses
        self.bans = bans
        self.pool = pool
        magic = parameters.magic
        addedNodes = settings.addnode
        masternodeParameters = try? MasternodeParameters(parameters.chain)
        masternodeIdentity = settings.operatorKeys.map(MasternodeIdentity.init(keys:))
        scheduler = DownloadScheduler(stallTimeout: settings.stallTimeout, blockTimeout: settings.blockTimeout)
        importer = BlockImporter(chain: chain, options: pipelineOptions, logger: logger)
        importer.onRunEnded = { [weak self] outcome in
            guard let self else { return }
            self.loop.execute { self.importRunEnded(outcome) }
        }
    }

    static var now: Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
    static var unixTime: UInt64 { UInt64(max(0, Date().timeIntervalSince1970)) }

    // MARK: - Start and stop

    /// Binds the listeners and starts connecting; returns once listening.
    public func start() async throws {
        importer.start()
        let snapshot = chain.snapshot
        syncStartHeight = snapshot.tipHeight
        lastLoggedHeight = snapshot.tipHeight
        rateSample = (Self.now, snapshot.tipHeight)
        if settings.listen {
            for listener in settings.bind {
                let (host, port) = (listener.host, listener.port)
                let channel: Channel
                do {
                    channel = try await ServerBootstrap(group: group, childGroup: group)
                    .serverChannelOption(ChannelOptions.backlog, value: 128)
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
                    .childChannelInitializer { [self] channel in
                        channel.eventLoop.makeCompletedFuture {
                            guard let id = self.acceptInbound(channel) else {
                                channel.close(promise: nil)
                                return
                            }
                            try self.addHandlers(channel, id: id)
                        }
                    }
                    .bind(host: host, port: port).get()
                } catch let error as IOError {
                    throw ListenError(address: "\(host):\(port)", reason: String(cString: strerror(error.errnoCode)))
                } catch {
                    throw ListenError(address: "\(host):\(port)", reason: "\(error)")
                }
                listeners.append(channel)
                logger.info("listening on \(channel.localAddress.flatMap(Self.describe) ?? "\(host):\(port)")")
            }
        }
        followTip()
        try await loop.submit {
            self.timer = self.loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(500)) { _ in self.tick() }
            self.relayTimer = self.loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { _ in
                self.relayTick()
            }
            self.refreshDownloadTarget()
            self.startMasternodeIdentity()
            self.quorumsFollowTip()
        }.get()
    }

    /// Closes every connection and listener and stops the importer (its current run ends
    /// at the next block); the caller flushes the chain state afterwards.
    public func stop() async {
        try? await loop.submit {
            self.stopping = true
            self.timer?.cancel()
            self.relayTimer?.cancel()
            for peer in self.peers.values { self.disconnect(peer, "node shutting down", level: .debug) }
        }.get()
        for listener in listeners { try? await listener.close() }
        importer.stop()
        // Let the closes run their handlers.
        try? await loop.submit {}.get()
    }

    func addHandlers(_ channel: Channel, id: Int) throws {
        // The decoder runs on the channel's loop, the manager's own (one thread), so it may read the scheduler.
        let decoder = WireFrameDecoder(magic: magic) { [weak self] in
            guard let self else { return false }
            self.loop.assertInEventLoop()
            return self.scheduler.inFlight(for: id) > 0
        }
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
        try channel.pipeline.syncOperations.addHandler(PeerChannelHandler(manager: self, id: id))
    }

    // MARK: - Connections

    /// A new inbound connection: refused when banned, or when full and no one can be evicted.
    func acceptInbound(_ channel: Channel) -> Int? {
        guard !stopping, networkActive, let endpoint = Self.endpoint(channel.remoteAddress) else { return nil }
        let now = Self.unixTime
        if bans.isBanned(endpoint.ip, now: now) {
            logger.info("refused inbound connection from \(endpoint): banned")
            return nil
        }
        let inbound = peers.values.filter(\.isInbound)
        if inbound.count >= settings.maxInbound {
            // A discouraged address never pushes someone else out.
            guard !bans.isDiscouraged(endpoint.ip), let victim = evictionCandidate(inbound) else {
                logger.info("refused inbound connection from \(endpoint): no free inbound slot")
                return nil
            }
            disconnect(victim, "evicted to make room for an inbound connection")
        }
        return register(channel, kind: .inbound, endpoint: endpoint)
    }

    func register(_ channel: Channel, kind: Peer.Kind, endpoint: PeerEndpoint) -> Int {
        let id = nextPeerID
        nextPeerID += 1
        peers[id] = Peer(id: id, channel: channel, kind: kind, endpoint: endpoint, connectedAt: Self.now,
                         ourNonce: UInt64.random(in: 1...UInt64.max, using: &random))
        return id
    }

    /// Opens an outbound connection to `endpoint` (already checked against bans and duplicates).
    func connect(to endpoint: PeerEndpoint, kind: Peer.Kind) {
        connecting.insert(endpoint)
        lastAttempt[endpoint] = Self.now
        if kind == .outbound { addresses.markAttempt(endpoint, now: Self.unixTime) }
        let host = Self.host(endpoint)
        // The peer is registered when its channel is set up, before the connect completes; a
        // failed connect never makes the channel active or inactive, so it is removed here.
        final class Registration: @unchecked Sendable { var id: Int? }
        let registration = Registration()
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(5))
            .channelOption(ChannelOptions.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = self.register(channel, kind: kind, endpoint: endpoint)
                    registration.id = id
                    try self.addHandlers(channel, id: id)
                }
            }
            .connect(host: host, port: Int(endpoint.port))
            .whenComplete { [self] result in
                connecting.remove(endpoint)
                if kind == .outbound { connectingOutbound -= 1 }
                if case .failure(let error) = result {
                    if let id = registration.id { peers[id] = nil }
                    logger.debug("could not connect to \(endpoint): \(error)")
                }
            }
    }

    func channelActive(_ id: Int) {
        guard let peer = peers[id] else { return }
        logger.debug("\(peer.label): connected")
        if let local = Self.endpoint(peer.channel.localAddress) { ownAddresses.insert(local.ip) }
        // The connecting side speaks first.
        if !peer.isInbound { sendVersion(peer) }
    }

    func channelClosed(_ id: Int) {
        guard let peer = peers.removeValue(forKey: id) else { return }
        if !peer.disconnecting {
            if peer.handshakeDone { logger.info("peer \(peer.id) (\(peer.endpoint)) disconnected: connection closed by peer") }
            else { logger.debug("\(peer.label): closed before the handshake completed") }
        }
        scheduler.peerDisconnected(id)
        transactionPeerGone(peer)
        if headerSyncPeer == id {
            headerSyncPeer = nil
            startHeaderSync()
        }
        requestBlocks()
    }

    func channelError(_ error: Error, from id: Int) {
        guard let peer = peers[id] else { return }
        if let wire = error as? WireError {
            misbehaving(peer, "\(wire.reason): \(wire)")
        } else if let decoding = error as? ByteToMessageDecoderError {
            misbehaving(peer, "framing: \(decoding)")
        } else {
            disconnect(peer, "connection error: \(error)", level: .debug)
        }
    }

    func writable(_ id: Int) {
        guard let peer = peers[id] else { return }
        serveGetData(peer)
        streamMempoolAnswer(peer)
    }

    /// Closes the connection, logging why (once).
    func disconnect(_ peer: Peer, _ reason: String, level: Logger.Level = .info) {
        guard !peer.disconnecting else { return }
        peer.disconnecting = true
        logger.log(level: level, "peer \(peer.id) (\(peer.endpoint)) disconnected: \(reason)")
        peer.channel.close(promise: nil)
    }

    /// A protocol violation: disconnect at once and discourage the address (Bitcoin Core's rule
    /// since 2024): it is not connected to again and its inbound connections go first when full.
    func misbehaving(_ peer: Peer, _ reason: String) {
        guard !peer.disconnecting else { return }
        bans.discourage(peer.endpoint.ip)
        logger.warning("peer \(peer.id) (\(peer.endpoint)) misbehaving: \(reason); disconnecting and discouraging \(Self.host(peer.endpoint))")
        disconnect(peer, "misbehaving: \(reason)", level: .debug)
    }

    func send(_ message: Message, to peer: Peer) {
        guard !peer.disconnecting else { return }
        let bytes = Frame.encode(message, magic: magic)
        peer.bytesSent += bytes.count
        totalBytesSent += bytes.count
        countTraffic(message, bytes: bytes.count, peer: peer, sent: true)
        peer.channel.writeAndFlush(peer.channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    // MARK: - Handshake and dispatch

    func sendVersion(_ peer: Peer) {
        let snapshot = chain.snapshot
        let local = Self.endpoint(peer.channel.localAddress)
        let version = VersionMessage(
            protocolVersion: WireProtocol.version, services: WireProtocol.nodeNetwork, timestamp: Self.unixTime,
            receiver: NetAddress(services: 0, ip: peer.endpoint.ip, port: peer.endpoint.port),
            sender: NetAddress(services: WireProtocol.nodeNetwork, ip: local?.ip ?? [UInt8](repeating: 0, count: 16),
                               port: settings.listen ? UInt16(clamping: settings.port) : 0),
            nonce: peer.ourNonce, userAgent: settings.userAgent, bestHeight: snapshot.tipHeight, relay: true)
        send(.version(version), to: peer)
    }


    func received(_ message: Message, size: Int, from id: Int) {
        guard let peer = peers[id], !peer.disconnecting else { return }
        peer.bytesReceived += size
        totalBytesReceived += size
        countTraffic(message, bytes: size, peer: peer, sent: false)
        guard peer.handshakeDone else {
            switch message {
            case .version(let version): handleVersion(version, from: peer)
            case .verack: handleVerack(from: peer)
            default: misbehaving(peer, "'\(message.command)' before the handshake completed")
            }
            return
        }
        switch message {
        case .version: misbehaving(peer, "a second version message")
        case .verack: misbehaving(peer, "a second verack")
        case .ping(let nonce): send(.pong(nonce), to: peer)
        case .pong(let nonce): handlePong(nonce, from: peer)
        case .getaddr: handleGetAddr(from: peer)
        case .addr(let list): handleAddr(list, from: peer)
        case .inv(let items): handleInv(items, from: peer)
        case .getdata(let items): handleGetData(items, from: peer)
        case .notfound(let items):
            handleNotFound(items, from: peer)
            transactionsNotFound(items, from: peer)
        case let .getheaders(locator, stop): handleGetHeaders(locator: locator, stop: stop, from: peer)
        case .headers(let headers): handleHeaders(headers, from: peer)
        case .sendheaders: peer.sendHeaders = true
        case .block(let payload): handleBlock(payload, from: peer)
        case .tx(let transaction): handleTransaction(transaction, bytes: max(0, size - WireLimits.headerSize), from: peer)
        case .mempool: handleMempool(from: peer)
        case .feefilter(let rate): peer.feeFilter = rate
        case .mnchallenge(let challenge): handleMasternodeChallenge(challenge, from: peer)
        case .mnauth(let auth): handleMasternodeAuth(auth, from: peer)
        case .clsig(let lock): handleChainLock(lock, from: peer)
        case .govexec(let execution): handleGovernanceExecution(execution, from: peer)
        case .quorum(let message): handleQuorumMessage(message, from: peer)
        case .unknown(let command): logger.debug("\(peer.label): ignoring unknown command '\(command)'")
        }
    }

    func handleVersion(_ version: VersionMessage, from peer: Peer) {
        guard peer.version == nil else { return misbehaving(peer, "a second version message") }
        if let dialled = peers.values.first(where: { !$0.isInbound && $0.ourNonce == version.nonce }) {
            // Our own version came back: we connected to ourselves. Never dial that address again.
            selfEndpoints.insert(dialled.endpoint)
            disconnect(dialled, "connected to self", level: .debug)
            return disconnect(peer, "connected to self (\(dialled.endpoint) is this node)")
        }
        guard version.protocolVersion >= WireProtocol.version else {
            return disconnect(peer, "protocol version \(version.protocolVersion) is older than \(WireProtocol.version)")
        }
        peer.version = version
        peer.timeOffset = Int64(clamping: Int128(version.timestamp) - Int128(Self.unixTime))
        peer.bestKnownHeight = version.bestHeight
        peer.relayTransactions = version.relay
        if peer.isInbound { sendVersion(peer) }
        send(.verack, to: peer)
        if peer.gotVerack { handshakeCompleted(peer) }
    }

    func handleVerack(from peer: Peer) {
        guard peer.version != nil, !peer.gotVerack else { return misbehaving(peer, "verack before version") }
        peer.gotVerack = true
        handshakeCompleted(peer)
    }

    func handshakeCompleted(_ peer: Peer) {
        let direction = peer.isInbound ? "inbound" : "outbound (\(peer.kind.rawValue))"
        logger.info("peer \(peer.id) connected: \(peer.endpoint) \(direction), \(peer.userAgent), height \(peer.bestKnownHeight)")
        if !peer.isInbound {
            addresses.markGood(peer.endpoint, now: Self.unixTime)
            send(.getaddr, to: peer)
            advertiseOwnAddress(to: peer)
        }
        send(.sendheaders, to: peer)
        sendMasternodeChallenge(peer)
        transactionRelayStarted(peer)
        if peer.kind == .seed { return }
        sendBestChainLock(to: peer)
        sendRecentGovernanceExecutions(to: peer)
        considerHeaderSync(with: peer)
        requestBlocks()
    }

    func handlePong(_ nonce: UInt64, from peer: Peer) {
        guard let expected = peer.pingNonce, nonce == expected else { return }
        let millis = (Self.now - peer.pingSentAt) * 1000
        peer.lastPingMillis = millis
        peer.minPingMillis = min(peer.minPingMillis ?? millis, millis)
        peer.pingNonce = nil
    }

    // MARK: - Helpers

    /// A listening address the node could not bind.
    public struct ListenError: Error, CustomStringConvertible {
        public var address: String
        public var reason: String
        public var description: String { "cannot listen on \(address): \(reason)" }
    }

    /// "1.2.3.4:5" or "[::1]:5".
    static func describe(_ address: SocketAddress) -> String? {
        guard let ip = address.ipAddress, let port = address.port else { return nil }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    /// The remote (or local) address of a connection as a peer endpoint.
    static func endpoint(_ address: SocketAddress?) -> PeerEndpoint? {
        address.flatMap(describe).flatMap { PeerEndpoint(parsing: $0, defaultPort: 0) }
    }

    /// The IP as text for connecting and logs ("1.2.3.4" or "::1", no brackets).
    static func host(_ endpoint: PeerEndpoint) -> String {
        let host = endpoint.hostDescription
        return host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
    }
}
