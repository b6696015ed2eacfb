// `rusty rpc METHOD [ARGS...]`: bitcoin-cli for a rusty node (credentials from the datadir's
// cookie, bitcoin-cli's options and single-dash spellings, output and exit codes).

import ArgumentParser
import ChainParams
import Foundation
import JSONRPC
import Node
import RPCServer

struct RPCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rpc",
        abstract: "Call a method of a running node's JSON-RPC server, as bitcoin-cli does.",
        discussion: """
            Options come before METHOD; everything after it is a parameter. Each parameter is sent as JSON when \
            it parses as JSON (numbers, true/false, null, "quoted strings", arrays, objects), else as a string. \
            With --named every parameter is NAME=VALUE. bitcoin-cli's single-dash spellings work too \
            (-regtest, -named, -rpcport=N, -rpcconnect=HOST, -rpcuser=U, -rpcpassword=P, -datadir=D, -rpcwait, ...).

            Credentials: --rpcuser/--rpcpassword when a password is given, else the node's cookie file \
            (DATADIR/NETWORK/.cookie, or --rpccookiefile), which the node writes when it starts.

            Like bitcoin-cli, it reads the node's configuration (the environment's RUSTY_* settings and rusty.conf, \
            as `rusty node` does): the network (regtest=1, network=...), the datadir, rpcport, rpcuser/rpcpassword \
            and rpccookiefile there apply unless an option here says otherwise.

            Output: a string result is printed as it is, a null result prints nothing, anything else is JSON \
            indented by two spaces.

            Exit status: 0 on success. An error answer prints `error code: N`, `error message:` and the message \
            on standard error and exits with the code's absolute value, as bitcoin-cli does (exit(abs(code)); \
            the system keeps the low 8 bits, so -8 exits 8, -5 exits 5, and JSON-RPC's -32601 (method not \
            found) exits 89; 1 where that would be 0). A server that cannot be reached, rejected credentials, \
            a timeout or an unreadable cookie print `error: ...` and exit 1; a usage error exits 64.
            """
    )

    @Option(help: "Data directory root; the node's files are in DATADIR/NETWORK (default: ~/.rusty).")
    var datadir: String?

    @Option(help: "Network: mainnet, testnet, regtest (default: the configuration's, else mainnet).")
    var network: String?

    @Option(help: "Configuration file (default: DATADIR/rusty.conf when it exists).")
    var conf: String?

    @Flag(help: "Same as --network regtest.")
    var regtest = false

    @Flag(help: "Same as --network testnet.")
    var testnet = false

    @Option(help: "Server address, HOST or HOST:PORT (default: 127.0.0.1).")
    var rpcconnect: String?

    @Option(help: "Server port (default: the configuration's rpcport, else the network's RPC port; wins over a port in --rpcconnect).")
    var rpcport: Int?

    @Option(help: "User name for the server (with --rpcpassword).")
    var rpcuser: String?

    @Option(help: "Password for the server (default: the cookie file's credentials).")
    var rpcpassword: String?

    @Option(help: "Cookie file to read the credentials from (default: DATADIR/NETWORK/.cookie).")
    var rpccookiefile: String?

    @Flag(help: "Pass the parameters by name: each is NAME=VALUE.")
    var named = false

    @Flag(help: "Wait until the server answers (it may still be starting), retrying once a second.")
    var rpcwait = false

    @Option(help: "With --rpcwait: give up after this many seconds (default: 0, wait forever).")
    var rpcwaittimeout: Int = 0

    @Option(help: "Seconds to wait for an answer to the call (default: 900; 0: no limit).")
    var rpcclienttimeout: Int = 900

    @Flag(help: "Read more parameters from standard input, one per line (the first line is METHOD when none is given).")
    var stdin = false

    @Argument(help: ArgumentHelp("METHOD, then its parameters.", valueName: "METHOD [ARGS]"))
    var call: [String] = []

    func validate() throws {
        if [network != nil, regtest, testnet].filter({ $0 }).count > 1 {
            throw ValidationError("choose the network once: --network, --regtest or --testnet")
        }
        if let network, !["mainnet", "testnet", "regtest"].contains(network) {
            throw ValidationError("--network must be mainnet, testnet or regtest (got \(network))")
        }
        if let rpcport { try checkRange(rpcport, "--rpcport", 1...65535) }
        try checkRange(rpcwaittimeout, "--rpcwaittimeout", 0...Int(Int32.max))
        try checkRange(rpcclienttimeout, "--rpcclienttimeout", 0...Int(Int32.max))
        if call.isEmpty && !stdin { throw ValidationError("missing METHOD") }
    }

    /// The network chosen here, if any (else the configuration's).
    var givenNetwork: String? { network ?? (regtest ? "regtest" : testnet ? "testnet" : nil) }

    /// The node's settings as `rusty node` would resolve them with this datadir and network:
    /// where bitcoin-cli's habit of reading bitcoin.conf finds the network, port and credentials.
    func nodeConfiguration() throws -> NodeConfiguration {
        var flags = [String: [String]]()
        if let datadir { flags["datadir"] = [datadir] }
        if let givenNetwork { flags["network"] = [givenNetwork] }
        do {
            return try NodeConfiguration.resolve(flags: flags, environment: ProcessInfo.processInfo.environment, configFile: conf)
        } catch let error as NodeConfigurationError {
            throw CommandFailure(.invalid, "configuration: \(error.message)")
        }
    }

    func run() throws {
        var words = call
        if stdin {
            while let line = readLine(strippingNewline: true) { words.append(line) }
        }
        guard let method = words.first else { throw ValidationError("missing METHOD (none on the command line or standard input)") }
        let params = try Self.parameters(Array(words.dropFirst()), named: named)
        let configuration = try nodeConfiguration()
        let (host, port) = try endpoint(configuration)
        let invocation = Invocation(
            host: host, port: port, method: method, params: params,
            credentials: credentialsSource(configuration),
            timeout: rpcclienttimeout == 0 ? 1e9 : Double(rpcclienttimeout),
            wait: rpcwait ? (rpcwaittimeout == 0 ? nil : Double(rpcwaittimeout)) : 0)
        let outcome = Self.runBlocking { await invocation.perform() }
        switch outcome {
        case .result(let result):
            switch result {
            case .null: break
            case .string(let text): print(text)
            default: print(result.text(pretty: true))
            }
        case .rpcError(let error):
            printError(error.description)
            throw ExitCode(Self.exitStatus(forCode: error.code))
        case .failure(let message):
            printError("error: " + message)
            throw ExitCode(1)
        }
    }

    /// bitcoin-cli's exit status for an error answer: exit(abs(code)), of which the system
    /// keeps the low 8 bits; never 0 for an error.
    static func exitStatus(forCode code: Int) -> Int32 {
        let low = Int32(truncatingIfNeeded: code.magnitude & 0xFF)
        return low == 0 ? 1 : low
    }

    /// bitcoin-cli's rule: a parameter that parses as JSON is sent as that value, any other as a string.
    static func value(_ text: String) -> JSON {
        (try? JSONParser.parse(text)) ?? .string(text)
    }

    /// Positional parameters as an array; with `named`, NAME=VALUE pairs as an object.
    static func parameters(_ words: [String], named: Bool) throws -> JSON {
        guard named else { return .array(words.map(value)) }
        var object = JSONObject()
        for word in words {
            guard let equals = word.firstIndex(of: "=") else {
                throw CommandFailure(.invalid, "No '=' in named argument '\(word)', this needs to be present for every argument (even if it is empty)")
            }
            let name = String(word[..<equals])
            guard object[name] == nil else { throw CommandFailure(.invalid, "Parameter \(name) specified multiple times") }
            object[name] = value(String(word[word.index(after: equals)...]))
        }
        return .object(object)
    }

    /// The server: --rpcconnect (HOST, HOST:PORT or [IPV6]:PORT) and --rpcport, else the
    /// configuration's rpcport, else the network's RPC port.
    func endpoint(_ configuration: NodeConfiguration) throws -> (host: String, port: Int) {
        var host = rpcconnect ?? "127.0.0.1"
        var port: Int?
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            let rest = host[host.index(after: close)...]
            if rest.hasPrefix(":") { port = Int(rest.dropFirst()) ?? -1 } else if !rest.isEmpty { port = -1 }
            host = String(host[host.index(after: host.startIndex)..<close])
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            port = Int(host[host.index(after: colon)...]) ?? -1
            host = String(host[..<colon])
        }
        if let given = port, !(1...65535).contains(given) {
            throw ValidationError("--rpcconnect \(rpcconnect ?? ""): the port must be a number from 1 to 65535")
        }
        if host.isEmpty { throw ValidationError("--rpcconnect names no host") }
        if let rpcport { return (host, rpcport) }
        if let port { return (host, port) }
        if configuration.rpc.port != 0 { return (host, Int(configuration.rpc.port)) }
        // rpcport=0 (any free port) names no port a client could use.
        let parameters: ChainParameters
        do { parameters = try ChainParameters.builtIn(configuration.network.rawValue) } catch {
            throw CommandFailure(.invalid, "\(error)")
        }
        return (host, Int(parameters.ports.rpc))
    }

    /// Where the credentials come from: the given user and password, or the cookie file
    /// (read at each attempt, since with --rpcwait the node may not have written it yet).
    func credentialsSource(_ configuration: NodeConfiguration) -> Invocation.Credentials {
        if let rpcpassword { return .password(user: rpcuser ?? "", password: rpcpassword) }
        if let rpccookiefile { return .cookie(path: rpccookiefile) }
        if let password = configuration.rpc.password { return .password(user: configuration.rpc.user ?? "", password: password) }
        return .cookie(path: configuration.rpc.cookieFile)
    }

    /// Runs `body` on the concurrency pool and waits for it (the command itself is synchronous).
    static func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task.detached {
            box.value = await body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    /// bitcoin-cli's single-dash spellings (`-rpcport=N`, `-named`, `-regtest`) become
    /// ArgumentParser's double-dash ones, and everything from METHOD on is marked as
    /// positional (`--`), so parameters such as `-1` are never taken for options. Arguments
    /// of other commands pass unchanged.
    static func normalizedArguments(_ arguments: [String]) -> [String] {
        guard arguments.first == "rpc" else { return arguments }
        var result = ["rpc"]
        var index = 1
        while index < arguments.count {
            var word = arguments[index]
            if word == "--" { return result + arguments[index...] }
            if word.hasPrefix("-") && !word.hasPrefix("--") && word.count > 2 {
                let name = String(word.dropFirst().prefix { $0 != "=" })
                if flagNames.contains(name) || valueOptionNames.contains(name) || name == "help" {
                    word = "-" + word
                }
            }
            if word.hasPrefix("--") {
                let name = String(word.dropFirst(2).prefix { $0 != "=" })
                if flagNames.contains(name), let equals = word.firstIndex(of: "=") {
                    // bitcoin-cli's -named=1 / -regtest=0.
                    let setting = word[word.index(after: equals)...]
                    if ["0", "false", "no"].contains(setting.lowercased()) { index += 1; continue }
                    word = "--" + name
                }
                result.append(word)
                if valueOptionNames.contains(name) && !word.contains("="), index + 1 < arguments.count {
                    result.append(arguments[index + 1])
                    index += 1
                }
                index += 1
                continue
            }
            if word.hasPrefix("-") && word.count > 1 {
                result.append(word) // a short option such as -h
                index += 1
                continue
            }
            return result + ["--"] + arguments[index...]
        }
        return result
    }

    static let flagNames: Set<String> = ["regtest", "testnet", "named", "rpcwait", "stdin"]
    static let valueOptionNames: Set<String> = [
        "datadir", "network", "conf", "rpcconnect", "rpcport", "rpcuser", "rpcpassword", "rpccookiefile", "rpcwaittimeout", "rpcclienttimeout",
    ]
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}

/// One call with its retries, free of the command's parsing.
struct Invocation: Sendable {
    enum Credentials: Sendable {
        case password(user: String, password: String)
        case cookie(path: String)
    }

    enum Outcome: Sendable {
        case result(JSON)
        case rpcError(RPCError)
        case failure(String)
    }

    var host: String
    var port: Int
    var method: String
    var params: JSON
    var credentials: Credentials
    var timeout: Double
    /// Seconds to keep retrying while the server cannot be reached or is warming up: 0 not
    /// at all, nil without end.
    var wait: Double?

    func perform() async -> Outcome {
        let started = ContinuousClock.now
        func mayRetry() -> Bool {
            guard let wait else { return true }
            return wait > 0 && ContinuousClock.now - started < .milliseconds(Int64(wait * 1000))
        }
        while true {
            let user: String, password: String
            switch credentials {
            case let .password(givenUser, givenPassword):
                (user, password) = (givenUser, givenPassword)
            case .cookie(let path):
                do {
                    (user, password) = try RPCClient.readCookie(path: path)
                } catch {
                    if mayRetry() { try? await Task.sleep(for: .seconds(1)); continue }
                    return .failure("""
                        Could not locate RPC credentials. No authentication cookie could be found, and RPC password is not set. \
                        (\(error)). Give --rpcpassword, or the node's --datadir and network.
                        """)
                }
            }
            let client = RPCClient(host: host, port: port, user: user, password: password, timeout: timeout)
            do {
                let result = try await client.call(method, params: params)
                await client.close()
                return .result(result)
            } catch let error as RPCError {
                await client.close()
                if error.code == RPCError.inWarmup && mayRetry() { try? await Task.sleep(for: .seconds(1)); continue }
                return .rpcError(error)
            } catch let error as RPCTransportError {
                await client.close()
                if error.kind == .connect {
                    if mayRetry() { try? await Task.sleep(for: .seconds(1)); continue }
                    return .failure("""
                        Could not connect to the server \(host.contains(":") ? "[\(host)]" : host):\(port) (\(error.detail))

                        Make sure the rusty node is running with its RPC server and that you are connecting to the correct RPC port.
                        """)
                }
                return .failure(error.description)
            } catch {
                await client.close()
                return .failure("\(error)")
            }
        }
    }
}
