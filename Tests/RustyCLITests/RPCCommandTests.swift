import Foundation
import JSONRPC
import RPCServer
@testable import RustyCLI
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `rusty rpc`'s pieces without a server: bitcoin-cli's spellings, parameter parsing, exit
/// codes, endpoints, cookies and the client's transport errors. (Against real nodes:
/// NodeNetworkTests' RPCClientTests.)
struct RPCCommandTests {
    @Test("single-dash spellings become double-dash ones and everything from METHOD on stays positional")
    func normalizedArguments() {
        #expect(RPCCommand.normalizedArguments(["rpc", "-regtest", "-rpcport=5", "-named", "getblockhash", "height=0"])
                == ["rpc", "--regtest", "--rpcport=5", "--named", "--", "getblockhash", "height=0"])
        #expect(RPCCommand.normalizedArguments(["rpc", "--rpcport", "5", "-datadir", "/d", "getblockhash", "-1", "-named"])
                == ["rpc", "--rpcport", "5", "--datadir", "/d", "--", "getblockhash", "-1", "-named"])
        #expect(RPCCommand.normalizedArguments(["rpc", "-named=0", "-rpcwait=1", "getblockcount"]) == ["rpc", "--rpcwait", "--", "getblockcount"])
        #expect(RPCCommand.normalizedArguments(["rpc", "--", "getblockcount"]) == ["rpc", "--", "getblockcount"])
        #expect(RPCCommand.normalizedArguments(["rpc", "-h"]) == ["rpc", "-h"])
        #expect(RPCCommand.normalizedArguments(["rpc", "-help"]) == ["rpc", "--help"])
        // Other commands, and names bitcoin-cli does not have, pass unchanged.
        #expect(RPCCommand.normalizedArguments(["node", "-regtest"]) == ["node", "-regtest"])
        #expect(RPCCommand.normalizedArguments(["rpc", "-bogus", "getblockcount"]) == ["rpc", "-bogus", "--", "getblockcount"])
    }

    @Test("a parameter that parses as JSON is sent as that value, any other as a string")
    func parameterValues() throws {
        #expect(RPCCommand.value("0") == .number("0"))
        #expect(RPCCommand.value("-1.5") == .number("-1.5"))
        #expect(RPCCommand.value("true") == .bool(true))
        #expect(RPCCommand.value("null") == .null)
        #expect(RPCCommand.value("\"0\"") == .string("0"))
        #expect(RPCCommand.value("[1,\"a\"]") == .array([.number("1"), .string("a")]))
        #expect(RPCCommand.value("{\"a\":1}")["a"] == .number("1"))
        #expect(RPCCommand.value("abc") == .string("abc"))
        #expect(RPCCommand.value("00ab") == .string("00ab")) // hex, not a number
        #expect(RPCCommand.value("") == .string(""))
        #expect(try RPCCommand.parameters(["1", "x"], named: false) == .array([.number("1"), .string("x")]))
        let named = try RPCCommand.parameters(["height=0", "label=a=b", "empty="], named: true)
        #expect(named.objectValue?.keys == ["height", "label", "empty"])
        #expect(named["height"] == .number("0") && named["label"] == .string("a=b") && named["empty"] == .string(""))
        #expect(throws: CommandFailure.self) { try RPCCommand.parameters(["0"], named: true) }
        #expect(throws: CommandFailure.self) { try RPCCommand.parameters(["a=1", "a=2"], named: true) }
    }

    @Test("exit status of an error answer: abs(code), the low 8 bits as the system keeps them, never 0")
    func exitStatus() {
        #expect(RPCCommand.exitStatus(forCode: -8) == 8)
        #expect(RPCCommand.exitStatus(forCode: -5) == 5)
        #expect(RPCCommand.exitStatus(forCode: -1) == 1)
        #expect(RPCCommand.exitStatus(forCode: -32601) == 89)
        #expect(RPCCommand.exitStatus(forCode: -256) == 1)
        #expect(RPCCommand.exitStatus(forCode: Int.min) == 1)
    }

    @Test("the server: --rpcconnect HOST[:PORT] or [IPV6]:PORT, --rpcport winning, else the network's RPC port")
    func endpoints() throws {
        // An empty datadir: no rusty.conf, so only the options and the defaults count.
        let datadir = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-endpoints-\(UUID().uuidString)").path
        func endpoint(_ arguments: [String]) throws -> (host: String, port: Int) {
            let command = try RPCCommand.parse(["--datadir", datadir] + arguments + ["getblockcount"])
            return try command.endpoint(command.nodeConfiguration())
        }
        #expect(try endpoint([]) == ("127.0.0.1", 9372))
        #expect(try endpoint(["--regtest"]) == ("127.0.0.1", 29372))
        #expect(try endpoint(["--network", "testnet"]) == ("127.0.0.1", 19372))
        #expect(try endpoint(["--rpcconnect", "node.example:1234"]) == ("node.example", 1234))
        #expect(try endpoint(["--rpcconnect", "node.example:1234", "--rpcport", "99"]) == ("node.example", 99))
        #expect(try endpoint(["--rpcconnect", "[::1]:8000"]) == ("::1", 8000))
        #expect(try endpoint(["--rpcconnect", "::1", "--regtest"]) == ("::1", 29372))
        #expect(throws: (any Error).self) { try endpoint(["--rpcconnect", "host:notaport"]) }
        #expect(throws: (any Error).self) { try RPCCommand.parse(["--regtest", "--testnet", "getblockcount"]) }
        #expect(throws: (any Error).self) { try RPCCommand.parse(["--network", "moon", "getblockcount"]) }
        #expect(throws: (any Error).self) { try RPCCommand.parse(["--rpcport", "70000", "getblockcount"]) }
        #expect(throws: (any Error).self) { try RPCCommand.parse([]) }
    }

    @Test("the node's configuration supplies the network, rpcport and credentials unless an option says otherwise")
    func configuration() throws {
        let datadir = FileManager.default.temporaryDirectory.appendingPathComponent("rpc-conf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: datadir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: datadir) }
        try Data("regtest=1\n[regtest]\nrpcport=12345\nrpcuser=carol\nrpcpassword=hunter2\n".utf8)
            .write(to: datadir.appendingPathComponent("rusty.conf"))
        let command = try RPCCommand.parse(["--datadir", datadir.path, "getblockcount"])
        let configuration = try command.nodeConfiguration()
        #expect(configuration.network.rawValue == "regtest")
        #expect(try command.endpoint(configuration) == ("127.0.0.1", 12345))
        guard case .password("carol", "hunter2") = command.credentialsSource(configuration) else {
            Issue.record("the configuration's rpcuser/rpcpassword were not used")
            return
        }
        // Options win over the file.
        let overridden = try RPCCommand.parse(["--datadir", datadir.path, "--rpcport", "999", "--rpccookiefile", "/c", "getblockcount"])
        #expect(try overridden.endpoint(overridden.nodeConfiguration()) == ("127.0.0.1", 999))
        guard case .cookie("/c") = overridden.credentialsSource(try overridden.nodeConfiguration()) else {
            Issue.record("--rpccookiefile did not win over the configuration's password")
            return
        }
        // Without a password anywhere: the cookie of the configured network.
        try Data("regtest=1\n".utf8).write(to: datadir.appendingPathComponent("rusty.conf"))
        let plain = try RPCCommand.parse(["--datadir", datadir.path, "getblockcount"])
        guard case .cookie(let path) = plain.credentialsSource(try plain.nodeConfiguration()) else {
            Issue.record("no cookie path")
            return
        }
        #expect(path == datadir.path + "/regtest/.cookie")
        try Data("regtest=maybe\n".utf8).write(to: datadir.appendingPathComponent("rusty.conf"))
        #expect(throws: CommandFailure.self) { try plain.nodeConfiguration() }
    }

    @Test("cookie files: bitcoind's USER:PASSWORD line; missing or malformed ones are errors naming the file")
    func cookies() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cookie-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let password = String(repeating: "0f", count: 32)
        try Data("__cookie__:\(password)".utf8).write(to: URL(fileURLWithPath: path))
        let cookie = try RPCClient.readCookie(path: path)
        #expect(cookie.user == "__cookie__" && cookie.password == password)
        try Data("__cookie__:\(password)\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(try RPCClient.readCookie(path: path).password == password)
        try Data("no colon here".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try RPCClient.readCookie(path: path) } throws: { ($0 as? RPCCookieError)?.description.contains(path) == true }
        #expect { try RPCClient.readCookie(path: path + ".absent") } throws: {
            ($0 as? RPCCookieError)?.description == "the cookie file \(path).absent does not exist"
        }
    }

    @Test("the client's transport errors: a refused connection is a connect error naming the server")
    func refusedConnection() async throws {
        // A port nothing listens on: bind one, note it, close it.
        let socket = try Socket.boundLoopback()
        let port = socket.port
        socket.close()
        let client = RPCClient(host: "127.0.0.1", port: port, user: "u", password: "p", timeout: 5)
        await #expect { try await client.call("getblockcount") } throws: { error in
            guard let transport = error as? RPCTransportError, transport.kind == .connect else { return false }
            return transport.description.hasPrefix("Could not connect to the server 127.0.0.1:\(port)")
        }
    }
}

/// A loopback TCP socket bound to a free port (closed by `close`).
private struct Socket {
    let fd: Int32
    let port: Int

    static func boundLoopback() throws -> Socket {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw CommandFailure(.invalid, "cannot bind a loopback socket") }
        return Socket(fd: fd, port: Int(UInt16(bigEndian: address.sin_port)))
    }

    func close() { _ = Glibc.close(fd) }
}
