// The transaction index (filled in by the txindex work of issue #14).

/// Placeholder type so the node's RPC context compiles; replaced by the real index.
public final class TransactionIndex: @unchecked Sendable {
    public init() {}
}
