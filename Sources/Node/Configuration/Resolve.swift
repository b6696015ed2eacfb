import Foundation
import Logging
import Primitives
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension NodeConfiguration {
    /// How a key takes its values.
    enum Kind {
        /// One value; the last one given wins.
        case single
        /// `1/0/true/false`; `noKEY=1` in the file is `KEY=0` (bitcoind's negation).
        case boolean
        /// Every value given (a key repeated in the file, repeated flags, commas in the environment).
        case list
    }

    /// Every key, in the file, the environment (`RUSTY_KEY`) and as a flag (`--key`).
    static let keys: [String: Kind] = [
        "datadir": .single, "conf": .single, "network": .single, "regtest": .boolean, "testnet": .boolean,
        "listen": .boolean, "port": .single, "bind": .list, "connect": .list, "addnode": .list, "seednode": .list,
        "maxconnections": .single, "maxoutbound": .single, "backend": .single, "threads": .single, "dbcache": .single,
        "loglevel": .single, "printtoconsole": .boolean, "debuglogfile": .single,
        "handshaketimeout": .single, "pinginterval": .single, "pingtimeout": .single, "blockstalltimeout": .single,
        "bantime": .single, "minimumchainwork": .single,
        "server": .boolean, "rpcport": .single, "rpcbind": .list, "rpcallowip": .list, "rpcuser": .single, "rpcpassword": .single,
        "rpcauth": .list, "rpccookiefile": .single, "rpcworkqueue": .single, "rpcservertimeout": .single,
        "txindex": .boolean, "disablewallet": .boolean,
        "maxmempool": .single, "mempoolexpiry": .single, "minrelaytxfee": .single, "incrementalrelayfee": .single,
        "limitancestorcount": .single, "limitancestorsize": .single, "limitdescendantcount": .single,
        "limitdescendantsize": .single, "maxorphantx": .single, "persistmempool": .boolean,
        "trickleinterval": .single, "feefilterinterval": .single,
        "stratum": .boolean, "stratumport": .single, "stratumbind": .single, "stratumaddress": .single, "stratumdifficulty": .single,
        "stratummindifficulty": .single, "stratummaxdifficulty": .single, "stratumsharerate": .single, "stratummaxconnections": .single,
        "stratummaxconnectionsperip": .single,
        "masternode": .boolean, "operatorkeyfile": .single, "masternoderelaydelay": .single,
    ]
    /// Keys that choose the file or the datadir itself, so the file cannot set them.
    static let outsideFileKeys: Set<String> = ["datadir", "conf"]
    /// Keys that choose the network, so a network's section cannot set them.
    static let topOnlyKeys: Set<String> = ["network", "regtest", "testnet"]

    static let maxConnectionsRange = 1...1000
    static let maxOutboundRange = 0...1000
    static let threadsRange = 1...1024
    static let dbcacheRange = 1...1_048_576
    static let secondsRange = 0.001...1_000_000_000.0

    /// Resolves every setting: `flags` (only the options given on the command line, by key
    /// without dashes; booleans as "1"/"0") win over `environment` (`RUSTY_KEY`; a list's
    /// values separated by commas), which wins over the configuration file's section for the
    /// network, then its top, then the defaults. `configFile` is `--conf` (it must exist);
    /// without it `<datadir>/rusty.conf` is read when present. The network itself comes from
    /// the same sources (the file's top: `network=`, `regtest=1` or `testnet=1`).
    public static func resolve(
        flags: [String: [String]], environment: [String: String], configFile: String?,
        standardErrorIsTerminal: Bool = isatty(2) == 1,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws -> NodeConfiguration {
        for key in flags.keys where keys[key] == nil {
            throw NodeConfigurationError(.flag, "unknown setting --\(key)")
        }
        func absolute(_ path: String) -> String {
            let full = path.hasPrefix("/") ? path : currentDirectory + "/" + path
            return full.count > 1 && full.hasSuffix("/") ? String(full.dropLast()) : full
        }
        func fromEnvironment(_ key: String) -> String? {
            guard let value = environment[environmentName(key)], !value.isEmpty else { return nil }
            return value
        }

        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let datadir = absolute(flags["datadir"]?.last ?? fromEnvironment("datadir") ?? home + "/.rusty")
        let explicitFile = configFile ?? flags["conf"]?.last ?? fromEnvironment("conf")
        let filePath = explicitFile.map(absolute) ?? datadir + "/rusty.conf"
        let file = try readFile(filePath, explicit: explicitFile != nil)

        let network = try resolveNetwork(flags: flags, environment: environment, file: file)
        // DESIGN 9 also lets the network's folder hold a rusty.conf (read when there is no
        // --conf): its keys win over the datadir's file, and it cannot choose the network.
        var files = [file].compactMap { $0 }
        if explicitFile == nil, let own = try readFile(datadir + "/" + network.rawValue + "/rusty.conf", explicit: false) {
            if let entry = own.top.first(where: { topOnlyKeys.contains($0.key) }) {
                throw NodeConfigurationError(.file, "\(own.path):\(entry.line): \(entry.key) cannot be set in the network's own rusty.conf")
            }
            files.insert(own, at: 0)
        }
        var settings = Settings(flags: flags, environment: environment, files: files, network: network)
        try settings.checkFileKeys()

        var configuration = try NodeConfiguration(network: network, datadir: datadir, printToConsole: standardErrorIsTerminal)
        configuration.configFile = files.first?.path
        let networkPort = configuration.port
        if let port = try settings.integer("port", 0...Int(UInt16.max)) { configuration.port = UInt16(port) }
        // Without a bind setting, the default address still listens on the port resolved here.
        configuration.bind = try settings.endpoints("bind", defaultPort: configuration.port, allowPortZero: true)
            ?? [try Endpoint("0.0.0.0", defaultPort: configuration.port, allowPortZero: true)]
        configuration.connect = try settings.endpoints("connect", defaultPort: networkPort) ?? []
        configuration.addnode = try settings.endpoints("addnode", defaultPort: networkPort) ?? []
        configuration.seednode = try settings.endpoints("seednode", defaultPort: networkPort) ?? []
        // bitcoind's soft default: a node told whom to connect to does not listen unless asked.
        configuration.listen = try settings.boolean("listen") ?? configuration.connect.isEmpty
        configuration.maxConnections = try settings.integer("maxconnections", maxConnectionsRange) ?? configuration.maxConnections
        configuration.maxOutbound = try settings.integer("maxoutbound", maxOutboundRange) ?? configuration.maxOutbound
        configuration.backend = try settings.choice("backend", Backend.allCases) ?? configuration.backend
        configuration.threads = try settings.integer("threads", threadsRange)
        configuration.dbcacheMiB = try settings.integer("dbcache", dbcacheRange) ?? configuration.dbcacheMiB
        configuration.logLevel = try settings.choice("loglevel", Logger.Level.allCases) ?? configuration.logLevel
        configuration.printToConsole = try settings.boolean("printtoconsole") ?? configuration.printToConsole
        if let path = try settings.path("debuglogfile") {
            configuration.debugLogFile = path.hasPrefix("/") ? path : configuration.networkDirectory + "/" + path
        }
        var timeouts = Timeouts()
        timeouts.handshake = try settings.seconds("handshaketimeout") ?? timeouts.handshake
        timeouts.pingInterval = try settings.seconds("pinginterval") ?? timeouts.pingInterval
        timeouts.pingTimeout = try settings.seconds("pingtimeout") ?? timeouts.pingTimeout
        timeouts.blockStall = try settings.seconds("blockstalltimeout") ?? timeouts.blockStall
        timeouts.banDuration = try settings.seconds("bantime") ?? timeouts.banDuration
        configuration.timeouts = timeouts
        configuration.minimumChainWork = try settings.work("minimumchainwork")
        try resolveRPC(&configuration, settings)
        configuration.txindex = try settings.boolean("txindex") ?? false
        configuration.disableWallet = try settings.boolean("disablewallet") ?? false
        try resolveMempool(&configuration, settings)
        try resolveStratum(&configuration, settings)
        try resolveMasternode(&configuration, settings, currentDirectory: currentDirectory)
        return configuration
    }

    /// The RPC server's settings, with bitcoind's safety rule: listening beyond loopback needs
    /// `rpcallowip` and credentials of the operator's own (the cookie is for local clients).
    static func resolveRPC(_ configuration: inout NodeConfiguration, _ settings: Settings) throws {
        var rpc = configuration.rpc
        rpc.enabled = try settings.boolean("server") ?? true
        if let port = try settings.integer("rpcport", 0...Int(UInt16.max)) { rpc.port = UInt16(port) }
        rpc.bind = try settings.endpoints("rpcbind", defaultPort: rpc.port, allowPortZero: true)
            ?? [try Endpoint("127.0.0.1", defaultPort: rpc.port, allowPortZero: true)]
        if let values = settings.values("rpcallowip") {
            for (value, place) in values where RPCSubnetText.isValid(value) == false {
                throw place.invalid(value, "rpcallowip", "expected an IP address or a subnet (10.0.0.0/8, 10.0.0.0/255.0.0.0)")
            }
            rpc.allowIP = values.map(\.value)
        }
        rpc.user = settings.single("rpcuser")?.value
        rpc.password = settings.single("rpcpassword")?.value
        if (rpc.user == nil) != (rpc.password == nil) {
            throw NodeConfigurationError(.flag, "rpcuser and rpcpassword go together (or use rpcauth)")
        }
        if let values = settings.values("rpcauth") {
            for (value, place) in values where RPCSubnetText.isValidAuth(value) == false {
                throw place.invalid(value, "rpcauth", "expected USER:SALT$HASH (HASH: 64 hex digits)")
            }
            rpc.auth = values.map(\.value)
        }
        if let path = try settings.path("rpccookiefile") {
            rpc.cookieFile = path.hasPrefix("/") ? path : configuration.networkDirectory + "/" + path
        }
        rpc.workQueue = try settings.integer("rpcworkqueue", 1...10_000) ?? rpc.workQueue
        rpc.timeout = try settings.seconds("rpcservertimeout") ?? rpc.timeout
        let exposed = rpc.bind.filter { !($0.numericHost.map(RPCSubnetText.isLoopback) ?? false) }
        if let first = exposed.first, rpc.enabled {
            guard !rpc.allowIP.isEmpty else {
                throw NodeConfigurationError(.flag, "rpcbind=\(first.text) listens beyond loopback: give rpcallowip for the clients allowed")
            }
            guard rpc.password != nil || !rpc.auth.isEmpty else {
                throw NodeConfigurationError(.flag, "rpcbind=\(first.text) listens beyond loopback: set rpcauth (or rpcuser/rpcpassword); "
                                             + "the cookie is for local clients")
            }
        }
        configuration.rpc = rpc
    }

    static func environmentName(_ key: String) -> String { "RUSTY_" + key.uppercased() }

    /// The file at `path`, nil when the default one is absent; an explicit one must exist.
    static func readFile(_ path: String, explicit: Bool) throws -> ConfigFile? {
        let bytes: [UInt8]
        do {
            // A configuration file is a few lines; a huge one (or /dev/zero) is a mistake.
            guard let read = try readWholeFile(path, limit: 1 << 20) else {
                if explicit { throw NodeConfigurationError(.file, "\(path): \(String(cString: strerror(ENOENT)))") }
                return nil
            }
            bytes = read
        } catch let error as WholeFileError {
            throw NodeConfigurationError(.file, error.description)
        }
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw NodeConfigurationError(.file, "\(path): not UTF-8 text")
        }
        return try ConfigFile.parse(text, path: path)
    }

    static func resolveNetwork(flags: [String: [String]], environment: [String: String], file: ConfigFile?) throws -> Network {
        func parse(_ value: String, _ place: Place) throws -> Network {
            guard let network = Network(rawValue: value) else {
                throw place.invalid(value, "network", "expected one of \(Network.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return network
        }
        if let value = flags["network"]?.last { return try parse(value, .flag("network")) }
        if let value = environment[environmentName("network")], !value.isEmpty {
            return try parse(value, .environment("network"))
        }
        guard let file else { return .mainnet }
        var chosen: (network: Network, line: Int)?
        for entry in file.top where topOnlyKeys.contains(entry.key) {
            let place = Place.file(file.path, entry.line)
            let network: Network?
            if entry.key == "network" {
                network = try parse(entry.value, place)
            } else {
                guard let on = parseBoolean(entry.value) else { throw place.invalid(entry.value, entry.key, booleanExpectation) }
                network = on ? Network(rawValue: entry.key) : nil
            }
            guard let network else { continue }
            if let chosen, chosen.network != network {
                throw NodeConfigurationError(.file, "\(file.path):\(entry.line): selects \(network.rawValue), but line \(chosen.line) selected \(chosen.network.rawValue)")
            }
            chosen = (network, entry.line)
        }
        return chosen?.network ?? .mainnet
    }

    static let booleanExpectation = "expected 1, 0, true or false"

    static func parseBoolean(_ value: String) -> Bool? {
        switch value {
        case "1", "true": return true
        case "0", "false": return false
        default: return nil
        }
    }

    /// Where a value came from, for its error message.
    enum Place {
        case flag(String)
        case environment(String)
        case file(String, Int)

        func invalid(_ value: String, _ key: String, _ expectation: String) -> NodeConfigurationError {
            switch self {
            case .flag(let key): return NodeConfigurationError(.flag, "invalid value '\(value)' for --\(key): \(expectation)")
            case .environment(let key):
                return NodeConfigurationError(.environment, "\(environmentName(key)): invalid value '\(value)' for \(key): \(expectation)")
            case let .file(path, line): return NodeConfigurationError(.file, "\(path):\(line): invalid value '\(value)' for \(key): \(expectation)")
            }
        }
    }

    /// The layered lookup: flags, then the environment, then the network's section, then the
    /// file's top. The first layer that has a key supplies all its values.
    struct Settings {
        let flags: [String: [String]]
        let environment: [String: String]
        /// Highest precedence first.
        var files: [ConfigFile]
        let network: Network

        /// Unknown keys (with their line), keys a section or the file may not set, and
        /// `noKEY` negations, in every section (a typo in another network's section is still a typo).
        mutating func checkFileKeys() throws {
            for index in files.indices { try Self.checkKeys(&files[index]) }
        }

        static func checkKeys(_ file: inout ConfigFile) throws {
            // A copy: `check` reads the path while it modifies the file's entries.
            let path = file.path
            func check(_ entries: inout [ConfigFile.Entry], inSection: Bool) throws {
                for index in entries.indices {
                    let entry = entries[index]
                    let prefix = "\(path):\(entry.line):"
                    var key = entry.key
                    if keys[key] == nil, key.hasPrefix("no"), keys[String(key.dropFirst(2))] == .boolean {
                        // bitcoind's negation: noKEY=1 is KEY=0.
                        key = String(key.dropFirst(2))
                        guard let value = parseBoolean(entry.value) else {
                            throw Place.file(path, entry.line).invalid(entry.value, entry.key, booleanExpectation)
                        }
                        entries[index] = ConfigFile.Entry(key: key, value: value ? "0" : "1", line: entry.line)
                    }
                    guard keys[key] != nil else { throw NodeConfigurationError(.file, "\(prefix) unknown key '\(entry.key)'") }
                    if outsideFileKeys.contains(key) {
                        throw NodeConfigurationError(.file, "\(prefix) \(key) cannot be set in the configuration file (use --\(key) or \(environmentName(key)))")
                    }
                    if inSection && topOnlyKeys.contains(key) {
                        throw NodeConfigurationError(.file, "\(prefix) \(key) selects the network: it belongs before the first section")
                    }
                }
            }
            try check(&file.top, inSection: false)
            for name in file.sections.keys { try check(&file.sections[name]!, inSection: true) }
        }

        /// The values of `key` from the first layer that has it, each with its place.
        func values(_ key: String) -> [(value: String, place: Place)]? {
            if let values = flags[key], !values.isEmpty { return values.map { ($0, .flag(key)) } }
            if let value = environment[environmentName(key)], !value.isEmpty {
                let parts = keys[key] == .list ? value.split(separator: ",").map { $0.trimmingWhitespace } : [value]
                return parts.map { ($0, .environment(key)) }
            }
            for file in files {
                for entries in [file.sections[network.sectionName] ?? [], file.top] {
                    let matching = entries.filter { $0.key == key }
                    if !matching.isEmpty { return matching.map { ($0.value, .file(file.path, $0.line)) } }
                }
            }
            return nil
        }

        /// The last value of a single-valued key.
        func single(_ key: String) -> (value: String, place: Place)? { values(key)?.last }

        func boolean(_ key: String) throws -> Bool? {
            guard let (value, place) = single(key) else { return nil }
            guard let parsed = parseBoolean(value) else { throw place.invalid(value, key, booleanExpectation) }
            return parsed
        }

        func integer(_ key: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let (value, place) = single(key) else { return nil }
            guard let parsed = Int(value), range.contains(parsed) else {
                throw place.invalid(value, key, "expected an integer \(range.lowerBound)...\(range.upperBound)")
            }
            return parsed
        }

        func seconds(_ key: String) throws -> Double? {
            guard let (value, place) = single(key) else { return nil }
            guard let parsed = Double(value), parsed.isFinite, secondsRange.contains(parsed) else {
                throw place.invalid(value, key, "expected seconds, a number 0.001...1000000000")
            }
            return parsed
        }

        func choice<Choice: RawRepresentable>(_ key: String, _ choices: [Choice]) throws -> Choice? where Choice.RawValue == String {
            guard let (value, place) = single(key) else { return nil }
            guard let parsed = Choice(rawValue: value) else {
                throw place.invalid(value, key, "expected one of \(choices.map(\.rawValue).joined(separator: ", "))")
            }
            return parsed
        }

        func path(_ key: String) throws -> String? {
            guard let (value, place) = single(key) else { return nil }
            guard !value.isEmpty, !value.contains("\0") else { throw place.invalid(value, key, "expected a file path") }
            return value
        }

        func work(_ key: String) throws -> UInt256? {
            guard let (value, place) = single(key) else { return nil }
            let digits = value.hasPrefix("0x") ? String(value.dropFirst(2)) : value
            guard let work = UInt256(hex: digits.lowercased()) else { throw place.invalid(value, key, "expected 1 to 64 hex digits") }
            return work
        }

        func endpoints(_ key: String, defaultPort: UInt16, allowPortZero: Bool = false) throws -> [Endpoint]? {
            guard let values = values(key) else { return nil }
            return try values.map { value, place in
                do {
                    return try Endpoint(value, defaultPort: defaultPort, allowPortZero: allowPortZero)
                } catch let error as Endpoint.ParseError {
                    throw place.invalid(value, key, "expected HOST[:PORT] or [IPV6][:PORT] (\(error.reason))")
                }
            }
        }
    }
}
