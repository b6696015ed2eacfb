import Node

/// `rusty node --status --json`: the running node's status file, and where it was read.
struct NodeStatusOutput: Codable, Equatable {
    /// The node's network directory (`DATADIR/NETWORK`).
    var datadir: String
    var statusFile: String
    var status: NodeStatus
}
