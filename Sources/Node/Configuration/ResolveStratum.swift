// The Stratum pool server's settings (`stratum*`, DESIGN 9 "Mining service"): off unless
// asked, and when on it must know whom its blocks pay.

import Wallet

extension NodeConfiguration {
    /// The pool server inside the node; `enabled` is false unless `stratum=1`.
    public struct StratumConfiguration: Sendable, Equatable {
        public var enabled = false
        /// The port to listen on (default the network's `ports.stratum`; 0 picks a free port).
        public var port: UInt16
        /// The address to listen on (default 0.0.0.0).
        public var bind: Endpoint
        /// The address every block found by the pool pays (required when enabled).
        public var payoutAddress: String?
        /// Share difficulty of a new connection (a default one is clamped into [minimum, maximum]).
        public var initialDifficulty = 1024.0
        public var minimumDifficulty = 1.0
        public var maximumDifficulty = 1e15
        /// Variable difficulty aims at this many shares per second per connection.
        public var sharesPerSecond = 3.0
        public var maxConnections = 10_000
        /// Connections from one IP address (loopback included).
        public var maxConnectionsPerIP = StratumServerSettings.defaultMaxConnectionsPerIP

        init(port: UInt16) throws {
            self.port = port
            bind = try Endpoint("0.0.0.0", defaultPort: port, allowPortZero: true)
        }
    }

    /// The 2-byte nonce prefix gives at most 65,536 connections.
    static let stratumConnectionsRange = 1...65_536
    static let stratumDifficultyRange = 1e-12...1e30
    static let stratumShareRateRange = 0.001...1_000.0

    static func resolveStratum(_ configuration: inout NodeConfiguration, _ settings: Settings) throws {
        var stratum = configuration.stratum
        stratum.enabled = try settings.boolean("stratum") ?? false
        if let port = try settings.integer("stratumport", 0...Int(UInt16.max)) { stratum.port = UInt16(port) }
        stratum.bind = try settings.endpoints("stratumbind", defaultPort: stratum.port, allowPortZero: true)?.last
            ?? (try Endpoint("0.0.0.0", defaultPort: stratum.port, allowPortZero: true))
        guard stratum.bind.numericHost != nil else {
            throw settings.single("stratumbind").map { $0.place.invalid($0.value, "stratumbind", "expected an IP address (no DNS lookups)") }
                ?? NodeConfigurationError(.flag, "stratumbind: expected an IP address")
        }
        if let (text, place) = settings.single("stratumaddress") {
            do {
                _ = try Address(parsing: text, network: configuration.network.rawValue)
            } catch {
                throw place.invalid(text, "stratumaddress", "expected an address of \(configuration.network.rawValue) (\(error))")
            }
            stratum.payoutAddress = text
        }
        stratum.initialDifficulty = try settings.positive("stratumdifficulty", stratumDifficultyRange) ?? stratum.initialDifficulty
        stratum.minimumDifficulty = try settings.positive("stratummindifficulty", stratumDifficultyRange) ?? stratum.minimumDifficulty
        stratum.maximumDifficulty = try settings.positive("stratummaxdifficulty", stratumDifficultyRange) ?? stratum.maximumDifficulty
        stratum.sharesPerSecond = try settings.positive("stratumsharerate", stratumShareRateRange) ?? stratum.sharesPerSecond
        stratum.maxConnections = try settings.integer("stratummaxconnections", stratumConnectionsRange) ?? stratum.maxConnections
        stratum.maxConnectionsPerIP = try settings.integer("stratummaxconnectionsperip", stratumConnectionsRange) ?? stratum.maxConnectionsPerIP
        if stratum.minimumDifficulty > stratum.maximumDifficulty {
            let detail = "the minimum difficulty (\(stratum.minimumDifficulty)) is above the maximum (\(stratum.maximumDifficulty))"
            for key in ["stratummindifficulty", "stratummaxdifficulty"] {
                if let (value, place) = settings.single(key) { throw place.invalid(value, key, detail) }
            }
        }
        // A default initial difficulty follows the bounds (min = max pins it); one given outside them is a mistake.
        let bounds = stratum.minimumDifficulty...max(stratum.minimumDifficulty, stratum.maximumDifficulty)
        if let (value, place) = settings.single("stratumdifficulty") {
            guard bounds.contains(stratum.initialDifficulty) else {
                throw place.invalid(value, "stratumdifficulty", "outside the minimum (\(bounds.lowerBound)) and maximum "
                                    + "(\(bounds.upperBound)) difficulty")
            }
        } else {
            stratum.initialDifficulty = min(max(stratum.initialDifficulty, bounds.lowerBound), bounds.upperBound)
        }
        if stratum.enabled && stratum.payoutAddress == nil {
            throw NodeConfigurationError(.flag, "stratum needs stratumaddress: the address the pool's blocks pay")
        }
        configuration.stratum = stratum
    }
}

extension NodeConfiguration.Settings {
    /// A positive finite number inside `range`.
    func positive(_ key: String, _ range: ClosedRange<Double>) throws -> Double? {
        guard let (value, place) = single(key) else { return nil }
        guard let parsed = Double(value), parsed.isFinite, range.contains(parsed) else {
            throw place.invalid(value, key, "expected a number \(range.lowerBound)...\(range.upperBound)")
        }
        return parsed
    }
}
