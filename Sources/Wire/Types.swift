import Primitives

/// Protocol constants of section 12.
public enum WireProtocol {
    /// The protocol version of docs/PROTOCOL.md.
    public static let version: UInt32 = 1
    /// Service bit 0: the node serves the full chain.
    public static let nodeNetwork: UInt64 = 1
}

/// `services u64 | ip [16] | port u16`: IPv6, with IPv4 as `::ffff:a.b.c.d`.
public struct NetAddress: Hashable, Sendable, CustomStringConvertible {
    public var services: UInt64
    /// 16 bytes in network order.
    public var ip: [UInt8]
    public var port: UInt16

    public static let encodedLength = 26
    static let ipv4Prefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    public init(services: UInt64, ip: [UInt8], port: UInt16) {
        precondition(ip.count == 16, "NetAddress.ip is 16 bytes")
        self.services = services
        self.ip = ip
        self.port = port
    }

    /// An IPv4 address, in its IPv4-mapped IPv6 form.
    public static func ipv4(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16, services: UInt64 = 0) -> NetAddress {
        NetAddress(services: services, ip: ipv4Prefix + [a, b, c, d], port: port)
    }

    /// All zero: "unknown" (a version message's sender field may be this).
    public static let none = NetAddress(services: 0, ip: [UInt8](repeating: 0, count: 16), port: 0)

    /// The four IPv4 bytes when `ip` is IPv4-mapped.
    public var ipv4Bytes: [UInt8]? {
        ip.count == 16 && ip.starts(with: Self.ipv4Prefix) ? Array(ip[12...]) : nil
    }

    /// `a.b.c.d:port` or `[x:x:...]:port` (uncompressed groups).
    public var description: String {
        if let v4 = ipv4Bytes { return v4.map(String.init).joined(separator: ".") + ":\(port)" }
        var groups = [String]()
        var i = 0
        while i + 1 < ip.count {
            groups.append(String(UInt16(ip[i]) << 8 | UInt16(ip[i + 1]), radix: 16))
            i += 2
        }
        return "[" + groups.joined(separator: ":") + "]:\(port)"
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(services)
        // Exactly 16 bytes whatever `ip` holds, so a frame's layout never shifts.
        let cut = ip.prefix(16)
        writer.write(bytes: cut)
        writer.write(bytes: [UInt8](repeating: 0, count: 16 - cut.count))
        writer.write(UInt8(truncatingIfNeeded: port))
        writer.write(UInt8(truncatingIfNeeded: port >> 8))
    }

    static func decode(from reader: inout ByteReader) throws -> NetAddress {
        let services = try reader.readUInt64("services")
        let ip = try reader.readBytes(16, "ip")
        let port = try reader.readBytes(2, "port")
        return NetAddress(services: services, ip: ip, port: UInt16(port[0]) | UInt16(port[1]) << 8)
    }
}

/// `time u64 | NetAddress`: an address as gossiped in `addr`, with when it was last seen.
public struct TimedAddress: Hashable, Sendable {
    public var time: UInt64
    public var address: NetAddress

    public static let encodedLength = 8 + NetAddress.encodedLength

    public init(time: UInt64, address: NetAddress) {
        self.time = time
        self.address = address
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(time)
        address.encode(to: &writer)
    }

    static func decode(from reader: inout ByteReader) throws -> TimedAddress {
        let time = try reader.readUInt64("time")
        return TimedAddress(time: time, address: try NetAddress.decode(from: &reader))
    }
}

/// The `version` message: the first thing each side sends.
public struct VersionMessage: Equatable, Sendable {
    public var protocolVersion: UInt32
    public var services: UInt64
    public var timestamp: UInt64
    public var receiver: NetAddress
    public var sender: NetAddress
    /// Random per connection: a node that receives its own nonce connected to itself.
    public var nonce: UInt64
    public var userAgent: String
    public var bestHeight: UInt64
    /// Whether the sender wants transactions announced to it.
    public var relay: Bool

    public init(protocolVersion: UInt32 = WireProtocol.version, services: UInt64, timestamp: UInt64,
                receiver: NetAddress, sender: NetAddress, nonce: UInt64, userAgent: String,
                bestHeight: UInt64, relay: Bool) {
        self.protocolVersion = protocolVersion
        self.services = services
        self.timestamp = timestamp
        self.receiver = receiver
        self.sender = sender
        self.nonce = nonce
        self.userAgent = userAgent
        self.bestHeight = bestHeight
        self.relay = relay
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(protocolVersion)
        writer.write(services)
        writer.write(timestamp)
        receiver.encode(to: &writer)
        sender.encode(to: &writer)
        writer.write(nonce)
        writer.writeVarBytes(Array(userAgent.utf8))
        writer.write(bestHeight)
        writer.write(UInt8(relay ? 1 : 0))
    }

    static func decode(from reader: inout ByteReader) throws -> VersionMessage {
        let protocolVersion = try reader.readUInt32("protocol_version")
        let services = try reader.readUInt64("services")
        let timestamp = try reader.readUInt64("timestamp")
        let receiver = try reader.within("receiver") { try NetAddress.decode(from: &$0) }
        let sender = try reader.within("sender") { try NetAddress.decode(from: &$0) }
        let nonce = try reader.readUInt64("nonce")
        let agentStart = reader.offset
        let agentBytes = try reader.readVarBytes("user_agent", limit: WireLimits.maxUserAgent)
        let userAgent = String(decoding: agentBytes, as: UTF8.self)
        // Invalid UTF-8 would decode with replacement characters and re-encode differently.
        guard userAgent.utf8.elementsEqual(agentBytes) else {
            throw reader.invalid("user_agent", at: agentStart, "not valid UTF-8")
        }
        let bestHeight = try reader.readUInt64("best_height")
        let relayOffset = reader.offset
        let relay = try reader.readUInt8("relay")
        guard relay <= 1 else { throw reader.invalid("relay", at: relayOffset, "must be 0 or 1, got \(relay)") }
        return VersionMessage(protocolVersion: protocolVersion, services: services, timestamp: timestamp,
                              receiver: receiver, sender: sender, nonce: nonce, userAgent: userAgent,
                              bestHeight: bestHeight, relay: relay == 1)
    }
}

public enum InventoryType: UInt32, Sendable {
    /// A transaction, by wtxid.
    case transaction = 1
    /// A block, by block hash.
    case block = 2
    /// A transaction by its txid (witness-free hash): how a node asks for an orphan's
    /// missing parent, which the orphan names only by txid. Only in `getdata` and `notfound`;
    /// announcements (`inv`) are by wtxid.
    case transactionByTxid = 3
}

/// `type u32 | hash [32]`, the entries of inv, getdata and notfound.
public struct InventoryItem: Hashable, Sendable {
    public var type: InventoryType
    public var hash: Hash256

    public static let encodedLength = 36

    public init(type: InventoryType, hash: Hash256) {
        self.type = type
        self.hash = hash
    }

    func encode(to writer: inout ByteWriter) {
        writer.write(type.rawValue)
        writer.write(hash)
    }

    static func decode(from reader: inout ByteReader) throws -> InventoryItem {
        let typeOffset = reader.offset
        let raw = try reader.readUInt32("type")
        guard let type = InventoryType(rawValue: raw) else {
            throw reader.invalid("type", at: typeOffset, "unknown inventory type \(raw)")
        }
        return InventoryItem(type: type, hash: try reader.readHash("hash"))
    }
}

/// A `block` message's payload. Only the 128-byte header is decoded here: the verification
/// pipeline decodes (strictly) and checks the rest, in parallel with other blocks.
public struct BlockPayload: Sendable, Equatable {
    public let bytes: [UInt8]
    public let header: BlockHeader
    public var hash: Hash256 { header.hash }

    /// Fewer than 128 bytes is malformed; the rest is not looked at.
    public init(bytes: [UInt8]) throws(WireError) {
        do {
            var reader = ByteReader(Array(bytes.prefix(BlockHeader.encodedLength)), path: "block.header")
            header = try BlockHeader.decode(from: &reader)
        } catch {
            throw .malformed(command: "block", reason: "\(error)")
        }
        self.bytes = bytes
    }

    public init(block: Block) {
        bytes = block.encoded
        header = block.header
    }
}
