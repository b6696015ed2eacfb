// Network methods: bitcoind's names, parameters, result fields and error codes, answered
// from the peer manager (PeerManager+Admin.swift) and the ban list.

import AddressBook
import Foundation
import JSONRPC
import Wire

extension NodeRPCContext {
    func registerNetwork(in registry: RPCRegistry) {
        registry.register(RPCMethod("getconnectioncount", category: "Network",
                                    help: "Returns the number of connections to other nodes.") { _ in
            .int(try await self.peers.peerInfo().count)
        })
        registry.register(RPCMethod("getpeerinfo", category: "Network",
                                    help: "Returns data about each connected network peer as a json array of objects.") { _ in
            .array(try await self.peers.peerInfo().map(self.peerJSON))
        })
        registry.register(RPCMethod("getnettotals", category: "Network",
                                    help: "Returns information about network traffic, including bytes in, bytes out, and current system time.") { _ in
            let totals = try await self.peers.netTotals()
            return ["totalbytesrecv": .int(totals.bytesReceived), "totalbytessent": .int(totals.bytesSent),
                    "timemillis": .int(Int64(Date().timeIntervalSince1970 * 1000))]
        })
        registry.register(RPCMethod("getnetworkinfo", category: "Network",
                                    help: "Returns an object containing various state info regarding P2P networking.") { _ in
            try await self.networkInfo()
        })
        registry.register(RPCMethod("ping", category: "Network",
                                    help: "Requests that a ping be sent to all other nodes, to measure ping time.\nResults are provided in getpeerinfo, pingtime and pingwait fields are decimal seconds.") { _ in
            try await self.peers.pingAll()
            return .null
        })
        registry.register(RPCMethod("setnetworkactive", category: "Network",
                                    parameters: [RPCParameter("state", "boolean", "true to enable networking, false to disable")],
                                    help: "Disable/enable all p2p network activity. Returns the network state.") { arguments in
            .bool(try await self.peers.setNetworkActive(try arguments.bool(0)))
        })
        registry.register(RPCMethod("addnode", category: "Network",
                                    parameters: [RPCParameter("node", "string", "The address of the peer to connect to (IP[:port])"),
                                                 RPCParameter("command", "string", "'add' to add a node to the list, 'remove' to remove a node from the list, 'onetry' to try a connection to the node once")],
                                    help: "Attempts to add or remove a node from the addnode list (kept connected, as with -addnode), or to try a connection to a node once.") { arguments in
            let command = try arguments.string(1)
            guard ["add", "remove", "onetry"].contains(command) else {
                throw RPCError.invalidParams("addnode command must be 'add', 'remove' or 'onetry', not '\(command.prefix(40))'")
            }
            let endpoint = try self.nodeEndpoint(arguments, 0)
            switch command {
            case "add":
                guard try await self.peers.addNode(endpoint) else { throw RPCError(RPCError.clientNodeAlreadyAdded, "Error: Node already added") }
            case "remove":
                guard try await self.peers.removeAddedNode(endpoint) else {
                    throw RPCError(RPCError.clientNodeNotAdded, "Error: Node could not be removed. It has not been added previously.")
                }
            default:
                try await self.peers.connectOnce(endpoint)
            }
            return .null
        })
        registry.register(RPCMethod("getaddednodeinfo", category: "Network",
                                    parameters: [RPCParameter("node", "string", required: false, "If provided, return information about this specific node, otherwise all nodes are returned.")],
                                    help: "Returns information about the given added node, or all added nodes (nodes added with -addnode or addnode).") { arguments in
            var added = try await self.peers.addedNodeInfo()
            if arguments.has(0) {
                let endpoint = try self.nodeEndpoint(arguments, 0)
                added = added.filter { $0.endpoint == endpoint }
                guard !added.isEmpty else { throw RPCError(RPCError.clientNodeNotAdded, "Error: Node has not been added.") }
            }
            return .array(added.map { node in
                var entry: JSONObject = ["addednode": .string(node.endpoint.description), "connected": .bool(node.connectedAddress != nil)]
                entry["addresses"] = .array(node.connectedAddress.map { [["address": .string($0), "connected": "outbound"]] } ?? [])
                return .object(entry)
            })
        })
        registry.register(RPCMethod("disconnectnode", category: "Network",
                                    parameters: [RPCParameter("address", "string", required: false, "The IP address/port of the node"),
                                                 RPCParameter("nodeid", "number", required: false, "The node ID (see getpeerinfo for node IDs)")],
                                    help: "Immediately disconnects from the specified peer node.\nStrictly one out of 'address' and 'nodeid' can be provided to identify the node.") { arguments in
            let address = try arguments.optionalString(0)
            let id = try arguments.optionalInt(1, in: 0...Int64(Int32.max))
            let disconnected: Bool
            switch (address, id) {
            case (let address?, nil) where !address.isEmpty:
                guard let endpoint = PeerEndpoint(parsing: address, defaultPort: UInt16(clamping: self.parameters.chain.ports.p2p)) else {
                    throw RPCError(RPCError.clientNodeNotConnected, "Node not found in connected nodes")
                }
                disconnected = try await self.peers.disconnect(address: endpoint, reason: "disconnectnode") > 0
            case (nil, let id?), ("", let id?):
                disconnected = try await self.peers.disconnect(id: Int(id), reason: "disconnectnode")
            default:
                throw RPCError.invalidParameter("Only one of address and nodeid should be provided.")
            }
            guard disconnected else { throw RPCError(RPCError.clientNodeNotConnected, "Node not found in connected nodes") }
            return .null
        })
        registry.register(RPCMethod("setban", category: "Network",
                                    parameters: [RPCParameter("subnet", "string", "The IP/Subnet (see getpeerinfo for nodes IP) with an optional netmask (default is /32 = single IP)"),
                                                 RPCParameter("command", "string", "'add' to add an IP/Subnet to the list, 'remove' to remove an IP/Subnet from the list"),
                                                 RPCParameter("bantime", "number", required: false, "time in seconds how long (or until when if [absolute] is set) the IP is banned (0 or empty means using the default time of 24h)"),
                                                 RPCParameter("absolute", "boolean", required: false, "If set, the bantime must be an absolute timestamp expressed in UNIX epoch time")],
                                    help: "Attempts to add or remove an IP/Subnet from the banned list. Banning disconnects the peers inside it.") { arguments in
            let command = try arguments.string(1)
            guard command == "add" || command == "remove" else {
                throw RPCError.invalidParams("setban command must be 'add' or 'remove', not '\(command.prefix(40))'")
            }
            guard let subnet = Subnet(parsing: try arguments.string(0)) else {
                throw RPCError(RPCError.clientInvalidIPOrSubnet, "Error: Invalid IP/Subnet")
            }
            if command == "remove" {
                guard self.peers.unban(subnet) else { throw RPCError(RPCError.clientInvalidIPOrSubnet, "Error: Unban failed") }
                self.saveBanList()
                return .null
            }
            let now = UInt64(max(0, Date().timeIntervalSince1970))
            let bantime = try arguments.optionalInt(2, in: 0...Int64.max) ?? 0
            let absolute = try arguments.optionalBool(3) ?? false
            let until: UInt64
            if bantime == 0 {
                until = now + UInt64(self.peers.settings.banSeconds)
            } else if absolute {
                guard UInt64(bantime) > now else { throw RPCError.invalidParameter("Error: Absolute timestamp is in the past") }
                until = UInt64(bantime)
            } else {
                until = now.addingReportingOverflow(UInt64(bantime)).overflow ? UInt64.max : now + UInt64(bantime)
            }
            guard try await self.peers.ban(subnet, until: until, reason: "setban") else {
                throw RPCError(RPCError.clientNodeAlreadyAdded, "Error: IP/Subnet already banned")
            }
            self.saveBanList()
            return .null
        })
        registry.register(RPCMethod("listbanned", category: "Network", help: "List all manually banned IPs/Subnets.") { _ in
            let now = UInt64(max(0, Date().timeIntervalSince1970))
            return .array(self.peers.bannedList().map { entry in
                ["address": .string(entry.subnet), "ban_created": .int(entry.created), "banned_until": .int(entry.until),
                 "ban_duration": .int(entry.until >= entry.created ? entry.until - entry.created : 0),
                 "time_remaining": .int(entry.until >= now ? entry.until - now : 0)]
            })
        })
        registry.register(RPCMethod("clearbanned", category: "Network", help: "Clear all banned IPs.") { _ in
            self.peers.clearBans()
            self.saveBanList()
            return .null
        })
    }

    /// addnode's and getaddednodeinfo's node argument: IP[:port] (the network's port by default).
    func nodeEndpoint(_ arguments: RPCArguments, _ index: Int) throws(RPCError) -> PeerEndpoint {
        let text = try arguments.string(index)
        guard let endpoint = PeerEndpoint(parsing: text, defaultPort: UInt16(clamping: parameters.chain.ports.p2p)), endpoint.port != 0 else {
            throw RPCError.invalidParameter("Error: '\(text.prefix(100))' is not an IP address with an optional port")
        }
        return endpoint
    }

    /// Writes `<directory>/banlist` after a change (bitcoind keeps banlist.json current the same way).
    func saveBanList() {
        let path = (directory as NSString).appendingPathComponent("banlist")
        do { try peers.bans.save(to: path) } catch { logger.error("could not save \(path): \(error)") }
    }

    func peerJSON(_ peer: PeerInfo) -> JSON {
        var object = JSONObject()
        object["id"] = .int(peer.id)
        object["addr"] = .string(peer.address)
        if let local = peer.localAddress { object["addrbind"] = .string(local) }
        object["network"] = peer.isIPv4 ? "ipv4" : "ipv6"
        object["services"] = .string(Self.servicesHex(peer.services))
        object["servicesnames"] = .array(Self.serviceNames(peer.services).map { .string($0) })
        object["relaytxes"] = .bool(peer.relayTransactions)
        object["minfeefilter"] = .decimal(peer.minFeeFilter)
        object["lastsend"] = .int(peer.lastSend)
        object["lastrecv"] = .int(peer.lastReceive)
        object["bytessent"] = .int(peer.bytesSent)
        object["bytesrecv"] = .int(peer.bytesReceived)
        object["conntime"] = .int(peer.connectedAt)
        object["timeoffset"] = .int(peer.timeOffset)
        if let ping = peer.pingTime { object["pingtime"] = .double(ping) }
        if let ping = peer.minPing { object["minping"] = .double(ping) }
        if let wait = peer.pingWait { object["pingwait"] = .double(wait) }
        object["version"] = .int(peer.protocolVersion)
        object["subver"] = .string(peer.userAgent)
        object["inbound"] = .bool(peer.inbound)
        object["startingheight"] = .int(peer.startingHeight)
        // The heights known in common: the peer's best known header, and the blocks of it this node has.
        let tip = chain.snapshot.tipHeight
        object["synced_headers"] = peer.handshakeDone ? .int(peer.knownHeight) : -1
        object["synced_blocks"] = peer.handshakeDone ? .int(min(peer.knownHeight, tip)) : -1
        object["connection_type"] = .string(peer.connectionType)
        object["bytessent_per_msg"] = .object(JSONObject(peer.bytesSentByCommand.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }))
        object["bytesrecv_per_msg"] = .object(JSONObject(peer.bytesReceivedByCommand.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }))
        // The proTxHash the peer authenticated as with its operator key (mnauth); absent otherwise.
        if let masternode = peer.masternode { object["masternode"] = .string(masternode.hex) }
        return .object(object)
    }

    /// 16 hex digits, as bitcoind shows service bits.
    static func servicesHex(_ services: UInt64) -> String {
        let digits = String(services, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    static func serviceNames(_ services: UInt64) -> [String] {
        var names = [String]()
        if services & WireProtocol.nodeNetwork != 0 { names.append("NETWORK") }
        return names
    }

    /// "/rusty:0.1.0/" → 100 (bitcoind's CLIENT_VERSION form: major * 10000 + minor * 100 + patch).
    static func clientVersion(_ userAgent: String) -> Int {
        guard let colon = userAgent.firstIndex(of: ":") else { return 0 }
        let parts = userAgent[userAgent.index(after: colon)...].prefix { $0 != "/" && $0 != "(" }.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 3 else { return 0 }
        return parts[0] * 10_000 + parts[1] * 100 + parts[2]
    }

    func networkInfo() async throws -> JSON {
        let peers = try await self.peers.peerInfo()
        let listening = try await self.peers.listeningAddresses()
        let settings = self.peers.settings
        var info = JSONObject()
        info["version"] = .int(Self.clientVersion(settings.userAgent))
        info["subversion"] = .string(settings.userAgent)
        info["protocolversion"] = .int(WireProtocol.version)
        info["localservices"] = .string(Self.servicesHex(WireProtocol.nodeNetwork))
        info["localservicesnames"] = .array(Self.serviceNames(WireProtocol.nodeNetwork).map { .string($0) })
        info["localrelay"] = true
        // bitcoind: the median of the peers' clock offsets.
        let offsets = peers.filter(\.handshakeDone).map(\.timeOffset).sorted()
        info["timeoffset"] = .int(offsets.isEmpty ? 0 : offsets[offsets.count / 2])
        info["networkactive"] = .bool(try await self.peers.isNetworkActive())
        info["connections"] = .int(peers.count)
        info["connections_in"] = .int(peers.filter(\.inbound).count)
        info["connections_out"] = .int(peers.filter { !$0.inbound }.count)
        info["networks"] = .array(["ipv4", "ipv6"].map { name in
            ["name": .string(name), "limited": false, "reachable": true, "proxy": "", "proxy_randomize_credentials": false]
        })
        info["relayfee"] = .decimal(self.peers.pool.minimumFeeRate)
        // The pool has no separate incremental fee yet (replacement arrives with #15): the relay minimum, as getmempoolinfo says.
        info["incrementalfee"] = .decimal(self.mempool.minRelayFeeRate)
        info["localaddresses"] = .array(listening.compactMap { PeerEndpoint(parsing: $0, defaultPort: 0) }
            .filter { !$0.isUnspecified }
            .map { ["address": .string(PeerManager.host($0)), "port": .int($0.port), "score": 1] })
        info["warnings"] = .array([])
        return .object(info)
    }
}
