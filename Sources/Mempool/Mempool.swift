// The transaction pool (filled in by the mempool work of issue #14).

/// Placeholder type so the node's RPC context compiles; replaced by the real pool.
public final class Mempool: @unchecked Sendable {
    public init() {}
}
