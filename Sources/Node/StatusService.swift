// The node's status file (`node-status.json`), rewritten every second for `rusty node --status`.

import Foundation
import Logging
import ServiceLifecycle

/// Where the daemon's status goes (the status file; tests may collect it instead).
public protocol NodeStatusReporter: Sendable {
    func update(_ status: NodeStatus)
    /// The last report, at exit.
    func stopped(_ status: NodeStatus)
}

/// Writes `node-status.json` atomically (readers never see half a file).
public struct NodeStatusFileReporter: NodeStatusReporter {
    public let path: String
    let logger: Logger

    public init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    public func update(_ status: NodeStatus) {
        do { try NodeStatusFile.write(status, to: path) } catch { logger.warning("could not write \(path): \(error)") }
    }

    public func stopped(_ status: NodeStatus) {
        var status = status
        status.state = .stopped
        status.peers = []
        status.inboundCount = 0
        status.outboundCount = 0
        update(status)
    }
}

struct StatusService: Service, CustomStringConvertible {
    let manager: PeerManager
    let reporter: any NodeStatusReporter
    var description: String { "status" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                reporter.update(await manager.currentStatus())
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

extension PeerManager {
    /// The status as of now (gathered on the loop).
    func currentStatus() async -> NodeStatus {
        (try? await loop.submit { self.makeStatus() }.get()) ?? makeStatusUnsafelyOffLoop()
    }

    /// After the loop has stopped (shutdown): the chain's part only.
    func finalStatus() -> NodeStatus { makeStatusUnsafelyOffLoop() }

    private func makeStatusUnsafelyOffLoop() -> NodeStatus {
        let snapshot = chain.snapshot
        return NodeStatus(network: parameters.network, startedAt: startedAt, state: .stopping, height: snapshot.tipHeight,
                          tipHash: snapshot.tipHash.hex, headers: snapshot.bestHeaderHeight,
                          verificationProgress: Self.progress(snapshot.tipHeight, snapshot.bestHeaderHeight))
    }

    func makeStatus() -> NodeStatus {
        let snapshot = chain.snapshot
        let state: NodeStatus.State
        if stopping { state = .stopping }
        else if snapshot.tipHeight < snapshot.bestHeaderHeight { state = .syncingBlocks }
        else if headerSyncPeer != nil { state = .syncingHeaders }
        else { state = .synced }
        let summaries = peers.values.filter(\.handshakeDone).sorted { $0.id < $1.id }.map { peer in
            NodeStatus.PeerSummary(id: UInt64(peer.id), address: peer.endpoint.description, inbound: peer.isInbound,
                                   version: peer.version?.protocolVersion ?? 0, userAgent: peer.userAgent,
                                   startingHeight: peer.version?.bestHeight ?? 0, syncedHeight: peer.bestKnownHeight,
                                   pingMillis: peer.lastPingMillis)
        }
        return NodeStatus(network: parameters.network, startedAt: startedAt, state: state, height: snapshot.tipHeight,
                          tipHash: snapshot.tipHash.hex, headers: snapshot.bestHeaderHeight,
                          verificationProgress: Self.progress(snapshot.tipHeight, snapshot.bestHeaderHeight),
                          listening: listeners.compactMap { $0.localAddress.flatMap(Self.describe) },
                          peers: summaries, inboundCount: summaries.filter(\.inbound).count,
                          outboundCount: summaries.filter { !$0.inbound }.count, blocksPerSecond: blocksPerSecond,
                          bytesReceived: UInt64(totalBytesReceived), bytesSent: UInt64(totalBytesSent))
    }

    static func progress(_ height: UInt64, _ best: UInt64) -> Double {
        best == 0 ? 1 : min(1, Double(height) / Double(best))
    }
}
