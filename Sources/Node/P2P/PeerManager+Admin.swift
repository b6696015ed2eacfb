// What the RPC network methods (getpeerinfo, addnode, disconnectnode, setban, ...) ask of
// the P2P layer: loop-confined work behind async functions that return plain values.

import AddressBook
import Foundation
import NIOCore
import Primitives
import Wire

/// One connection as getpeerinfo shows it.
public struct PeerInfo: Sendable {
    public var id: Int
    /// "1.2.3.4:8333" or "[::1]:8333".
    public var address: String
    /// This node's end of the connection.
    public var localAddress: String?
    public var isIPv4: Bool
    public var services: UInt64
    public var relayTransactions: Bool
    /// Unix seconds of the last message sent and received (0: none yet).
    public var lastSend: UInt64
    public var lastReceive: UInt64
    public var bytesSent: UInt64
    public var bytesReceived: UInt64
    /// Unix seconds when the connection was made.
    public var connectedAt: UInt64
    /// The peer's clock minus ours at its version message (seconds).
    public var timeOffset: Int64
    /// Last and least round trip of a ping, and how long the outstanding one has waited (seconds).
    public var pingTime: Double?
    public var minPing: Double?
    public var pingWait: Double?
    public var protocolVersion: UInt32
    public var userAgent: String
    public var inbound: Bool
    public var startingHeight: UInt64
    /// The best height the peer is known to have (announced or sent).
    public var knownHeight: UInt64
    /// bitcoind's connection types: "outbound-full-relay", "manual", "inbound", "addr-fetch".
    public var connectionType: String
    public var handshakeDone: Bool
    public var bytesSentByCommand: [String: UInt64]
    public var bytesReceivedByCommand: [String: UInt64]
    /// The peer's `feefilter` (base units per 1,000 bytes; 0: none).
    public var minFeeFilter: UInt64 = 0
    /// The masternode the peer authenticated as (`mnauth`), if any.
    public var masternode: Hash256?
}

/// A `--addnode`/`addnode add` entry and its connection, for getaddednodeinfo.
public struct AddedNodeInfo: Sendable {
    public var endpoint: PeerEndpoint
    /// The outbound connection to it, when there is one.
    public var connectedAddress: String?
}

/// getnettotals' counters.
public struct NetTotals: Sendable {
    public var bytesReceived: UInt64
    public var bytesSent: UInt64
}

extension Peer.Kind {
    /// bitcoind's name for the connection type.
    var connectionType: String {
        switch self {
        case .outbound: "outbound-full-relay"
        case .manual: "manual"
        case .seed: "addr-fetch"
        case .inbound: "inbound"
        }
    }
}

extension PeerManager {
    /// The traffic key of a message: its command, or "*other*" for commands this node does
    /// not know (bitcoind's bucket; a peer cannot grow the table with made-up names).
    static func trafficKey(_ message: Message) -> String {
        if case .unknown = message { return "*other*" }
        return message.command
    }

    /// Counts a message in the peer's and the node's per-command traffic.
    func countTraffic(_ message: Message, bytes: Int, peer: Peer, sent: Bool) {
        let key = Self.trafficKey(message)
        if sent {
            peer.bytesSentByCommand[key, default: 0] += UInt64(bytes)
            bytesSentByCommand[key, default: 0] += UInt64(bytes)
            peer.lastSendAt = Self.unixTime
        } else {
            peer.bytesReceivedByCommand[key, default: 0] += UInt64(bytes)
            bytesReceivedByCommand[key, default: 0] += UInt64(bytes)
            peer.lastReceiveAt = Self.unixTime
        }
    }

    /// Runs `body` on the manager's event loop (where all of its state lives).
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await loop.submit(body).get()
    }

    /// Every connection (handshake done or not), by id.
    public func peerInfo() async throws -> [PeerInfo] {
        try await onLoop { self.peers.values.sorted { $0.id < $1.id }.map(self.info) }
    }

    func info(_ peer: Peer) -> PeerInfo {
        let now = Self.now
        let unixNow = Self.unixTime
        let age = max(0, now - peer.connectedAt)
        return PeerInfo(
            id: peer.id, address: peer.endpoint.description,
            localAddress: Self.endpoint(peer.channel.localAddress)?.description, isIPv4: peer.endpoint.isIPv4,
            services: peer.version?.services ?? 0, relayTransactions: peer.relayTransactions,
            lastSend: peer.lastSendAt, lastReceive: peer.lastReceiveAt,
            bytesSent: UInt64(peer.bytesSent), bytesReceived: UInt64(peer.bytesReceived),
            connectedAt: unixNow - min(unixNow, UInt64(age)), timeOffset: peer.timeOffset,
            pingTime: peer.lastPingMillis.map { $0 / 1000 }, minPing: peer.minPingMillis.map { $0 / 1000 },
            pingWait: peer.pingNonce != nil ? max(0, now - peer.pingSentAt) : nil,
            protocolVersion: peer.version?.protocolVersion ?? 0, userAgent: peer.userAgent, inbound: peer.isInbound,
            startingHeight: peer.version?.bestHeight ?? 0, knownHeight: peer.bestKnownHeight,
            connectionType: peer.kind.connectionType, handshakeDone: peer.handshakeDone,
            bytesSentByCommand: peer.bytesSentByCommand, bytesReceivedByCommand: peer.bytesReceivedByCommand,
            minFeeFilter: peer.feeFilter, masternode: peer.masternode?.proTxHash)
    }

    /// Bytes sent and received per message command, over every connection since start.
    public func trafficByCommand() async throws -> (sent: [String: UInt64], received: [String: UInt64]) {
        try await onLoop { (self.bytesSentByCommand, self.bytesReceivedByCommand) }
    }

    public func netTotals() async throws -> NetTotals {
        try await onLoop { NetTotals(bytesReceived: UInt64(self.totalBytesReceived), bytesSent: UInt64(self.totalBytesSent)) }
    }

    /// The listening addresses actually bound (port 0 resolved).
    public func listeningAddresses() async throws -> [String] {
        try await onLoop { self.listeners.compactMap { $0.localAddress.flatMap(Self.describe) } }
    }

    // MARK: addnode

    /// `addnode add`: kept connected like `--addnode`. False when it is in the list already.
    public func addNode(_ endpoint: PeerEndpoint) async throws -> Bool {
        try await onLoop {
            guard !self.addedNodes.contains(endpoint) else { return false }
            self.addedNodes.append(endpoint)
            // Connect now rather than at the next tick's maintenance.
            self.lastAttempt[endpoint] = nil
            if !self.stopping { self.maintainConnections() }
            return true
        }
    }

    /// `addnode remove`: no longer kept connected (a live connection stays). False when it
    /// was not in the list.
    public func removeAddedNode(_ endpoint: PeerEndpoint) async throws -> Bool {
        try await onLoop {
            guard let index = self.addedNodes.firstIndex(of: endpoint) else { return false }
            self.addedNodes.remove(at: index)
            return true
        }
    }

    /// `addnode onetry`: one manual connection attempt, unless connected or connecting already.
    public func connectOnce(_ endpoint: PeerEndpoint) async throws {
        try await onLoop {
            guard !self.stopping, self.networkActive, !self.connecting.contains(endpoint),
                  !self.peers.values.contains(where: { !$0.isInbound && $0.endpoint == endpoint }) else { return }
            self.connect(to: endpoint, kind: .manual)
        }
    }

    public func addedNodeInfo() async throws -> [AddedNodeInfo] {
        try await onLoop {
            self.addedNodes.map { endpoint in
                let peer = self.peers.values.first { !$0.isInbound && !$0.disconnecting && $0.endpoint == endpoint }
                return AddedNodeInfo(endpoint: endpoint, connectedAddress: peer?.endpoint.description)
            }
        }
    }

    // MARK: Disconnecting and bans

    /// Closes the connections to `endpoint` (an exact address and port); how many there were.
    public func disconnect(address endpoint: PeerEndpoint, reason: String) async throws -> Int {
        try await onLoop {
            let matching = self.peers.values.filter { !$0.disconnecting && $0.endpoint == endpoint }
            for peer in matching { self.disconnect(peer, reason) }
            return matching.count
        }
    }

    /// Closes connection `id`; false when there is none.
    public func disconnect(id: Int, reason: String) async throws -> Bool {
        try await onLoop {
            guard let peer = self.peers[id], !peer.disconnecting else { return false }
            self.disconnect(peer, reason)
            return true
        }
    }

    /// Bans `subnet` until `until` (unix seconds) and closes the connections inside it; false
    /// when that exact range was banned already (nothing changed).
    public func ban(_ subnet: Subnet, until: UInt64, reason: String) async throws -> Bool {
        try await onLoop {
            let now = Self.unixTime
            guard !self.bans.entries(now: now).contains(where: { $0.subnet == subnet.description }) else { return false }
            self.bans.ban(subnet, until: until, reason: reason, now: now)
            for peer in self.peers.values where subnet.contains(peer.endpoint.ip) {
                self.disconnect(peer, "banned (\(subnet))")
            }
            return true
        }
    }

    /// Lifts the ban on exactly `subnet`; false when there was none in force.
    public func unban(_ subnet: Subnet) -> Bool {
        let inForce = bans.entries(now: Self.unixTime).contains { $0.subnet == subnet.description }
        return bans.unban(subnet) && inForce
    }

    /// The bans in force, soonest expiry first.
    public func bannedList() -> [BanEntry] { bans.entries(now: Self.unixTime) }

    public func clearBans() { bans.clear() }

    /// `setnetworkactive`: off closes every connection and makes none until it is on again.
    /// Returns the state now.
    public func setNetworkActive(_ active: Bool) async throws -> Bool {
        try await onLoop {
            guard self.networkActive != active else { return active }
            self.networkActive = active
            self.logger.info("network activity \(active ? "enabled" : "disabled") by setnetworkactive")
            if !active { for peer in self.peers.values { self.disconnect(peer, "network activity disabled") } }
            return active
        }
    }

    public func isNetworkActive() async throws -> Bool { try await onLoop { self.networkActive } }

    /// Sends a ping to every peer past its handshake that has none outstanding (the RPC
    /// `ping`: the result shows in getpeerinfo's pingtime).
    public func pingAll() async throws {
        try await onLoop {
            let now = Self.now
            for peer in self.peers.values where peer.handshakeDone && !peer.disconnecting && peer.pingNonce == nil {
                let nonce = UInt64.random(in: 1...UInt64.max, using: &self.random)
                peer.pingNonce = nonce
                peer.pingSentAt = now
                self.send(.ping(nonce), to: peer)
            }
        }
    }
}
