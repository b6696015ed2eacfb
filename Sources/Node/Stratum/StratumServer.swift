// The Stratum v1 pool server (DESIGN 9 "Mining service"): a TCP listener on a loop group of
// its own, so miners never delay peers or RPC calls, and the pool's template loop.

import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Stratum

public struct StratumServerError: Error, CustomStringConvertible {
    public let description: String
}

final class StratumServer: @unchecked Sendable {
    let pool: StratumPool
    let group: EventLoopGroup
    private let lock = NSLock()
    private var listener: Channel?
    private var templateTask: Task<Void, Never>?
    /// The template loop runs here, not on Swift's cooperative pool: building a template waits
    /// for the chain's writer (an import holds it up to ~2 s), which must not stall other tasks.
    private let loopExecutor = SerialQueueExecutor(label: "rusty.stratum.templates")

    init(pool: StratumPool, group: EventLoopGroup) {
        self.pool = pool
        self.group = group
    }

    /// Listens, and starts following the tip (the loop builds the first template).
    func start() async throws {
        let settings = pool.settings
        let channel: Channel
        do {
            channel = try await ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(ChannelOptions.writeBufferWaterMark,
                                    value: ChannelOptions.Types.WriteBufferWaterMark(low: settings.maxPendingBytes / 2, high: settings.maxPendingBytes))
                .childChannelInitializer { [pool] channel in
                    let peer = channel.remoteAddress.map(Self.text) ?? "?"
                    let ip = channel.remoteAddress?.ipAddress ?? "?"
                    guard let session = pool.open(channel: channel, peer: peer, ip: ip) else { return channel.close() }
                    return channel.eventLoop.makeCompletedFuture {
                        do {
                            try channel.pipeline.syncOperations.addHandler(
                                ByteToMessageHandler(StratumLineFramer(maxLineBytes: StratumMessage.maxServerLineBytes)))
                            try channel.pipeline.syncOperations.addHandler(StratumConnectionHandler(session: session))
                        } catch {
                            // Not in the pipeline, so handlerRemoved will not free it.
                            pool.close(session)
                            throw error
                        }
                    }
                }
                .bind(host: settings.host, port: settings.port).get()
        } catch {
            throw StratumServerError(description: "cannot listen for Stratum on \(settings.host):\(settings.port): \(error)")
        }
        let port = channel.localAddress?.port ?? settings.port
        pool.bound(host: settings.host, port: port)
        lock.withLock { listener = channel }
        pool.logger.info("stratum: listening on \(settings.host):\(port), blocks pay \(settings.payoutAddress)")
        let task = Task(executorPreference: loopExecutor) { [pool] in await pool.run() }
        lock.withLock { templateTask = task }
    }

    /// Stops listening, closes every connection and stops the template loop.
    func stop() async {
        let (channel, task) = lock.withLock { (listener, templateTask) }
        task?.cancel()
        try? await channel?.close()
        for session in pool.allSessions { try? await session.channel.close() }
        await task?.value
    }

    static func text(_ address: SocketAddress) -> String {
        let host = address.ipAddress ?? "?"
        let port = address.port ?? 0
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// The pool server as a service of the node: started with it, stopped on graceful shutdown.
struct StratumService: Service, CustomStringConvertible {
    let server: StratumServer
    let logger: Logger
    var description: String { "stratum" }

    func run() async throws {
        try await server.start()
        try? await gracefulShutdown()
        logger.info("shutting down: stopping the Stratum server")
        await server.stop()
    }
}

/// Runs a task's jobs on one dispatch queue of its own.
final class SerialQueueExecutor: TaskExecutor, @unchecked Sendable {
    private let queue: DispatchQueue

    init(label: String) { queue = DispatchQueue(label: label) }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }
}
