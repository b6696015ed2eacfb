// For the transaction relay tests: a scripted TransactionPool, an in-process PeerManager on a
// genesis-only regtest chain listening on 127.0.0.1, and a raw wire peer connected to it.

import AddressBook
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Logging
import Mempool
import NIOCore
import NIOPosix
import Primitives
import Testing
import Verification
import Wire
@testable import Node

/// A transaction pool whose verdicts the test scripts: it takes what it is given (at
/// `feeRates[wtxid]`, default 5,000), holds orphans the test names until their parent comes,
/// and records every batch and disconnection.
final class ScriptedPool: TransactionPool, @unchecked Sendable {
    private struct Pooled {
        var transaction: Transaction
        var feeRate: UInt64
        var arrival: Int
        var entered: UInt64
    }

    private let lock = NSLock()
    private var pooled: [Hash256: Pooled] = [:]
    private var wtxidByTxid: [Hash256: Hash256] = [:]
    private var arrivals = 0
    private var feeRates: [Hash256: UInt64] = [:]
    /// Orphans by the txid of their missing parent.
    private var orphansByParent: [Hash256: Transaction] = [:]
    private var invalid: Set<Hash256> = []
    private var batches: [Int] = []
    private var disconnected: [Int] = []
    private var minimum: UInt64 = 1_000
    private var clock: UInt64 = 1_000_000
    /// Seconds each `accept` call takes (as signature checks would), so relayed messages pile up.
    let acceptDelay: Double

    init(acceptDelay: Double = 0) { self.acceptDelay = acceptDelay }

    var batchSizes: [Int] { lock.withLock { batches } }
    var disconnectedPeers: [Int] { lock.withLock { disconnected } }
    var minimumFeeRate: UInt64 {
        get { lock.withLock { minimum } }
        set { lock.withLock { minimum = newValue } }
    }

    /// The pool's clock (unix seconds): entry times and `poolTime`.
    var now: UInt64 {
        get { lock.withLock { clock } }
        set { lock.withLock { clock = newValue } }
    }

    func setFeeRate(_ rate: UInt64, for transaction: Transaction) { lock.withLock { feeRates[transaction.wtxid] = rate } }
    /// `orphan` is held (verdict `.orphan`) until a transaction with txid `parent` is accepted.
    func holdAsOrphan(_ orphan: Transaction, parent: Hash256) { lock.withLock { orphansByParent[parent] = orphan } }
    /// Relayed, `transaction` is rejected as consensus-invalid.
    func markInvalid(_ transaction: Transaction) { _ = lock.withLock { invalid.insert(transaction.wtxid) } }

    /// Puts a transaction in the pool directly (a local submission).
    func add(_ transaction: Transaction, feeRate: UInt64) { lock.withLock { insert(transaction, feeRate: feeRate) } }

    func remove(_ transaction: Transaction) {
        lock.withLock {
            pooled[transaction.wtxid] = nil
            wtxidByTxid[transaction.txid] = nil
        }
    }

    private func insert(_ transaction: Transaction, feeRate: UInt64) {
        pooled[transaction.wtxid] = Pooled(transaction: transaction, feeRate: feeRate, arrival: arrivals, entered: clock)
        wtxidByTxid[transaction.txid] = transaction.wtxid
        arrivals += 1
    }

    func wants(wtxid: Hash256) -> Bool { lock.withLock { pooled[wtxid] == nil } }
    func transaction(wtxid: Hash256) -> Transaction? { lock.withLock { pooled[wtxid]?.transaction } }
    func transaction(txid: Hash256) -> Transaction? { lock.withLock { wtxidByTxid[txid].flatMap { pooled[$0]?.transaction } } }
    func feeRate(wtxid: Hash256) -> UInt64? { lock.withLock { pooled[wtxid]?.feeRate } }
    func entryTime(wtxid: Hash256) -> UInt64? { lock.withLock { pooled[wtxid]?.entered } }
    var poolTime: UInt64 { now }
    func peerDisconnected(_ peerID: Int) { lock.withLock { disconnected.append(peerID) } }

    func inventory(minimumFeeRate: UInt64) -> [Hash256] {
        lock.withLock { pooled.values.filter { $0.feeRate >= minimumFeeRate }.sorted { $0.arrival < $1.arrival }.map(\.transaction.wtxid) }
    }

    func accept(_ batch: [RelayedTransaction]) -> PoolBatchAcceptance {
        if acceptDelay > 0 { Thread.sleep(forTimeInterval: acceptDelay) }
        return lock.withLock {
            batches.append(batch.count)
            var resolved = [PoolAnnouncement]()
            let verdicts = batch.map { relayed -> PoolAcceptance in
                let transaction = relayed.transaction
                let (txid, wtxid) = transaction.ids
                if invalid.contains(wtxid) { return .rejected(rule: "bad-txns-in-belowout", penalize: true) }
                if pooled[wtxid] != nil { return .ignored }
                if let parent = orphansByParent.first(where: { $0.value == transaction })?.key, wtxidByTxid[parent] == nil {
                    return .orphan(missingParents: [parent])
                }
                let rate = feeRates[wtxid] ?? 5_000
                insert(transaction, feeRate: rate)
                if let orphan = orphansByParent.removeValue(forKey: txid) {
                    let orphanRate = feeRates[orphan.wtxid] ?? 5_000
                    insert(orphan, feeRate: orphanRate)
                    resolved.append(PoolAnnouncement(wtxid: orphan.wtxid, feeRate: orphanRate))
                }
                return .accepted(wtxid: wtxid, feeRate: rate)
            }
            return PoolBatchAcceptance(verdicts: verdicts, resolvedOrphans: resolved)
        }
    }
}

/// A distinct transaction spending output 0 of `parent` (a made-up txid unless given).
func relayTestTransaction(_ tag: Int, spending parent: Hash256? = nil) -> Transaction {
    let tagBytes = (0..<8).map { UInt8(truncatingIfNeeded: tag >> (8 * $0)) }
    let previous = parent ?? Hash256(bytes: tagBytes + [UInt8](repeating: 0xAB, count: 24))!
    return Transaction(inputs: [TxIn(previousOutput: OutPoint(txid: previous, index: 0))],
                       outputs: [TxOut(value: Amount(baseUnits: 1_000 + UInt64(tag))!, lockScript: [0x51])])
}

/// A PeerManager on a genesis-only regtest chain with a scripted pool, listening on 127.0.0.1.
final class RelayTestNode: @unchecked Sendable {
    static let regtest = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

    let directory: String
    let group: MultiThreadedEventLoopGroup
    let pool: ScriptedPool
    let manager: PeerManager
    private(set) var port = 0

    init(pool: ScriptedPool = ScriptedPool(), configure: (inout P2PSettings) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-relay-\(UUID().uuidString)").path
        let state = try ChainState(directory: directory, parameters: Self.regtest, cacheMiB: 16)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.pool = pool
        var settings = P2PSettings(port: 0)
        settings.bind = [.init(host: "127.0.0.1", port: 0)]
        settings.allowLocalAddresses = true
        settings.maxOutbound = 0
        // Long by default: the tests send trickles and feefilters when they choose.
        settings.inboundTrickleInterval = 3_600
        settings.outboundTrickleInterval = 3_600
        settings.feeFilterInterval = 3_600
        settings.maxFeeFilterChangeDelay = 0.2
        configure(&settings)
        let options = VerificationPipeline.Options(verifier: CPUSignatureVerifier(backend: .auto, threads: 1), batchSize: 64,
                                                   contextFreeThreads: 1)
        manager = PeerManager(group: group, chain: ChainService(state), parameters: Self.regtest, settings: settings,
                              logger: Logger(label: "relay-test"),
                              addresses: AddressManager(key: Array(repeating: 7, count: 32), allowNonRoutable: true), bans: BanList(),
                              pool: pool, pipelineOptions: options)
    }

    func start() async throws {
        try await manager.start()
        let address = try #require(try await manager.listeningAddresses().first)
        port = Int(try #require(PeerEndpoint(parsing: address, defaultPort: 0)?.port))
    }

    func shutdown() async {
        await manager.stop()
        try? await group.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` on the manager's loop with the handshaken peer whose remote port is `port`.
    func withPeer<T: Sendable>(_ port: Int, _ body: @escaping @Sendable (PeerManager, Peer) -> T) async throws -> T {
        let manager = self.manager
        return try await manager.onLoop {
            guard let peer = manager.peers.values.first(where: { $0.endpoint.port == UInt16(port) && $0.handshakeDone }) else {
                throw RelayTestError("no handshaken peer from port \(port)")
            }
            return body(manager, peer)
        }
    }

    /// Makes the peer's trickled announcement due now (for an inbound peer: the trickle all
    /// inbound peers share) and runs the relay timer once.
    func trickleNow(_ port: Int) async throws {
        try await withPeer(port) { manager, peer in
            if peer.isInbound { manager.relay.nextInboundTrickleAt = 0 } else { peer.nextTrickleAt = 0 }
            manager.relayTick()
        }
    }
}

struct RelayTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A raw peer over NIO: frames decoded by the node's own decoder, everything received kept;
/// pings and getheaders answered like a peer with nothing to add.
final class RelayTestPeer: @unchecked Sendable {
    private final class Inbox: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = InboundFrame
        let lock = NSLock()
        var messages: [Message] = []
        var closed = false

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let message = unwrapInboundIn(data).message
            lock.withLock { messages.append(message) }
            switch message {
            case .ping(let nonce): Self.write(.pong(nonce), on: context.channel)
            case .getheaders: Self.write(.headers([]), on: context.channel)
            default: break
            }
        }

        func channelInactive(context: ChannelHandlerContext) { lock.withLock { closed = true } }

        static func write(_ message: Message, on channel: Channel) {
            channel.writeAndFlush(channel.allocator.buffer(bytes: Frame.encode(message, magic: RelayTestNode.regtest.magic)), promise: nil)
        }
    }

    let channel: Channel
    private let inbox: Inbox
    /// This side's port (the node's peer endpoint port).
    let localPort: Int

    private init(channel: Channel, inbox: Inbox) throws {
        self.channel = channel
        self.inbox = inbox
        localPort = try #require(channel.localAddress?.port)
    }

    static func connect(to node: RelayTestNode) async throws -> RelayTestPeer {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: node.group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(WireFrameDecoder(magic: RelayTestNode.regtest.magic) { true }))
                    try channel.pipeline.syncOperations.addHandler(inbox)
                }
            }
            .connect(host: "127.0.0.1", port: node.port).get()
        return try RelayTestPeer(channel: channel, inbox: inbox)
    }

    /// Connects and completes the version handshake (`relay` as the version's field).
    static func handshaken(with node: RelayTestNode, relay: Bool = true) async throws -> RelayTestPeer {
        let peer = try await connect(to: node)
        let version = VersionMessage(services: WireProtocol.nodeNetwork, timestamp: UInt64(Date().timeIntervalSince1970),
                                     receiver: .ipv4(127, 0, 0, 1, port: UInt16(node.port)), sender: .none,
                                     nonce: UInt64.random(in: 1...UInt64.max), userAgent: "/relay-test/", bestHeight: 0, relay: relay)
        peer.send(.version(version))
        guard await peer.waitFor({ $0 == .verack }) != nil else { throw RelayTestError("no verack from the node") }
        peer.send(.verack)
        // The node's side is complete once it has our verack: a ping round trip proves it read it.
        guard await peer.roundTrip() else { throw RelayTestError("no pong after the handshake") }
        return peer
    }

    func send(_ message: Message) { Inbox.write(message, on: channel) }

    /// Several messages in one write (they arrive in one read).
    func sendTogether(_ messages: [Message]) {
        let bytes = messages.flatMap { Frame.encode($0, magic: RelayTestNode.regtest.magic) }
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }

    var messages: [Message] { inbox.lock.withLock { inbox.messages } }
    var isClosed: Bool { inbox.lock.withLock { inbox.closed } }

    /// The first received message matching `match` (waiting up to `seconds`).
    func waitFor(seconds: Double = 60, _ match: @escaping (Message) -> Bool) async -> Message? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let found = messages.first(where: match) { return found }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return messages.first(where: match)
    }

    /// A ping answered: everything the node sent before the pong has been received.
    func roundTrip() async -> Bool {
        let nonce = UInt64.random(in: 1...UInt64.max)
        send(.ping(nonce))
        return await waitFor { $0 == .pong(nonce) } != nil
    }

    /// Every transaction inventory received so far, one array per `inv` message.
    var transactionInvs: [[Hash256]] {
        messages.compactMap { message in
            guard case .inv(let items) = message else { return nil }
            let transactions = items.filter { $0.type == .transaction }.map(\.hash)
            return transactions.isEmpty ? nil : transactions
        }
    }

    func close() async { try? await channel.close() }
}
