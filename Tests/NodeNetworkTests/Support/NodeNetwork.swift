import Foundation

/// A set of test nodes under one temporary directory, all on 127.0.0.1 with ports from the
/// OS. The test's time budget (`budget` seconds from creation) bounds every wait of every
/// node. `tearDown` kills whatever still runs and removes the directory; on a failed test it
/// prints the end of each node's debug.log first.
final class NodeNetwork {
    let base: URL
    let deadline: Date
    private(set) var nodes: [TestNode] = []

    init(_ label: String, budget: Double) throws {
        base = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-net-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
        deadline = Date().addingTimeInterval(budget)
    }

    /// A new node with a fresh port; its chain state is a copy of `template`'s (a datadir
    /// root holding `regtest/`), or empty (genesis) without one.
    func makeNode(_ name: String, from template: URL? = nil) throws -> TestNode {
        let root = base.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        if let template {
            try FileManager.default.copyItem(at: template.appendingPathComponent("regtest"), to: root.appendingPathComponent("regtest"))
        }
        let node = TestNode(name: name, root: root, port: try FreePort.allocate(), rpcPort: try FreePort.allocate(),
                            deadline: deadline)
        nodes.append(node)
        return node
    }

    /// Waits until every node in `nodes` satisfies `condition`, polling them in turn.
    func waitAll(_ nodes: [TestNode], _ what: String, timeout: Double, _ condition: (NodeStatus) -> Bool) throws {
        let end = Date().addingTimeInterval(max(0, min(timeout, deadline.timeIntervalSinceNow)))
        while true {
            var pending = [String]()
            for node in nodes {
                guard node.isRunning else { throw NetworkTestError("\(node.name) exited while waiting for \(what)\n\(node.stderrText())") }
                guard let status = node.status(), condition(status) else {
                    pending.append("\(node.name): \(node.status().map { "\($0)" } ?? "no status")")
                    continue
                }
            }
            if pending.isEmpty { return }
            if Date() >= end {
                throw NetworkTestError("no \(what) within \(Int(timeout)) s; not yet:\n  " + pending.joined(separator: "\n  "))
            }
            usleep(200_000)
        }
    }

    func tearDown(printingLogs: Bool) {
        for node in nodes { node.kill() }
        if printingLogs {
            for node in nodes {
                print("---- \(node.name) (\(node.endpoint)) debug.log, last 60 lines ----\n\(node.logTail(60))")
                let stderr = node.stderrText()
                if !stderr.isEmpty { print("---- \(node.name) stderr ----\n\(stderr.suffix(4000))") }
            }
        }
        try? FileManager.default.removeItem(at: base)
    }
}
