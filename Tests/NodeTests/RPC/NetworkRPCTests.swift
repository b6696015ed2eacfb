import AddressBook
import Foundation
import JSONRPC
import Testing
import Wire
@testable import Node

/// The network methods between two in-process nodes on 127.0.0.1: one listening, the other
/// told to connect with addnode.
@Suite("Network RPC", .serialized)
struct NetworkRPCTests {
    static func pair() async throws -> (listener: RPCTestNode, dialer: RPCTestNode, port: Int) {
        let listener = try RPCTestNode(listen: true)
        let dialer = try RPCTestNode()
        try await listener.start()
        try await dialer.start()
        let address = try #require(try await listener.peers.listeningAddresses().first)
        let port = try #require(PeerEndpoint(parsing: address, defaultPort: 0)?.port)
        return (listener, dialer, Int(port))
    }

    /// Runs `body` with a started pair, shutting both down however it ends.
    static func withPair(_ body: (RPCTestNode, RPCTestNode, Int) async throws -> Void) async throws {
        let (listener, dialer, port) = try await pair()
        do { try await body(listener, dialer, port) } catch {
            await listener.shutdown()
            await dialer.shutdown()
            throw error
        }
        await listener.shutdown()
        await dialer.shutdown()
    }

    static func handshaken(_ node: RPCTestNode) async throws -> [JSON] {
        try await node.result("getpeerinfo").arrayValue?.filter { ($0["version"]?.int64Value ?? 0) > 0 } ?? []
    }

    @Test("addnode connects and keeps the peer; getpeerinfo, getaddednodeinfo, totals; disconnectnode; remove", .timeLimit(.minutes(5)))
    func addAndDisconnect() async throws {
        try await Self.withPair { listener, dialer, port in
            let target = JSON.string("127.0.0.1:\(port)")

            #expect(try await dialer.result("addnode", [target, "add"]) == .null)
            let again = try await dialer.error("addnode", [target, "add"])
            #expect(again?.code == -23 && again?.message == "Error: Node already added")
            #expect(try await eventually {
                let outbound = try await Self.handshaken(dialer).count
                let inbound = try await Self.handshaken(listener).count
                return outbound == 1 && inbound == 1
            })

            let outbound = try #require(try await Self.handshaken(dialer).first)
            #expect(outbound["addr"] == target && outbound["connection_type"] == "manual" && outbound["inbound"] == false)
            #expect(outbound["network"] == "ipv4" && outbound["services"] == "0000000000000001" && outbound["servicesnames"] == ["NETWORK"])
            #expect(outbound["subver"] == "/rusty:0.1.0/" && outbound["startingheight"] == 0)
            #expect(outbound["bytessent_per_msg"]?["version"] != nil && outbound["bytesrecv_per_msg"]?["verack"] != nil)
            #expect((outbound["bytessent"]?.int64Value ?? 0) > 0 && (outbound["lastrecv"]?.int64Value ?? 0) > 0)
            // The peer's feefilter (RUST/kvB); it sends one right after the handshake.
            #expect(outbound["minfeefilter"] != nil)
            let inbound = try #require(try await Self.handshaken(listener).first)
            #expect(inbound["inbound"] == true && inbound["connection_type"] == "inbound")
            #expect(try await listener.result("getconnectioncount") == 1)

            let totals = try await dialer.result("getnettotals")
            #expect((totals["totalbytessent"]?.int64Value ?? 0) > 0 && (totals["totalbytesrecv"]?.int64Value ?? 0) > 0)
            let traffic = try await dialer.peers.trafficByCommand()
            #expect(traffic.sent["version"] != nil && traffic.received["version"] != nil)

            let added = try await dialer.result("getaddednodeinfo")
            #expect(added == [["addednode": target, "connected": true, "addresses": [["address": target, "connected": "outbound"]]]])
            #expect(try await dialer.result("getaddednodeinfo", [target]) == added)
            #expect(try await dialer.errorCode("getaddednodeinfo", ["127.0.0.1:1"]) == -24)

            let network = try await dialer.result("getnetworkinfo")
            #expect(network["connections"] == 1 && network["connections_out"] == 1 && network["connections_in"] == 0)
            #expect(network["subversion"] == "/rusty:0.1.0/" && network["version"] == 100 && network["protocolversion"] == 1)

            // Disconnected by id, the added node comes back.
            let id = try #require(inbound["id"])
            #expect(try await listener.result("disconnectnode", ["", id]) == .null)
            #expect(try await eventually { try await Self.handshaken(listener).first?["id"].map { $0 != id } ?? false })
            let missing = try await listener.error("disconnectnode", [.null, id])
            #expect(missing?.code == -29 && missing?.message == "Node not found in connected nodes")
            #expect(try await listener.errorCode("disconnectnode", ["10.1.2.3:5"]) == -29)
            #expect(try await listener.errorCode("disconnectnode") == -8)
            #expect(try await listener.errorCode("disconnectnode", ["10.1.2.3:5", 1]) == -8)

            #expect(try await dialer.result("addnode", [target, "remove"]) == .null)
            let removed = try await dialer.error("addnode", [target, "remove"])
            #expect(removed?.code == -24 && removed?.message == "Error: Node could not be removed. It has not been added previously.")
            #expect(try await dialer.result("getaddednodeinfo") == [])
            #expect(try await dialer.result("disconnectnode", [target]) == .null)
            #expect(try await eventually { try await dialer.result("getconnectioncount") == 0 })
            #expect(try await dialer.errorCode("addnode", ["not-an-address", "add"]) == -8)
            #expect(try await dialer.errorCode("addnode", [target, "sometimes"]) == RPCError.invalidParamsCode)
            #expect(try await dialer.errorCode("addnode", [target]) == RPCError.invalidParamsCode)
        }
    }

    @Test("setban disconnects and refuses the range; listbanned, remove, clearbanned; the banlist file follows", .timeLimit(.minutes(5)))
    func bans() async throws {
        try await Self.withPair { listener, dialer, port in
            #expect(try await dialer.result("addnode", [.string("127.0.0.1:\(port)"), "add"]) == .null)
            #expect(try await eventually { try await Self.handshaken(listener).count == 1 })

            let before = UInt64(Date().timeIntervalSince1970)
            #expect(try await listener.result("setban", ["127.0.0.0/8", "add"]) == .null)
            #expect(try await eventually { try await listener.result("getconnectioncount") == 0 })
            // The dialer keeps trying; the banned range stays out.
            try await Task.sleep(for: .seconds(1))
            #expect(try await Self.handshaken(listener).isEmpty)

            let already = try await listener.error("setban", ["127.0.0.0/8", "add"])
            #expect(already?.code == -23 && already?.message == "Error: IP/Subnet already banned")
            #expect(try await listener.result("setban", ["10.0.0.1", "add", 3600]) == .null)
            #expect(try await listener.result("setban", ["2001:db8::/32", "add", 4_000_000_000, true]) == .null)
            let listed = try #require(try await listener.result("listbanned").arrayValue)
            #expect(listed.map { $0["address"] } == ["10.0.0.1/32", "127.0.0.0/8", "2001:db8::/32"])
            let single = listed[0]
            let created = try #require(single["ban_created"]?.int64Value)
            #expect(created >= Int64(before) && single["ban_duration"] == 3600)
            #expect(single["banned_until"] == .int(created + 3600) && (single["time_remaining"]?.int64Value ?? 0) <= 3600)
            #expect(listed[1]["ban_duration"] == 86_400 && listed[2]["banned_until"] == 4_000_000_000)

            // Written to <datadir>/banlist as it changes.
            let saved = try BanList.load(from: listener.directory + "/banlist")
            #expect(saved.entries(now: before).map(\.subnet) == ["10.0.0.1/32", "127.0.0.0/8", "2001:db8::/32"])

            let invalid = try await listener.error("setban", ["300.1.2.3", "add"])
            #expect(invalid?.code == -30 && invalid?.message == "Error: Invalid IP/Subnet")
            #expect(try await listener.errorCode("setban", ["10.0.0.0/33", "add"]) == -30)
            #expect(try await listener.errorCode("setban", ["10.0.0.2", "add", -5]) == -8)
            #expect(try await listener.errorCode("setban", ["10.0.0.2", "add", 1, true]) == -8) // in the past
            #expect(try await listener.errorCode("setban", ["10.0.0.2", "ban"]) == RPCError.invalidParamsCode)

            #expect(try await listener.result("setban", ["127.0.0.0/8", "remove"]) == .null)
            let unban = try await listener.error("setban", ["127.0.0.0/8", "remove"])
            #expect(unban?.code == -30 && unban?.message == "Error: Unban failed")
            // Unbanned, the added node connects again.
            #expect(try await eventually { try await Self.handshaken(listener).count == 1 })

            #expect(try await listener.result("clearbanned") == .null)
            #expect(try await listener.result("listbanned") == [])
            #expect(try BanList.load(from: listener.directory + "/banlist").count == 0)
        }
    }

    @Test("traffic is counted by command; unknown commands share one bucket")
    func trafficKeys() {
        #expect(PeerManager.trafficKey(.ping(1)) == "ping")
        #expect(PeerManager.trafficKey(.verack) == "verack")
        #expect(PeerManager.trafficKey(.unknown(command: "madeup")) == "*other*")
        #expect(PeerManager.trafficKey(.unknown(command: "another")) == "*other*")
    }

    @Test("setnetworkactive false closes every connection and keeps the added node out until true", .timeLimit(.minutes(5)))
    func networkActive() async throws {
        try await Self.withPair { listener, dialer, port in
            #expect(try await dialer.result("addnode", [.string("127.0.0.1:\(port)"), "add"]) == .null)
            #expect(try await eventually { try await Self.handshaken(dialer).count == 1 })
            #expect(try await dialer.result("setnetworkactive", [false]) == false)
            #expect(try await dialer.result("getnetworkinfo")["networkactive"] == false)
            #expect(try await eventually { try await dialer.result("getconnectioncount") == 0 })
            try await Task.sleep(for: .seconds(1)) // several reconnect intervals
            #expect(try await dialer.result("getconnectioncount") == 0)
            #expect(try await listener.result("getconnectioncount") == 0)
            #expect(try await dialer.result("setnetworkactive", [true]) == true)
            #expect(try await dialer.result("getnetworkinfo")["networkactive"] == true)
            #expect(try await eventually { try await Self.handshaken(dialer).count == 1 })
            #expect(try await dialer.errorCode("setnetworkactive", ["no"]) == -3)
        }
    }

    @Test("ping asks every peer; the round trip shows in getpeerinfo", .timeLimit(.minutes(5)))
    func ping() async throws {
        try await Self.withPair { listener, dialer, port in
            #expect(try await dialer.result("addnode", [.string("127.0.0.1:\(port)"), "onetry"]) == .null)
            #expect(try await eventually { try await Self.handshaken(dialer).count == 1 })
            let outbound = try #require(try await Self.handshaken(dialer).first)
            #expect(outbound["connection_type"] == "manual")
            // onetry does not add the node to the list.
            #expect(try await dialer.result("getaddednodeinfo") == [])
            #expect(try await dialer.result("ping") == .null)
            #expect(try await eventually { try await Self.handshaken(dialer).first?["pingtime"] != nil })
            let peer = try #require(try await Self.handshaken(dialer).first)
            #expect((peer["pingtime"]?.doubleValue ?? -1) >= 0 && peer["minping"] != nil && peer["pingwait"] == nil)
        }
    }
}
