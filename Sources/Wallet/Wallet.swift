// The wallet (filled in by the wallet work of issue #14).

/// Placeholder type so the node's RPC context compiles; replaced by the real wallet.
public final class Wallet: @unchecked Sendable {
    public init() {}
}
