#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A peer or listening address as written in `connect`, `addnode`, `seednode` or `bind`:
/// `HOST`, `HOST:PORT`, `[IPV6]`, `[IPV6]:PORT` or a bare IPv6 address. HOST is an IPv4 or
/// IPv6 literal or a DNS name; names are only checked for shape here (no lookup).
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// The text as given, for messages and the status file.
    public let text: String
    /// The host without brackets ("::1", "10.0.0.1", "seed.example.org").
    public let host: String
    /// The port given, or the default the endpoint was parsed with.
    public let port: UInt16
    public let kind: Kind

    public enum Kind: Sendable, Hashable {
        case ipv4, ipv6, name
    }

    /// The numeric address to connect to or bind without a DNS lookup: the literal itself,
    /// or 127.0.0.1 for `localhost` (the one name resolved here); nil for other names.
    public var numericHost: String? {
        switch kind {
        case .ipv4, .ipv6: return host
        case .name: return host.lowercased() == "localhost" ? "127.0.0.1" : nil
        }
    }

    public var description: String { text }

    public struct ParseError: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "'\(text)' is not an address: \(reason)" }
    }

    /// Parses `text`; `allowPortZero` is for `bind` (0: any free port).
    public init(_ text: String, defaultPort: UInt16, allowPortZero: Bool = false) throws {
        func fail(_ reason: String) -> ParseError { ParseError(text: text, reason: reason) }
        var hostPart: Substring
        var portPart: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("missing ']' after an IPv6 address") }
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw fail("expected ':PORT' after ']'") }
                portPart = rest.dropFirst()
            }
            guard Self.isIPv6(String(hostPart)) else { throw fail("'\(hostPart)' is not an IPv6 address") }
        } else if text.filter({ $0 == ":" }).count > 1 {
            // Several colons without brackets: only a bare IPv6 address (no port) reads one way.
            guard Self.isIPv6(text) else { throw fail("an IPv6 address with a port must be in brackets ([ADDRESS]:PORT)") }
            hostPart = Substring(text)
        } else if let colon = text.firstIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        } else {
            hostPart = Substring(text)
        }
        let host = String(hostPart)
        guard !host.isEmpty else { throw fail("no host") }
        if let portPart {
            guard let port = UInt16(portPart), port > 0 || allowPortZero else {
                throw fail("port '\(portPart)' is not \(allowPortZero ? "0" : "1")...65535")
            }
            self.port = port
        } else {
            self.port = defaultPort
        }
        if Self.isIPv6(host) {
            kind = .ipv6
        } else if Self.isIPv4(host) {
            kind = .ipv4
        } else if Self.isHostName(host) {
            kind = .name
        } else {
            throw fail("'\(host)' is neither an IP address nor a host name")
        }
        self.text = text
        self.host = host
    }

    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }

    /// RFC 1123 names: dot-separated labels of letters, digits and inner hyphens. An
    /// all-digit dotted string is a malformed IPv4 address, not a name.
    static func isHostName(_ text: String) -> Bool {
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        if labels.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }) { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-") }
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
