// Refreshes the gauges and total-fed counters once a second, so a scrape only serialises.

import ChainState
import Foundation
import Mempool
import ServiceLifecycle

struct MetricsService: Service, CustomStringConvertible {
    let metrics: NodeMetrics
    let manager: PeerManager
    let chain: ChainService
    let mempool: Mempool
    var description: String { "metrics" }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await refresh()
            try? await Task.sleep(for: .seconds(1))
        }
    }

    func refresh() async {
        let snapshot = chain.snapshot
        metrics.height.record(Int64(snapshot.tipHeight))
        metrics.headers.record(Int64(snapshot.bestHeaderHeight))
        let status = await manager.currentStatus()
        metrics.peersIn.record(status.inboundCount)
        metrics.peersOut.record(status.outboundCount)
        metrics.mempoolTransactions.record(mempool.count)
        metrics.mempoolBytes.record(mempool.bytes)
        if let traffic = try? await manager.trafficByCommand() {
            for (command, bytes) in traffic.received {
                metrics.advance("rusty_p2p_bytes_total", [("direction", "received"), ("command", command)], to: Int64(bytes))
            }
            for (command, bytes) in traffic.sent {
                metrics.advance("rusty_p2p_bytes_total", [("direction", "sent"), ("command", command)], to: Int64(bytes))
            }
        }
        let (blocks, transactions) = chain.connectedTotals
        metrics.advance("rusty_blocks_connected_total", [], to: Int64(blocks))
        metrics.advance("rusty_transactions_connected_total", [], to: Int64(transactions))
    }
}
