// Where `rusty mine` gets its work: a node's JSON-RPC (`http://[user:password@]host:port`) or
// a Stratum pool (`stratum+tcp://host:port`). Parsed by hand so every malformed part gets an
// error naming it (Foundation's URL accepts too much and says too little).

/// A mining URL that could not be parsed; the message names the part that is wrong.
public struct MiningURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Host and port of a server, with the credentials an `http://` URL may carry.
public struct MiningEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String?
    public var password: String?

    public init(host: String, port: Int, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// `http://[user:password@]host:port[/]`: a node's JSON-RPC endpoint.
    public static func rpc(_ text: String) throws(MiningURLError) -> MiningEndpoint {
        try parse(text, scheme: "http", option: "--rpc", allowsCredentials: true)
    }

    /// `stratum+tcp://host:port`: a Stratum v1 pool.
    public static func stratum(_ text: String) throws(MiningURLError) -> MiningEndpoint {
        try parse(text, scheme: "stratum+tcp", option: "--stratum", allowsCredentials: false)
    }

    static func parse(_ text: String, scheme: String, option: String, allowsCredentials: Bool) throws(MiningURLError) -> MiningEndpoint {
        let example = allowsCredentials ? "\(scheme)://[user:password@]host:port" : "\(scheme)://host:port"
        guard let separator = text.range(of: "://") else {
            throw MiningURLError("\(option) '\(text)' has no scheme: expected \(example)")
        }
        let foundScheme = text[..<separator.lowerBound].lowercased()
        guard foundScheme == scheme else {
            throw MiningURLError("\(option) '\(text)': scheme must be \(scheme), not '\(foundScheme)' (\(example))")
        }
        var rest = Substring(text[separator.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.contains("/"), !rest.contains("?"), !rest.contains("#") else {
            throw MiningURLError("\(option) '\(text)': a path, query or fragment is not allowed (\(example))")
        }
        var user: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            guard allowsCredentials else { throw MiningURLError("\(option) '\(text)': credentials do not belong in the URL (use --user/--password)") }
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = String(credentials[..<colon])
                password = String(credentials[credentials.index(after: colon)...])
            } else {
                user = String(credentials)
            }
            guard user?.isEmpty == false else { throw MiningURLError("\(option) '\(text)': the user name before '@' is empty") }
        }
        let host: Substring
        let portText: Substring
        if rest.hasPrefix("[") {
            // An IPv6 literal: [::1]:8332.
            guard let close = rest.firstIndex(of: "]") else { throw MiningURLError("\(option) '\(text)': '[' without a closing ']' in the host") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { throw MiningURLError("\(option) '\(text)' has no port: expected \(example)") }
            portText = after.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { throw MiningURLError("\(option) '\(text)' has no port: expected \(example)") }
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        }
        guard !host.isEmpty else { throw MiningURLError("\(option) '\(text)' has no host: expected \(example)") }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == ":" || $0 == "_" }) else {
            throw MiningURLError("\(option) '\(text)': host '\(host)' has characters a host name cannot have")
        }
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw MiningURLError("\(option) '\(text)': port '\(portText)' is not a number from 1 to 65535")
        }
        return MiningEndpoint(host: String(host), port: port, user: user, password: password)
    }
}
