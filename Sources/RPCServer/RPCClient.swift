// A JSON-RPC client over HTTP/1.1 (SwiftNIO's HTTP client handlers): what `rusty rpc` and
// tests use to talk to a node the way bitcoin-cli does. One keep-alive connection, one
// request at a time, Basic auth, a deadline per request.

import Foundation
import JSONRPC
import NIOCore
import NIOHTTP1
import NIOPosix

/// A failure to get an HTTP answer (or a JSON-RPC answer out of it) from the server.
public struct RPCTransportError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No connection could be made (refused, unreachable, name not resolved, connect timeout).
        case connect
        /// No complete answer within the client's timeout.
        case timeout
        /// The server closed the connection before answering.
        case closed
        /// HTTP 401: the user name or password (or cookie) was not accepted.
        case unauthorized
        /// An HTTP error whose body is no JSON-RPC answer, or a body that is no JSON-RPC answer.
        case badResponse
    }

    public var kind: Kind
    public var host: String
    public var port: Int
    public var detail: String

    public var description: String {
        switch kind {
        case .connect: return "Could not connect to the server \(host):\(port) (\(detail))"
        case .timeout: return "No answer from the server \(host):\(port) within \(detail)"
        case .closed: return "The server \(host):\(port) closed the connection before answering"
        case .unauthorized: return "Authorization failed: Incorrect rpcuser or rpcpassword"
        case .badResponse: return "\(detail) (server \(host):\(port))"
        }
    }
}

/// A JSON-RPC client for one server. Calls from several tasks are sent one after another on
/// the same connection (bitcoind answers a connection's requests in order anyway).
public final class RPCClient: @unchecked Sendable {
    public let host: String
    public let port: Int
    private let authorization: String?
    /// Deadline of each request, from sending it to its complete answer.
    public let timeout: TimeAmount
    private let group: any EventLoopGroup
    private let queue = RequestQueue()
    /// The kept connection (nil: none open).
    private var keptChannel: (any Channel)?
    /// Guards `lastID` and `keptChannel`.
    private let lock = NSLock()
    private var lastID = 0
    /// Connections opened so far (keep-alive keeps this at 1 while the server keeps it open).
    var connectionsOpened: Int { lock.withLock { opened } }
    private var opened = 0

    /// `user`/`password`: Basic auth (nil user: none sent). `timeout`: per request, seconds.
    public init(host: String, port: Int, user: String?, password: String?, timeout: Double = 900) {
        self.host = host
        self.port = port
        if let user {
            authorization = "Basic " + Data("\(user):\(password ?? "")".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
        self.timeout = .nanoseconds(Int64(max(0.001, min(timeout, 1e9)) * 1e9))
        group = MultiThreadedEventLoopGroup.singleton
    }

    deinit {
        keptChannel?.close(promise: nil)
    }

    /// The user and password in a cookie file (`__cookie__:HEX`, as bitcoind writes it).
    public static func readCookie(path: String) throws -> (user: String, password: String) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw RPCCookieError(path: path, reason: exists ? "cannot be read" : "does not exist")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw RPCCookieError(path: path, reason: "is not UTF-8 text") }
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
            throw RPCCookieError(path: path, reason: "does not hold USER:PASSWORD")
        }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]))
    }

    /// Calls `method` (a JSON-RPC 1.0-style request, as bitcoin-cli sends): its result, or
    /// the server's error as `RPCError`; transport failures as `RPCTransportError`.
    public func call(_ method: String, params: JSON = .array([])) async throws -> JSON {
        let id = lock.withLock { lastID += 1; return lastID }
        let request: JSON = ["method": .string(method), "params": params, "id": .int(id)]
        let (status, body) = try await callRaw(body: request.serialized())
        if status == 401 { throw transportError(.unauthorized, "HTTP 401") }
        let reply: JSON
        do { reply = try JSONParser.parse(body) } catch {
            let text = String(decoding: body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw transportError(.badResponse, "server returned HTTP error \(status)" + (text.isEmpty ? "" : ": \(text)"))
        }
        guard case .object(let fields) = reply else {
            throw transportError(.badResponse, "the answer (HTTP \(status)) is not a JSON-RPC response object")
        }
        if let error = fields["error"], !error.isNull {
            guard let code = error["code"]?.int64Value, let code = Int(exactly: code) else {
                throw transportError(.badResponse, "the answer (HTTP \(status)) has an error without an integer code: \(error.text())")
            }
            throw RPCError(code, error["message"]?.stringValue ?? error.text())
        }
        guard let result = fields["result"] else {
            throw transportError(.badResponse, "the answer (HTTP \(status)) has neither result nor error")
        }
        return result
    }

    /// POSTs `body` to `/` as it is (a batch, a malformed request): the HTTP status and body.
    public func callRaw(body: [UInt8]) async throws -> (status: Int, body: [UInt8]) {
        try await queue.serialized { [self] in try await send(body) }
    }

    /// Closes the connection (the next call opens a new one).
    public func close() async {
        try? await takeChannel()?.close().get()
    }

    private func takeChannel() -> (any Channel)? {
        lock.withLock {
            defer { keptChannel = nil }
            return keptChannel
        }
    }

    private func transportError(_ kind: RPCTransportError.Kind, _ detail: String) -> RPCTransportError {
        RPCTransportError(kind: kind, host: host, port: port, detail: detail)
    }

    /// One request on the kept connection, opening one first when there is none (or the
    /// server closed it while idle: a request is resent only if it was never written).
    private func send(_ body: [UInt8], retried: Bool = false) async throws -> (status: Int, body: [UInt8]) {
        let channel: any Channel
        if let open = lock.withLock({ keptChannel }), open.isActive {
            channel = open
        } else {
            takeChannel()?.close(promise: nil)
            channel = try await connect()
            lock.withLock { keptChannel = channel; opened += 1 }
        }
        let promise = channel.eventLoop.makePromise(of: (status: Int, body: [UInt8]).self)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "keep-alive")
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/", headers: headers)
        let timeout = self.timeout
        let seconds = Double(timeout.nanoseconds) / 1e9
        let timeoutError = transportError(.timeout, seconds == seconds.rounded() ? "\(Int(seconds)) s" : "\(seconds) s")
        let closedError = transportError(.closed, "")
        channel.eventLoop.execute {
            do {
                let handler = try channel.pipeline.syncOperations.handler(type: ResponseCollector.self)
                handler.expect(promise, closedError: closedError)
            } catch {
                // The channel closed between the check and now (its handlers are gone):
                // nothing was written, so the request may go on a new connection.
                promise.fail(NotWritten())
                return
            }
            let deadline = channel.eventLoop.scheduleTask(in: timeout) {
                promise.fail(timeoutError)
                channel.close(promise: nil)
            }
            promise.futureResult.whenComplete { _ in deadline.cancel() }
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(bytes: body))), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { error in
                promise.fail(closedError)
            }
        }
        do {
            return try await promise.futureResult.get()
        } catch {
            // A connection in an unknown state is not reused.
            lock.withLock { if keptChannel === channel { keptChannel = nil } }
            channel.close(promise: nil)
            if error is NotWritten {
                if retried { throw closedError }
                return try await send(body, retried: true)
            }
            throw error
        }
    }

    /// A request that never reached the wire because its connection closed first.
    private struct NotWritten: Error {}

    private func connect() async throws -> any Channel {
        let connectTimeout = TimeAmount.nanoseconds(min(timeout.nanoseconds, 30_000_000_000))
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector())
                }
            }
        do {
            return try await bootstrap.connect(host: host, port: port).get()
        } catch {
            throw transportError(.connect, Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        if case ChannelError.connectTimeout(let amount)? = error as? ChannelError {
            return "connect timed out after \(Double(amount.nanoseconds) / 1e9) s"
        }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return describe(first.error) }
            if let resolution = connection.dnsAAAAError ?? connection.dnsAError { return "cannot resolve \(connection.host): \(resolution)" }
        }
        return "\(error)"
    }
}

/// A cookie file that cannot be used.
public struct RPCCookieError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "the cookie file \(path) \(reason)" }
}

/// Lets one request at a time use the connection, in the order they came.
private actor RequestQueue {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func serialized<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}

/// Collects one response (head, body, end) for the request in flight.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private var promise: EventLoopPromise<(status: Int, body: [UInt8])>?
    private var closedError: (any Error)?
    private var status = 0
    private var body: [UInt8] = []
    /// Most bytes of one answer kept (a hostile or broken server cannot exhaust memory).
    static let maxBody = 256 << 20

    func expect(_ promise: EventLoopPromise<(status: Int, body: [UInt8])>, closedError: any Error) {
        self.promise = promise
        self.closedError = closedError
        status = 0
        body = []
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= Self.maxBody else {
                fail(RPCTransportError(kind: .badResponse, host: "", port: 0, detail: "answer larger than \(Self.maxBody) bytes"))
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            let answer = (status: status, body: body)
            body = []
            promise?.succeed(answer)
            promise = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let closedError { fail(closedError) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        promise?.fail(error)
        promise = nil
    }
}
