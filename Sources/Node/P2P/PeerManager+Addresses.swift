// Addresses and outbound connections: getaddr/addr, self-advertisement, the connection
// maintenance of each tick, and inbound eviction.

import AddressBook
import Foundation
import Primitives
import Wire

extension PeerManager {
    func handleGetAddr(from peer: Peer) {
        // Only inbound peers are answered, once (Bitcoin Core: limits address-table scraping).
        guard peer.isInbound, !peer.answeredGetAddr else { return }
        peer.answeredGetAddr = true
        let sample = addresses.sample(max: WireLimits.maxAddresses, using: &random)
        send(.addr(sample.map { TimedAddress(time: $0.time, address: NetAddress(services: $0.services, ip: $0.endpoint.ip,
                                                                               port: $0.endpoint.port)) }), to: peer)
    }

    func handleAddr(_ list: [TimedAddress], from peer: Peer) {
        let granted = peer.addressTokens.take(list.count, now: Self.now)
        if granted < list.count {
            peer.addressOverruns += 1
            if peer.addressOverruns > 100 { return misbehaving(peer, "address flood (over its rate for 100 messages)") }
        } else {
            peer.addressOverruns = 0
        }
        let entries = list.prefix(granted).filter { $0.address.port != 0 }.map {
            (endpoint: PeerEndpoint(ip: $0.address.ip, port: $0.address.port), services: $0.address.services, time: $0.time)
        }
        let added = addresses.add(entries, source: peer.endpoint, now: Self.unixTime)
        if added > 0 { logger.debug("\(peer.label): \(added) new addresses") }
        if peer.kind == .seed { peer.gotAddresses = true }
    }

    /// Tells an outbound peer where this node listens (how a bootstrap node learns of it).
    func advertiseOwnAddress(to peer: Peer) {
        guard settings.listen, let local = Self.endpoint(peer.channel.localAddress) else { return }
        let own = NetAddress(services: WireProtocol.nodeNetwork, ip: local.ip, port: UInt16(clamping: settings.port))
        send(.addr([TimedAddress(time: Self.unixTime, address: own)]), to: peer)
    }

    /// Keeps `--connect`/`--addnode` peers connected, runs the bootstrap nodes once, and fills
    /// the automatic outbound slots from the address manager, one per network group.
    func maintainConnections() {
        guard networkActive else { return }
        let now = Self.now
        let busy = Set(peers.values.filter { !$0.isInbound }.map(\.endpoint)).union(connecting).union(selfEndpoints)
        func due(_ endpoint: PeerEndpoint) -> Bool {
            !busy.contains(endpoint) && now - (lastAttempt[endpoint] ?? -.infinity) >= settings.reconnectInterval
        }
        if !settings.connect.isEmpty {
            for endpoint in settings.connect where due(endpoint) { connect(to: endpoint, kind: .manual) }
            return
        }
        for endpoint in addedNodes where due(endpoint) { connect(to: endpoint, kind: .manual) }
        let outbound = peers.values.filter { $0.kind == .outbound }
        if !seedsTried || (addresses.count == 0 && outbound.isEmpty && now - (lastSeedRound ?? 0) > 60) {
            seedsTried = true
            lastSeedRound = now
            for endpoint in settings.seednode where !busy.contains(endpoint) { connect(to: endpoint, kind: .seed) }
            if addresses.count == 0 && !settings.fixedSeeds.isEmpty {
                addresses.add(settings.fixedSeeds.map { (endpoint: $0, services: WireProtocol.nodeNetwork, time: Self.unixTime) },
                              source: settings.fixedSeeds[0], now: Self.unixTime)
            }
        }
        guard outbound.count + connectingOutbound < settings.maxOutbound else { return }
        let groups = Set(peers.values.filter { !$0.isInbound }.map { $0.endpoint.networkGroup(localIsDistinct: settings.allowLocalAddresses) })
        let unix = Self.unixTime
        for _ in 0..<4 {
            guard let choice = addresses.select(excludingGroups: groups, now: unix, using: &random) else { return }
            let endpoint = choice.endpoint
            if busy.contains(endpoint) || isOwnAddress(endpoint) || bans.isBanned(endpoint.ip, now: unix)
                || bans.isDiscouraged(endpoint.ip) || (!settings.allowLocalAddresses && !endpoint.isRoutable) {
                addresses.markAttempt(endpoint, now: unix)
                continue
            }
            connectingOutbound += 1
            connect(to: endpoint, kind: .outbound)
            return
        }
    }

    /// One of this node's own listening addresses (never worth a connection).
    func isOwnAddress(_ endpoint: PeerEndpoint) -> Bool {
        guard settings.listen, Int(endpoint.port) == settings.port else { return false }
        if endpoint.isLoopback { return true }
        return ownAddresses.contains(endpoint.ip)
    }

    /// The inbound peer to evict for a new one, nil when every one is protected.
    func evictionCandidate(_ inbound: [Peer]) -> Peer? {
        let candidates = inbound.filter { !$0.disconnecting }.map { peer in
            EvictionCandidate(id: peer.id, connectedAt: peer.connectedAt, minPingMillis: peer.minPingMillis,
                              lastBlockTime: UInt64(peer.lastBlockAt), lastTxTime: UInt64(peer.lastTransactionAt),
                              networkGroup: peer.endpoint.networkGroup(localIsDistinct: settings.allowLocalAddresses),
                              discouraged: bans.isDiscouraged(peer.endpoint.ip))
        }
        return InboundEviction.select(candidates).flatMap { peers[$0] }
    }
}
