// Peer addresses: the address manager (peers.dat) and the ban list (banlist).

/// An IP (16 bytes, IPv4 as ::ffff:a.b.c.d) and port.
public struct PeerEndpoint: Hashable, Sendable, CustomStringConvertible, Comparable {
    /// Always 16 bytes (normalised on every set), so equal hosts compare equal and the
    /// byte-indexing properties below cannot go out of range.
    public var ip: [UInt8] {
        didSet { if ip.count != 16 { ip = PeerEndpoint.normalize(ip) } }
    }
    public var port: UInt16

    /// `ip` of 4 bytes is IPv4 and is mapped; 16 bytes are kept; any other length is cut or
    /// zero-padded to 16 rather than trapping, since lengths can come from decoded input.
    public init(ip: [UInt8], port: UInt16) {
        self.ip = PeerEndpoint.normalize(ip)
        self.port = port
    }

    static let v4Prefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    static func normalize(_ ip: [UInt8]) -> [UInt8] {
        if ip.count == 16 { return ip }
        if ip.count == 4 { return v4Prefix + ip }
        return Array(ip.prefix(16)) + [UInt8](repeating: 0, count: max(0, 16 - ip.count))
    }

    /// "1.2.3.4", "1.2.3.4:5", "[::1]:5", "::1", "localhost[:5]"; nil for anything else.
    /// Never resolves names: a lookup here would let a config or RPC string reach the network.
    public init?(parsing text: String, defaultPort: UInt16) {
        guard !text.isEmpty, text.utf8.count <= 100 else { return nil }
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = PeerEndpoint.parsePort(rest.dropFirst()) else { return nil }
                port = p
            }
            guard let ip = PeerEndpoint.parseIPv6(host) else { return nil }
            self.init(ip: ip, port: port)
            return
        }
        let colons = host.filter { $0 == ":" }.count
        if colons == 1 {
            let colon = host.firstIndex(of: ":")!
            guard let p = PeerEndpoint.parsePort(host[host.index(after: colon)...]) else { return nil }
            port = p
            host = host[..<colon]
        } else if colons > 1 {
            // A bare IPv6 address cannot carry a port (its last group would be ambiguous).
            guard let ip = PeerEndpoint.parseIPv6(host) else { return nil }
            self.init(ip: ip, port: port)
            return
        }
        if host.lowercased() == "localhost" {
            self.init(ip: [127, 0, 0, 1], port: port)
            return
        }
        guard let v4 = PeerEndpoint.parseIPv4(host) else { return nil }
        self.init(ip: v4, port: port)
    }

    /// 1 to 5 decimal digits, 1...65535: port 0 is never a place to connect to.
    static func parsePort(_ text: Substring) -> UInt16? {
        guard (1...5).contains(text.count), text.allSatisfy({ $0.isASCII && $0.isNumber }),
              let value = UInt32(text), value >= 1, value <= 65535 else { return nil }
        return UInt16(value)
    }

    /// Four dotted decimal parts 0...255 (at most 3 digits each).
    static func parseIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out = [UInt8]()
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = UInt16(part), value <= 255 else { return nil }
            out.append(UInt8(value))
        }
        return out
    }

    /// RFC 4291 text: eight hex groups, one "::" for a run of zeros, an optional dotted IPv4
    /// tail. Zone ids ("%eth0") are refused: they name a local interface, not a peer.
    static func parseIPv6(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, text.count <= 45 else { return nil }
        var head: [Substring]
        var tail: [Substring] = []
        let compressed: Bool
        if let range = text.range(of: "::") {
            compressed = true
            let left = text[..<range.lowerBound], right = text[range.upperBound...]
            if right.contains("::") { return nil }
            head = left.isEmpty ? [] : left.split(separator: ":", omittingEmptySubsequences: false)
            tail = right.isEmpty ? [] : right.split(separator: ":", omittingEmptySubsequences: false)
        } else {
            compressed = false
            head = text.split(separator: ":", omittingEmptySubsequences: false)
        }
        func words(_ groups: [Substring], allowV4Tail: Bool) -> [UInt16]? {
            var out = [UInt16]()
            for (i, group) in groups.enumerated() {
                if allowV4Tail, i == groups.count - 1, group.contains(".") {
                    guard let v4 = parseIPv4(group) else { return nil }
                    out.append(UInt16(v4[0]) << 8 | UInt16(v4[1]))
                    out.append(UInt16(v4[2]) << 8 | UInt16(v4[3]))
                    continue
                }
                guard (1...4).contains(group.count), group.allSatisfy({ $0.isHexDigit && $0.isASCII }),
                      let w = UInt16(group, radix: 16) else { return nil }
                out.append(w)
            }
            return out
        }
        guard let h = words(head, allowV4Tail: !compressed), let t = words(tail, allowV4Tail: compressed) else { return nil }
        let all: [UInt16]
        if compressed {
            // "::" stands for at least one zero group.
            guard h.count + t.count <= 7 else { return nil }
            all = h + [UInt16](repeating: 0, count: 8 - h.count - t.count) + t
        } else {
            guard h.count == 8 else { return nil }
            all = h
        }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    public var isIPv4: Bool { ip.count == 16 && Array(ip[0..<12]) == PeerEndpoint.v4Prefix }

    /// The four IPv4 bytes when `isIPv4`.
    var v4: [UInt8] { Array(ip[12..<16]) }

    public var isLoopback: Bool {
        if isIPv4 { return ip[12] == 127 }
        return ip == [UInt8](repeating: 0, count: 15) + [1]
    }

    public var isUnspecified: Bool {
        if isIPv4 { return ip[12] == 0 }
        return ip.allSatisfy { $0 == 0 }
    }

    /// Reachable on the public internet: the private, local, documentation, shared, benchmark,
    /// multicast and reserved ranges are not (a peer announcing them wastes our slots).
    public var isRoutable: Bool {
        if isUnspecified || isLoopback { return false }
        if isIPv4 {
            let a = ip[12], b = ip[13], c = ip[14]
            if a == 10 { return false }                                   // RFC 1918
            if a == 172 && (16...31).contains(b) { return false }         // RFC 1918
            if a == 192 && b == 168 { return false }                      // RFC 1918
            if a == 100 && (64...127).contains(b) { return false }        // RFC 6598 shared
            if a == 169 && b == 254 { return false }                      // RFC 3927 link-local
            if a == 198 && (b == 18 || b == 19) { return false }          // RFC 2544 benchmark
            if a == 192 && b == 0 && (c == 0 || c == 2) { return false }  // RFC 6890 / 5737
            if a == 198 && b == 51 && c == 100 { return false }           // RFC 5737
            if a == 203 && b == 0 && c == 113 { return false }            // RFC 5737
            if a >= 224 { return false }                                  // multicast, reserved, broadcast
            return true
        }
        let a = ip[0], b = ip[1]
        if a & 0xFE == 0xFC { return false }                              // fc00::/7 unique local
        if a == 0xFE && b & 0xC0 == 0x80 { return false }                 // fe80::/10 link-local
        if a == 0xFE && b & 0xC0 == 0xC0 { return false }                 // fec0::/10 site-local
        if a == 0xFF { return false }                                     // multicast
        if a == 0x20 && b == 0x01 && ip[2] == 0x0D && ip[3] == 0xB8 { return false } // 2001:db8::/32 documentation
        if a == 0x20 && b == 0x01 && ip[2] == 0x00 && (ip[3] & 0xF0 == 0x10 || ip[3] & 0xF0 == 0x20) {
            return false                                                  // 2001:10::/28, 2001:20::/28 ORCHID
        }
        if ip[0..<12].allSatisfy({ $0 == 0 }) { return false }            // ::/96 deprecated IPv4-compatible
        return true
    }

    /// Hosts that one operator plausibly controls share a group: /16 for IPv4, /32 for IPv6.
    /// Non-routable addresses share one group, unless `localIsDistinct` (regtest), where each
    /// is its own group so a loopback test network behaves like distinct hosts.
    public func networkGroup(localIsDistinct: Bool) -> [UInt8] {
        if !isRoutable {
            if localIsDistinct { return [0xFF] + ip + [UInt8(port >> 8), UInt8(port & 0xFF)] }
            return [0]
        }
        if isIPv4 { return [4, ip[12], ip[13]] }
        return [6] + Array(ip[0..<4])
    }

    /// "1.2.3.4:5" or "[2001:db8::1]:5".
    public var description: String { "\(hostDescription):\(port)" }

    /// The address alone: "1.2.3.4" or "[2001:db8::1]" (bracketed, so a port can follow).
    public var hostDescription: String {
        if isIPv4 { return v4.map(String.init).joined(separator: ".") }
        return "[\(PeerEndpoint.formatIPv6(ip))]"
    }

    /// RFC 5952: lower-case hex without leading zeros, the longest run (two or more) of zero
    /// groups, leftmost on ties, as "::".
    static func formatIPv6(_ ip: [UInt8]) -> String {
        let words = (0..<8).map { UInt16(ip[2 * $0]) << 8 | UInt16(ip[2 * $0 + 1]) }
        var bestStart = -1, bestLength = 0, i = 0
        while i < 8 {
            if words[i] == 0 {
                var j = i
                while j < 8 && words[j] == 0 { j += 1 }
                if j - i > bestLength { bestStart = i; bestLength = j - i }
                i = j
            } else {
                i += 1
            }
        }
        let hex = words.map { String($0, radix: 16) }
        if bestLength < 2 { return hex.joined(separator: ":") }
        let left = hex[0..<bestStart].joined(separator: ":")
        let right = hex[(bestStart + bestLength)...].joined(separator: ":")
        return left + "::" + right
    }

    public static func < (lhs: PeerEndpoint, rhs: PeerEndpoint) -> Bool {
        if lhs.ip != rhs.ip { return lhs.ip.lexicographicallyPrecedes(rhs.ip) }
        return lhs.port < rhs.port
    }
}
