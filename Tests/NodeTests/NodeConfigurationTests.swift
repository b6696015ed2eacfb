import Foundation
import Logging
import Node
import Testing

/// `NodeConfiguration.resolve`: defaults, precedence (flag > environment > the file's
/// network section > its top > default), lists, network selection and errors that name
/// their source.
@Suite struct NodeConfigurationTests {
    /// A fresh directory standing for HOME / the datadir root, removed by the caller.
    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-cfg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Resolves with `conf` as DATADIR/rusty.conf (the default file) under a fresh datadir.
    static func resolve(conf: String? = nil, flags: [String: [String]] = [:], environment: [String: String] = [:]) throws -> NodeConfiguration {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        if let conf { try conf.write(toFile: root + "/rusty.conf", atomically: true, encoding: .utf8) }
        return try NodeConfiguration.resolve(flags: flags.merging(["datadir": [root]]) { $1 }, environment: environment,
                                             configFile: nil, standardErrorIsTerminal: false)
    }

    /// The error `body` throws (nil when it throws none).
    static func error(_ body: () throws -> Any) -> NodeConfigurationError? {
        do { _ = try body() } catch let error as NodeConfigurationError { return error } catch { return nil }
        return nil
    }

    @Test("defaults: mainnet under HOME/.rusty, the network's port, 125 connections, info, the datadir's debug.log")
    func defaults() throws {
        let home = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let configuration = try NodeConfiguration.resolve(flags: [:], environment: ["HOME": home], configFile: nil, standardErrorIsTerminal: false)
        #expect(configuration.network == .mainnet)
        #expect(configuration.datadir == home + "/.rusty")
        #expect(configuration.networkDirectory == home + "/.rusty/mainnet")
        #expect(configuration.configFile == nil)
        #expect(configuration.port == 9373)
        #expect(configuration.listen)
        #expect(configuration.bind.map(\.host) == ["0.0.0.0"] && configuration.bind.map(\.port) == [9373])
        #expect(configuration.connect.isEmpty && configuration.addnode.isEmpty && configuration.seednode.isEmpty)
        #expect(configuration.maxConnections == 125 && configuration.maxOutbound == 8)
        #expect(configuration.backend == .auto && configuration.threads == nil && configuration.dbcacheMiB == 256)
        #expect(configuration.logLevel == .info && !configuration.printToConsole)
        #expect(configuration.debugLogFile == home + "/.rusty/mainnet/debug.log")
        #expect(configuration.statusFile == home + "/.rusty/mainnet/node-status.json")
        #expect(configuration.timeouts == NodeConfiguration.Timeouts())
        #expect(configuration.timeouts.handshake == 60 && configuration.timeouts.pingInterval == 120 && configuration.timeouts.pingTimeout == 1200)
        #expect(configuration.timeouts.blockStall == 2 && configuration.timeouts.banDuration == 86_400)
        #expect(configuration.minimumChainWork == nil)
        let terminal = try NodeConfiguration.resolve(flags: [:], environment: ["HOME": home], configFile: nil, standardErrorIsTerminal: true)
        #expect(terminal.printToConsole)
    }

    @Test("precedence: flag > environment > [network] section > top of rusty.conf > default")
    func precedence() throws {
        let conf = """
            # the network, then settings for every network
            regtest=1
            maxconnections=10
            dbcache=100
            threads=3
            loglevel=debug
            port=1111

            [regtest]
            maxconnections=20
            dbcache=200
            port=2222
            [main]
            threads=7
            """
        let configuration = try Self.resolve(conf: conf, flags: ["port": ["4321"]], environment: ["RUSTY_DBCACHE": "300", "RUSTY_PORT": "1234"])
        #expect(configuration.network == .regtest)
        #expect(configuration.port == 4321)            // flag over environment, section, top
        #expect(configuration.bind.map(\.text) == ["0.0.0.0"] && configuration.bind.map(\.port) == [4321])   // the default bind on that port
        #expect(configuration.dbcacheMiB == 300)       // environment over section and top
        #expect(configuration.maxConnections == 20)    // section over top
        #expect(configuration.threads == 3)            // top ([main] does not apply to regtest)
        #expect(configuration.logLevel == .debug)      // top over default
        #expect(configuration.maxOutbound == 8)        // default
        #expect(configuration.configFile?.hasSuffix("/rusty.conf") == true)
        // The network itself: a flag over the file's regtest=1, and then [main] applies.
        let main = try Self.resolve(conf: conf, flags: ["network": ["mainnet"]])
        #expect(main.network == .mainnet && main.threads == 7 && main.maxConnections == 10 && main.port == 1111)
        let fromEnvironment = try Self.resolve(conf: conf, environment: ["RUSTY_NETWORK": "testnet"])
        #expect(fromEnvironment.network == .testnet && fromEnvironment.port == 1111 && fromEnvironment.threads == 3)
        #expect(try Self.resolve(conf: "network=testnet\n").network == .testnet)
        #expect(try Self.resolve(conf: "testnet=1\nregtest=0\n").network == .testnet)
        // Without a port setting, the network's own P2P port.
        #expect(try Self.resolve(flags: ["network": ["regtest"]]).port == 29373)
        #expect(try Self.resolve(flags: ["network": ["testnet"]]).port == 19373)
    }

    @Test("lists: repeated keys, repeated flags, commas in the environment; connect turns listening off unless asked")
    func lists() throws {
        let conf = "connect=10.0.0.1\nconnect=[::1]:7000\naddnode=node.example.org\nbind=127.0.0.1\n[regtest]\nseednode=localhost:5\n"
        let configuration = try Self.resolve(conf: conf, flags: ["network": ["regtest"], "port": ["0"]], environment: ["RUSTY_ADDNODE": "a.example, 10.1.1.1:9"])
        #expect(configuration.connect.map(\.text) == ["10.0.0.1", "[::1]:7000"])
        #expect(configuration.connect.map(\.host) == ["10.0.0.1", "::1"])
        #expect(configuration.connect.map(\.port) == [29373, 7000])      // the network's port by default
        #expect(configuration.addnode.map(\.host) == ["a.example", "10.1.1.1"] && configuration.addnode.map(\.port) == [29373, 9])
        #expect(configuration.seednode.map(\.numericHost) == ["127.0.0.1"] && configuration.seednode.map(\.port) == [5])
        #expect(configuration.bind.map(\.host) == ["127.0.0.1"] && configuration.bind.map(\.port) == [0])   // bind takes --port
        #expect(!configuration.listen)
        let flagged = try Self.resolve(conf: conf, flags: ["listen": ["1"], "bind": ["127.0.0.1:1", "[::1]:2"], "connect": ["10.9.9.9"]])
        #expect(flagged.listen)
        #expect(flagged.bind.map(\.port) == [1, 2] && flagged.connect.map(\.host) == ["10.9.9.9"])
        // bitcoind's negation in the file.
        #expect(try !Self.resolve(conf: "nolisten=1\n").listen)
        #expect(try Self.resolve(conf: "listen=0\nnoprinttoconsole=0\n").printToConsole)
    }

    @Test("endpoints: IPv4, bracketed and bare IPv6, names, ports; malformed ones rejected")
    func endpoints() throws {
        let v6 = try Endpoint("[2001:db8::1]:8333", defaultPort: 1)
        #expect(v6.host == "2001:db8::1" && v6.port == 8333 && v6.kind == .ipv6 && v6.numericHost == "2001:db8::1")
        let bare = try Endpoint("::1", defaultPort: 77)
        #expect(bare.host == "::1" && bare.port == 77 && bare.kind == .ipv6)
        let v4 = try Endpoint("192.168.1.2:9", defaultPort: 1)
        #expect(v4.kind == .ipv4 && v4.port == 9)
        let name = try Endpoint("seed-1.example.org", defaultPort: 5)
        #expect(name.kind == .name && name.port == 5 && name.numericHost == nil)
        #expect(try Endpoint("LocalHost:3", defaultPort: 1).numericHost == "127.0.0.1")
        #expect(try Endpoint("0.0.0.0:0", defaultPort: 1, allowPortZero: true).port == 0)
        for bad in ["", "[::1", "[::1]x", "[10.0.0.1]:5", "host:0", "host:65536", "host:", "a b", "1.2.3.256", "-x.org", "fe80::1:8333:zz", ":5"] {
            #expect(throws: Endpoint.ParseError.self, "\(bad)") { try Endpoint(bad, defaultPort: 1) }
        }
        let error = Self.error { try Self.resolve(conf: "connect=10.0.0.1:99999\n") }
        #expect(error?.message.hasSuffix(":1: invalid value '10.0.0.1:99999' for connect: expected HOST[:PORT] or [IPV6][:PORT] (port '99999' is not 1...65535)") == true, "\(String(describing: error))")
    }

    @Test("other settings: backend, log level, timeouts, minimum chain work, a relative debuglogfile")
    func otherSettings() throws {
        let configuration = try Self.resolve(
            conf: "backend=scalar\nloglevel=trace\nhandshaketimeout=0.5\npinginterval=1\npingtimeout=2.5\nblockstalltimeout=0.25\nbantime=60\n"
                + "minimumchainwork=0x00ff\ndebuglogfile=logs/node.log\nmaxoutbound=2\nprinttoconsole=true\n",
            flags: ["network": ["regtest"]])
        #expect(configuration.backend == .scalar && configuration.logLevel == .trace && configuration.maxOutbound == 2)
        #expect(configuration.timeouts.handshake == 0.5 && configuration.timeouts.pingInterval == 1 && configuration.timeouts.pingTimeout == 2.5)
        #expect(configuration.timeouts.blockStall == 0.25 && configuration.timeouts.banDuration == 60)
        #expect(configuration.minimumChainWork?.hex.hasSuffix("00ff") == true && configuration.minimumChainWork?.bitWidth == 8)
        #expect(configuration.debugLogFile == configuration.networkDirectory + "/logs/node.log")
        #expect(configuration.printToConsole)
        #expect(try Self.resolve(flags: ["debuglogfile": ["/var/tmp/x.log"]]).debugLogFile == "/var/tmp/x.log")
    }

    @Test("file errors name the file, the line and the key or value")
    func fileErrors() throws {
        let cases: [(String, String)] = [
            ("# comment\n\nmaxconnection=5\n", ":3: unknown key 'maxconnection'"),
            ("maxconnections=abc\n", ":1: invalid value 'abc' for maxconnections: expected an integer 1...1000"),
            ("maxconnections=0\n", ":1: invalid value '0' for maxconnections: expected an integer 1...1000"),
            ("listen=yes\n", ":1: invalid value 'yes' for listen: expected 1, 0, true or false"),
            ("loglevel=loud\n", ":1: invalid value 'loud' for loglevel: expected one of trace, debug, info, notice, warning, error, critical"),
            ("backend=gpu\n", ":1: invalid value 'gpu' for backend: expected one of auto, scalar, simd, avx2, avx512ifma, opencl"),
            ("pingtimeout=-1\n", ":1: invalid value '-1' for pingtimeout: expected seconds, a number 0.001...1000000000"),
            ("minimumchainwork=xyz\n", ":1: invalid value 'xyz' for minimumchainwork: expected 1 to 64 hex digits"),
            ("port=1\njust words\n", ":2: expected key=value, found 'just words'"),
            ("[mainnet]\n", ":1: unknown section '[mainnet]' (known: [main], [test], [regtest])"),
            ("[main\n", ":1: a section header must end with ']': '[main'"),
            ("datadir=/x\n", ":1: datadir cannot be set in the configuration file (use --datadir or RUSTY_DATADIR)"),
            ("[regtest]\nregtest=1\n", ":2: regtest selects the network: it belongs before the first section"),
            ("regtest=1\ntestnet=1\n", ":2: selects testnet, but line 1 selected regtest"),
            ("network=moon\n", ":1: invalid value 'moon' for network: expected one of mainnet, testnet, regtest"),
            // A typo in another network's section is still found.
            ("[test]\nmaxconections=3\n", ":2: unknown key 'maxconections'"),
            // A bad value in the network's section, found when that network runs.
            ("regtest=1\n[regtest]\nthreads=0\n", ":3: invalid value '0' for threads: expected an integer 1...1024"),
        ]
        for (conf, suffix) in cases {
            let error = Self.error { try Self.resolve(conf: conf) }
            #expect(error?.origin == .file, "\(conf)")
            #expect(error?.message.hasSuffix("/rusty.conf" + suffix) == true, "\(conf): \(String(describing: error))")
        }
    }

    @Test("an explicit configuration file must exist; the default one may be missing")
    func explicitFile() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let missing = root + "/none.conf"
        let error = Self.error { try NodeConfiguration.resolve(flags: ["datadir": [root]], environment: [:], configFile: missing) }
        #expect(error == NodeConfigurationError(.file, missing + ": No such file or directory"))
        let viaFlag = Self.error { try NodeConfiguration.resolve(flags: ["datadir": [root], "conf": [missing]], environment: [:], configFile: nil) }
        #expect(viaFlag?.message == missing + ": No such file or directory")
        let directory = Self.error { try NodeConfiguration.resolve(flags: ["datadir": [root]], environment: [:], configFile: root) }
        #expect(directory == NodeConfigurationError(.file, root + ": Is a directory"))
        #expect(try NodeConfiguration.resolve(flags: ["datadir": [root]], environment: [:], configFile: nil).configFile == nil)
        // An explicit file replaces the default one.
        try "maxconnections=5\n".write(toFile: root + "/rusty.conf", atomically: true, encoding: .utf8)
        try "maxconnections=6\n".write(toFile: root + "/other.conf", atomically: true, encoding: .utf8)
        let other = try NodeConfiguration.resolve(flags: ["datadir": [root]], environment: [:], configFile: root + "/other.conf")
        #expect(other.maxConnections == 6 && other.configFile == root + "/other.conf")
        #expect(try NodeConfiguration.resolve(flags: ["datadir": [root]], environment: [:], configFile: nil).maxConnections == 5)
        // A relative datadir is made absolute.
        let relative = try NodeConfiguration.resolve(flags: ["datadir": ["node-a/"]], environment: [:], configFile: nil, currentDirectory: root)
        #expect(relative.datadir == root + "/node-a" && relative.networkDirectory == root + "/node-a/mainnet")
    }

    @Test("environment and flag errors name RUSTY_KEY or --key")
    func environmentAndFlagErrors() throws {
        let fromEnvironment = Self.error { try Self.resolve(environment: ["RUSTY_MAXCONNECTIONS": "abc"]) }
        #expect(fromEnvironment == NodeConfigurationError(.environment, "RUSTY_MAXCONNECTIONS: invalid value 'abc' for maxconnections: expected an integer 1...1000"))
        let fromFlag = Self.error { try Self.resolve(flags: ["maxconnections": ["1001"]]) }
        #expect(fromFlag == NodeConfigurationError(.flag, "invalid value '1001' for --maxconnections: expected an integer 1...1000"))
        let unknownFlag = Self.error { try Self.resolve(flags: ["maxconnection": ["1"]]) }
        #expect(unknownFlag == NodeConfigurationError(.flag, "unknown setting --maxconnection"))
        let badNetwork = Self.error { try Self.resolve(flags: ["network": ["main"]]) }
        #expect(badNetwork == NodeConfigurationError(.flag, "invalid value 'main' for --network: expected one of mainnet, testnet, regtest"))
        // Other RUSTY_ variables (RUSTY_VECTORS, RUSTY_OPENCL_CACHE) belong to other tools.
        #expect(try Self.resolve(environment: ["RUSTY_VECTORS": "/x", "RUSTY_MAXCONNECTIONS": ""]).maxConnections == 125)
    }

    @Test("the network's folder may hold its own rusty.conf: its keys win over the datadir's file, it cannot choose the network")
    func networkFolderFile() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "regtest=1\nmaxconnections=40\ndbcache=100\n".write(toFile: root + "/rusty.conf", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/regtest", withIntermediateDirectories: true)
        try "maxconnections=30\naddnode=127.0.0.1:7000\n".write(toFile: root + "/regtest/rusty.conf", atomically: true, encoding: .utf8)
        let configuration = try NodeConfiguration.resolve(flags: ["datadir": [root]], environment: [:], configFile: nil,
                                                          standardErrorIsTerminal: false)
        #expect(configuration.network == .regtest)
        #expect(configuration.maxConnections == 30)
        #expect(configuration.dbcacheMiB == 100)
        #expect(configuration.addnode.map(\.text) == ["127.0.0.1:7000"])
        #expect(configuration.configFile == root + "/regtest/rusty.conf")
        // A flag still wins.
        let flagged = try NodeConfiguration.resolve(flags: ["datadir": [root], "maxconnections": ["20"]], environment: [:], configFile: nil,
                                                    standardErrorIsTerminal: false)
        #expect(flagged.maxConnections == 20)
        // Choosing the network from inside the network's own folder is an error naming the line.
        try "maxconnections=30\ntestnet=1\n".write(toFile: root + "/regtest/rusty.conf", atomically: true, encoding: .utf8)
        let error = Self.error { try NodeConfiguration.resolve(flags: ["datadir": [root]], environment: [:], configFile: nil) }
        #expect(error?.message.contains("regtest/rusty.conf:2") == true, "\(String(describing: error))")
    }
}
