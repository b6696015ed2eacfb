// `/metrics`: the node's figures through swift-metrics, exported by swift-prometheus in
// Prometheus' text format. The metrics use a factory of their own (not the process-wide
// MetricsSystem bootstrap), so several nodes in one test process never collide.

import CoreMetrics
import Foundation
import Prometheus

public final class NodeMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    private let lock = NSLock()

    // Chain and peers (gauges refreshed by the node's collector, see NodeMetricsCollector).
    let height: CoreMetrics.Gauge
    let headers: CoreMetrics.Gauge
    let peersIn: CoreMetrics.Gauge
    let peersOut: CoreMetrics.Gauge
    let mempoolTransactions: CoreMetrics.Gauge
    let mempoolBytes: CoreMetrics.Gauge

    /// Counters fed from monotonically growing totals read elsewhere (deltas since the last read).
    private var lastTotals: [String: Int64] = [:]
    private var counters: [String: CoreMetrics.Counter] = [:]
    private var timers: [String: CoreMetrics.Timer] = [:]

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
        height = CoreMetrics.Gauge(label: "rusty_chain_height", factory: factory)
        headers = CoreMetrics.Gauge(label: "rusty_chain_headers", factory: factory)
        peersIn = CoreMetrics.Gauge(label: "rusty_peers", dimensions: [("direction", "inbound")], factory: factory)
        peersOut = CoreMetrics.Gauge(label: "rusty_peers", dimensions: [("direction", "outbound")], factory: factory)
        mempoolTransactions = CoreMetrics.Gauge(label: "rusty_mempool_transactions", factory: factory)
        mempoolBytes = CoreMetrics.Gauge(label: "rusty_mempool_bytes", factory: factory)
    }

    /// One RPC call: a request count by method and outcome, and its latency.
    public func recordRPC(method: String, seconds: Double, success: Bool) {
        counter("rusty_rpc_requests_total", [("method", method), ("result", success ? "ok" : "error")]).increment()
        let timer = lock.withLock { () -> CoreMetrics.Timer in
            if let existing = timers[method] { return existing }
            let created = CoreMetrics.Timer(label: "rusty_rpc_request_duration_seconds", dimensions: [("method", method)], factory: factory)
            timers[method] = created
            return created
        }
        timer.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// One verified signature batch.
    public func signatureBatch(backend: String, signatures: Int) {
        // A run of blocks without signatures hands the verifier an empty batch: not a batch.
        guard signatures > 0 else { return }
        counter("rusty_signature_batches_total", [("backend", backend)]).increment()
        counter("rusty_signatures_verified_total", [("backend", backend)]).increment(by: Int64(signatures))
    }

    /// Advances a counter to `total` (a figure that only grows, kept by its owner).
    func advance(_ label: String, _ dimensions: [(String, String)], to total: Int64) {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = lock.withLock { () -> Int64 in
            let previous = lastTotals[key] ?? 0
            lastTotals[key] = max(previous, total)
            return total - previous
        }
        if delta > 0 { counter(label, dimensions).increment(by: delta) }
    }

    func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return lock.withLock {
            if let existing = counters[key] { return existing }
            let created = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
            counters[key] = created
            return created
        }
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer = [UInt8]()
        registry.emit(into: &buffer)
        return buffer
    }
}
