// PLACEHOLDER — the seam the node engineer replaces: this whole file is overwritten at
// merge by the real daemon (P2P, chain state, status file, ServiceGroup). Until then
// `rusty node` resolves its configuration and stops here with a clear error.

/// An error of the node daemon, printed as `rusty: MESSAGE`.
public struct NodeError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum NodeDaemon {
    public static func run(configuration: NodeConfiguration) throws {
        throw NodeError("not implemented yet")
    }
}
