import Foundation
import JSONRPC
import Logging
import NIOPosix
@testable import RPCServer
import Testing

/// `RPCClient` against the node's HTTP server in this process: results and errors, one kept
/// connection for many (and concurrent) calls, raw batches and malformed bodies, rejected
/// credentials, and a deadline that ends a slow call without spoiling the next.
struct RPCClientTests {
    static let user = "alice", password = "correct horse"

    /// Runs `body` with the port of a server that answers echo, sleep (milliseconds) and fail.
    static func withServer(_ body: (Int) async throws -> Void) async throws {
        let registry = RPCRegistry()
        registry.register(RPCMethod("echo", category: "Test", parameters: [RPCParameter("value", "any", required: false, "returned")],
                                    help: "Returns its parameter.") { arguments in arguments[0] ?? .null })
        registry.register(RPCMethod("sleep", category: "Test", parameters: [RPCParameter("milliseconds", "number", "how long")],
                                    help: "Answers after a while.") { arguments in
            try await Task.sleep(for: .milliseconds(try arguments.int(0, in: 0...10_000)))
            return "slept"
        })
        registry.register(RPCMethod("fail", category: "Test", help: "Always fails.") { _ in throw RPCError.invalidParameter("no good") })
        var settings = RPCServerSettings(listeners: [.init(host: "127.0.0.1", port: 0)],
                                         credentials: RPCCredentials(entries: [.password(user: user, password: password)]))
        settings.authFailureDelay = 0
        // Longer than any pause a loaded CI machine puts between two calls: the keep-alive
        // assertions count connections, and the 30 s default idle close would add one.
        settings.timeoutSeconds = 600
        let server = RPCHTTPServer(settings: settings, dispatcher: RPCDispatcher(registry: registry),
                                   group: MultiThreadedEventLoopGroup.singleton, logger: Logger(label: "rpc-client-tests"))
        try await server.start()
        let port = try #require(server.boundAddresses.first.flatMap { $0.split(separator: ":").last }.flatMap { Int($0) })
        do {
            try await body(port)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test("results, error answers and unknown methods; many and concurrent calls share one connection")
    func callsAndKeepAlive() async throws {
        try await Self.withServer { port in
            let client = RPCClient(host: "127.0.0.1", port: port, user: Self.user, password: Self.password, timeout: 10)
            let value: JSON = ["amount": .number("0.00001000"), "list": [1, "two", nil]]
            #expect(try await client.call("echo", params: [value]) == value)
            #expect(try await client.call("echo") == .null)
            await #expect(throws: RPCError(RPCError.invalidParameter, "no good")) { try await client.call("fail") }
            await #expect { try await client.call("nosuchmethod") } throws: { ($0 as? RPCError)?.code == RPCError.methodNotFoundCode }
            let answers = try await withThrowingTaskGroup(of: (Int, JSON).self) { group in
                for index in 0..<20 { group.addTask { (index, try await client.call("echo", params: [.int(index)])) } }
                return try await group.reduce(into: [Int: JSON]()) { $0[$1.0] = $1.1 }
            }
            #expect(answers.count == 20 && answers.allSatisfy { $0.value == .int($0.key) })
            #expect(client.connectionsOpened == 1)
        }
    }

    @Test("callRaw: a batch is answered as an array in order; a malformed body gets HTTP 500 with a parse error")
    func rawBodies() async throws {
        try await Self.withServer { port in
            let client = RPCClient(host: "127.0.0.1", port: port, user: Self.user, password: Self.password, timeout: 10)
            let batch: JSON = [["method": "echo", "params": [1], "id": "a"], ["method": "fail", "id": "b"], ["method": "echo", "params": ["x"], "id": "c"]]
            let (status, body) = try await client.callRaw(body: batch.serialized())
            #expect(status == 200)
            let answers = try JSONParser.parse(body).arrayValue ?? []
            #expect(answers.map { $0["id"] } == ["a", "b", "c"])
            #expect(answers.first?["result"] == 1 && answers.last?["result"] == "x" && answers[1]["error"]?["code"] == -8)
            let malformed = try await client.callRaw(body: Array(#"{"method": "echo", "#.utf8))
            #expect(malformed.status == 500)
            #expect(try JSONParser.parse(malformed.body)["error"]?["code"] == .int(RPCError.parseErrorCode))
            #expect(client.connectionsOpened == 1)
        }
    }

    @Test("a wrong password is an unauthorized transport error, with bitcoin-cli's wording")
    func wrongPassword() async throws {
        try await Self.withServer { port in
            let client = RPCClient(host: "127.0.0.1", port: port, user: Self.user, password: "wrong", timeout: 10)
            await #expect { try await client.call("echo") } throws: { error in
                guard let transport = error as? RPCTransportError else { return false }
                return transport.kind == .unauthorized && transport.description == "Authorization failed: Incorrect rpcuser or rpcpassword"
            }
        }
    }

    @Test("a call past the deadline is a timeout error; the next call opens a new connection and is answered")
    func timeout() async throws {
        try await Self.withServer { port in
            let client = RPCClient(host: "127.0.0.1", port: port, user: Self.user, password: Self.password, timeout: 2)
            let quick = try await client.call("sleep", params: [10])
            #expect(quick == "slept")
            // The server answers after 10 s; a timeout error proves the client gave up first (a bound
            // on the elapsed time would measure the test machine's load, not the client).
            await #expect { try await client.call("sleep", params: [10_000]) } throws: { ($0 as? RPCTransportError)?.kind == .timeout }
            let again = try await client.call("echo", params: ["again"])
            #expect(again == "again")
            #expect(client.connectionsOpened == 2)
        }
    }
}
