// JSON-RPC over HTTP/1.1 on SwiftNIO's HTTP handlers (no hand-written HTTP parsing). The
// server owns transport policy only: who may connect (allowed subnets), who may call
// (credentials), and the bounds hostile clients meet (body size, header deadline, work queue,
// connection count, idle time). What a call does is the dispatcher's business.

import Foundation
import JSONRPC
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix

public struct RPCServerSettings: Sendable {
    public struct Listener: Sendable, Equatable {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    public var listeners: [Listener]
    /// Peers allowed to connect besides loopback (`rpcallowip`).
    public var allowed: [RPCSubnet] = []
    public var credentials: RPCCredentials
    /// Largest request body; `submitblock` of a 4 MB block is 8 MB of hex.
    public var maxBodyBytes = 16 << 20
    /// Requests being answered at once before new ones get 503 (bitcoind's rpcworkqueue).
    public var workQueue = 64
    /// Open connections; more are closed at once.
    public var maxConnections = 256
    /// A request must arrive whole within this many seconds of its first byte, and an idle
    /// keep-alive connection is closed after it (bitcoind's rpcservertimeout).
    public var timeoutSeconds: Double = 30
    /// Pause before answering a failed login, to slow down password guessing (bitcoind: 250 ms).
    public var authFailureDelay: Double = 0.25

    public init(listeners: [Listener], credentials: RPCCredentials) {
        self.listeners = listeners
        self.credentials = credentials
    }
}

/// An IPv4/IPv6 address with a prefix length (`rpcallowip=10.0.0.0/8`, or one address).
public struct RPCSubnet: Sendable, Equatable, CustomStringConvertible {
    public var address: [UInt8]
    public var prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let address = RPCSubnet.parseAddress(parts[0]) else { return nil }
        self.address = address
        if parts.count == 2 {
            if let length = Int(parts[1]), (0...(address.count * 8)).contains(length) {
                prefixLength = length
            } else if address.count == 4, let mask = RPCSubnet.parseAddress(parts[1]), mask.count == 4 {
                // A dotted netmask, as bitcoind also takes it.
                let bits = mask.reduce(0) { $0 << 8 | UInt32($1) }
                guard bits == 0 || (~bits &+ 1) & ~bits == 0 else { return nil }
                prefixLength = bits.nonzeroBitCount
            } else {
                return nil
            }
        } else {
            prefixLength = address.count * 8
        }
    }

    public func contains(_ other: [UInt8]) -> Bool {
        guard other.count == address.count else { return false }
        var remaining = prefixLength
        for index in address.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let host = address.count == 4 ? address.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(separator: ":")
        return "\(host)/\(prefixLength)"
    }

    static func parseAddress(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        let trimmed = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
        if inet_pton(AF_INET6, trimmed, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Whether an address is loopback (127/8 or ::1; an IPv4-mapped 127/8 too).
    public static func isLoopback(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 4 { return bytes[0] == 127 }
        if bytes.count == 16 {
            if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return bytes[12] == 127 }
        }
        return false
    }
}

public struct RPCServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The HTTP server. `start` binds every listener; `stop` closes them and every connection.
public final class RPCHTTPServer: @unchecked Sendable {
    public let settings: RPCServerSettings
    let dispatcher: RPCDispatcher
    let logger: Logger
    let group: EventLoopGroup
    /// `GET /metrics` (Prometheus text); nil answers 404.
    let metrics: (@Sendable () -> [UInt8])?
    private let lock = NSLock()
    private var channels: [Channel] = []
    private var connections: [ObjectIdentifier: Channel] = [:]
    private var inFlight = 0
    public private(set) var boundAddresses: [String] = []
    /// Calls run here, not on Swift's cooperative pool: a method may wait for the chain's
    /// writer (an import run holds it up to ~2 s), and with one cooperative thread per core
    /// a few such calls would stall every other task of the process.
    let executor = RPCCallExecutor()

    public init(settings: RPCServerSettings, dispatcher: RPCDispatcher, group: EventLoopGroup, logger: Logger,
                metrics: (@Sendable () -> [UInt8])? = nil) {
        self.settings = settings
        self.dispatcher = dispatcher
        self.group = group
        self.logger = logger
        self.metrics = metrics
    }

    public func start() async throws {
        for listener in settings.listeners {
            let channel: Channel
            do {
                channel = try await ServerBootstrap(group: group)
                    .serverChannelOption(ChannelOptions.backlog, value: 256)
                    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    .childChannelInitializer { [self] channel in
                        guard admit(channel) else {
                            return channel.close()
                        }
                        return channel.pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: true).flatMap {
                            channel.pipeline.addHandler(RPCHTTPHandler(server: self))
                        }
                    }
                    .bind(host: listener.host, port: listener.port).get()
            } catch {
                await stop()
                throw RPCServerError("cannot listen for RPC on \(listener.host):\(listener.port): \(error)")
            }
            lock.withLock {
                channels.append(channel)
                if let address = channel.localAddress { boundAddresses.append(Self.text(address)) }
            }
            logger.info("RPC server listening on \(channel.localAddress.map(Self.text) ?? "\(listener.host):\(listener.port)")")
        }
    }

    public func stop() async {
        let (listeners, open) = lock.withLock { (channels, Array(connections.values)) }
        for channel in listeners { try? await channel.close() }
        for channel in open { try? await channel.close() }
        lock.withLock {
            channels.removeAll()
            connections.removeAll()
        }
    }

    /// Checks the remote address and the connection bound; tracks the connection until it closes.
    func admit(_ channel: Channel) -> Bool {
        guard let remote = channel.remoteAddress, let bytes = Self.addressBytes(remote) else { return false }
        guard RPCSubnet.isLoopback(bytes) || settings.allowed.contains(where: { $0.contains(bytes) }) else {
            logger.warning("RPC connection from \(Self.text(remote)) refused: not allowed by rpcallowip")
            return false
        }
        let id = ObjectIdentifier(channel)
        let admitted = lock.withLock { () -> Bool in
            guard connections.count < settings.maxConnections else { return false }
            connections[id] = channel
            return true
        }
        guard admitted else {
            logger.warning("RPC connection from \(Self.text(remote)) refused: \(settings.maxConnections) connections open")
            return false
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.connections.removeValue(forKey: id) }
        }
        return true
    }

    /// Takes a slot in the work queue; false when it is full.
    func beginRequest() -> Bool {
        lock.withLock {
            guard inFlight < settings.workQueue else { return false }
            inFlight += 1
            return true
        }
    }

    func endRequest() { lock.withLock { inFlight -= 1 } }

    /// The peer's address; an IPv4-mapped IPv6 address (a dual-stack listener) as its 4 IPv4
    /// bytes, so IPv4 `rpcallowip` subnets match it.
    static func addressBytes(_ address: SocketAddress) -> [UInt8]? {
        switch address {
        case .v4(let v4): return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
            return bytes
        default: return nil
        }
    }

    static func text(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// One connection: collects a request (head, bounded body), checks path, method and
/// credentials, runs the call off the event loop, writes the answer, keeps the connection
/// alive when the client asked for that. Confined to its channel's event loop (every method and
/// scheduled closure runs there), hence unchecked.
final class RPCHTTPHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: RPCHTTPServer
    var head: HTTPRequestHead?
    var body: ByteBuffer?
    /// Set when the request is already answered (too large, unauthorised): later parts are dropped.
    var answered = false
    var deadline: Scheduled<Void>?
    var idle: Scheduled<Void>?
    var busy = false

    init(server: RPCHTTPServer) { self.server = server }

    func handlerAdded(context: ChannelHandlerContext) { armIdleTimer(context: context) }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        idle?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            idle?.cancel()
            head = requestHead
            body = nil
            answered = false
            // The whole request, head to end, within the timeout: a trickling client is cut off.
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(in: .milliseconds(Int64(server.settings.timeoutSeconds * 1000))) { [weak self] in
                guard let self, !self.answered else { return }
                self.respond(context: loopBound.value, status: .requestTimeout, body: Array("request not completed in time\n".utf8), close: true)
            }
            if let length = requestHead.headers.first(name: "content-length").flatMap(Int.init), length > server.settings.maxBodyBytes {
                respond(context: context, status: .payloadTooLarge,
                        body: Array("request body of \(length) bytes exceeds \(server.settings.maxBodyBytes)\n".utf8), close: true)
            }
        case .body(var chunk):
            guard !answered else { return }
            if (body?.readableBytes ?? 0) + chunk.readableBytes > server.settings.maxBodyBytes {
                respond(context: context, status: .payloadTooLarge, body: Array("request body exceeds \(server.settings.maxBodyBytes) bytes\n".utf8),
                        close: true)
                return
            }
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            deadline?.cancel()
            guard !answered, let head else { return }
            handle(head: head, body: body.map { Array($0.readableBytesView) } ?? [], context: context)
        }
    }

    func handle(head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
        let keepAlive = head.isKeepAlive
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        if head.method == .GET && path == "/metrics", let metrics = server.metrics {
            answered = true
            respond(context: context, status: .ok, body: metrics(), contentType: "text/plain; version=0.0.4", close: !keepAlive)
            return
        }
        guard path == "/" || path.hasPrefix("/wallet/") else {
            respond(context: context, status: .notFound, body: [], close: !keepAlive)
            return
        }
        guard head.method == .POST else {
            respond(context: context, status: .methodNotAllowed, body: Array("JSONRPC server handles only POST requests\n".utf8), close: !keepAlive)
            return
        }
        guard server.settings.credentials.accepts(authorization: head.headers.first(name: "authorization")) else {
            answered = true
            let remote = context.remoteAddress.map(RPCHTTPServer.text) ?? "?"
            server.logger.warning("RPC: incorrect password attempt from \(remote)")
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(server.settings.authFailureDelay * 1000))) { [self] in
                var headers = HTTPHeaders()
                headers.add(name: "WWW-Authenticate", value: "Basic realm=\"jsonrpc\"")
                self.respond(context: loopBound.value, status: .unauthorized, body: [], extraHeaders: headers, close: !keepAlive)
            }
            return
        }
        guard server.beginRequest() else {
            respond(context: context, status: .serviceUnavailable, body: Array("Work queue depth exceeded\n".utf8), close: !keepAlive)
            return
        }
        answered = true
        busy = true
        let dispatcher = server.dispatcher
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let server = self.server
        Task(executorPreference: server.executor) {
            let reply = await dispatcher.handle(body: body)
            server.endRequest()
            eventLoop.execute {
                self.busy = false
                let status = HTTPResponseStatus(statusCode: reply.status)
                self.respond(context: loopBound.value, status: status, body: reply.body ?? [], contentType: "application/json", close: !keepAlive)
            }
        }
    }

    func respond(context: ChannelHandlerContext, status: HTTPResponseStatus, body: [UInt8], contentType: String = "text/plain",
                 extraHeaders: HTTPHeaders = HTTPHeaders(), close: Bool) {
        answered = true
        deadline?.cancel()
        var headers = extraHeaders
        if !body.isEmpty || status != .noContent { headers.add(name: "Content-Type", value: contentType) }
        headers.add(name: "Content-Length", value: String(body.count))
        if close { headers.add(name: "Connection", value: "close") }
        let version = head?.version ?? .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [weak self] _ in
            if close {
                loopBound.value.close(promise: nil)
            } else {
                self?.armIdleTimer(context: loopBound.value)
            }
        }
        head = nil
        self.body = nil
    }

    /// Closes a keep-alive connection that sends nothing for the timeout.
    func armIdleTimer(context: ChannelHandlerContext) {
        idle?.cancel()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        idle = context.eventLoop.scheduleTask(in: .milliseconds(Int64(server.settings.timeoutSeconds * 1000))) { [weak self] in
            guard let self, !self.busy, self.head == nil else { return }
            loopBound.value.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // Malformed HTTP: NIO's error handler already answered 400; drop the connection.
        context.close(promise: nil)
    }
}

/// Threads for RPC calls: a concurrent dispatch queue (its threads are added as others block,
/// unlike the cooperative pool's one per core). How many calls run at once is bounded by the
/// server's work queue.
final class RPCCallExecutor: TaskExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "rusty.rpc.calls", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
