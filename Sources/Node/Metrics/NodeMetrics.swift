// The node's metrics (filled in by the metrics work of this issue).

/// Placeholder so the RPC context compiles; replaced by the Prometheus-backed metrics.
public final class NodeMetrics: @unchecked Sendable {
    public init() {}
}
