import Primitives

/// A masternode's public P2P endpoint: 16 address bytes (an IPv4 address as `::ffff:a.b.c.d`)
/// and a port, encoded `address [16] | port u16` with the port big-endian (network order,
/// as Bitcoin's `addr` entries).
public struct ServiceAddress: Hashable, Sendable, BinaryCodable, CustomStringConvertible {
    public var address: [UInt8]
    public var port: UInt16

    public static let encodedLength = 18
    static let ipv4Prefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    public init(address: [UInt8], port: UInt16) {
        precondition(address.count == 16, "16 address bytes")
        self.address = address
        self.port = port
    }

    public init(ipv4: (UInt8, UInt8, UInt8, UInt8), port: UInt16) {
        self.init(address: Self.ipv4Prefix + [ipv4.0, ipv4.1, ipv4.2, ipv4.3], port: port)
    }

    /// Parses `a.b.c.d:port` or `[ipv6]:port` (hex groups, `::` allowed); nil when malformed.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Self.decimal(text[text.index(after: colon)...], digits: 5).flatMap(UInt16.init(exactly:))
        else { return nil }
        let host = text[..<colon]
        if host.hasPrefix("["), host.hasSuffix("]") {
            guard let bytes = Self.parseIPv6(String(host.dropFirst().dropLast())) else { return nil }
            self.init(address: bytes, port: port)
        } else {
            let parts = host.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var octets = [UInt8]()
            for part in parts {
                guard let value = Self.decimal(part, digits: 3).flatMap(UInt8.init(exactly:)) else { return nil }
                octets.append(value)
            }
            self.init(address: Self.ipv4Prefix + octets, port: port)
        }
    }

    /// 1 to `digits` ASCII decimal digits (no sign, no spaces: Swift's integer parsing takes a "+").
    static func decimal(_ text: Substring, digits: Int) -> Int? {
        guard !text.isEmpty, text.count <= digits, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    static func parseIPv6(_ text: String) -> [UInt8]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out = [UInt16]()
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard !group.isEmpty, group.count <= 4, group.allSatisfy(\.isHexDigit), group.allSatisfy(\.isASCII),
                      let value = UInt16(group, radix: 16) else { return nil }
                out.append(value)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var words = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
            words += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard words.count == 8 else { return nil }
        return words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    public var isIPv4: Bool { Array(address.prefix(12)) == Self.ipv4Prefix }

    /// A service other nodes could connect to: a port and an address that is not all zeros.
    public var isRoutableShape: Bool {
        port != 0 && address.contains { $0 != 0 } && !(isIPv4 && address[12...].allSatisfy { $0 == 0 })
    }

    public var host: String {
        if isIPv4 { return address[12...].map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    public var description: String { isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)" }

    public func encode(to writer: inout ByteWriter) {
        writer.write(bytes: address)
        writer.write(UInt8(port >> 8))
        writer.write(UInt8(port & 0xFF))
    }

    public static func decode(from reader: inout ByteReader) throws -> ServiceAddress {
        let address = try reader.readBytes(16, "address")
        let high = try reader.readUInt8("port"), low = try reader.readUInt8("port")
        return ServiceAddress(address: address, port: UInt16(high) << 8 | UInt16(low))
    }
}
