import Foundation
import Node
import Testing

/// node-status.json: a round trip, atomic replacement under a reader, and its errors.
@Suite struct NodeStatusTests {
    static func sample(peers: Int = 2, state: NodeStatus.State = .syncingBlocks) -> NodeStatus {
        var summaries = [NodeStatus.PeerSummary]()
        for index in 0..<peers {
            let ping: Double? = index == 0 ? nil : 1.5
            summaries.append(NodeStatus.PeerSummary(id: UInt64(index), address: "127.0.0.1:\(30000 + index)", inbound: index % 2 == 0,
                                                    version: 70001, userAgent: "/rusty:0.1.0/", startingHeight: 2000,
                                                    syncedHeight: UInt64(1990 + index), pingMillis: ping))
        }
        let started = Date(timeIntervalSince1970: 1_796_029_200.5)
        let updated = Date(timeIntervalSince1970: 1_796_029_260.123)
        return NodeStatus(pid: 4242, network: "regtest", startedAt: started, updatedAt: updated, state: state, height: 120,
                          tipHash: String(repeating: "ab", count: 32), headers: 2000, verificationProgress: 0.06,
                          listening: ["127.0.0.1:29373"], peers: summaries, inboundCount: (peers + 1) / 2, outboundCount: peers / 2,
                          blocksPerSecond: 812.5, bytesReceived: 1 << 33, bytesSent: 77)
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-status-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("written and read back equal; states and times as text; no temporary file left")
    func roundTrip() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/node-status.json"
        let status = Self.sample()
        try NodeStatusFile.write(status, to: path)
        #expect(try NodeStatusFile.read(from: path) == status)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"state\" : \"syncing-blocks\""))
        #expect(text.contains("\"startedAt\" : \"2026-11-30T09:00:00.500Z\""))
        #expect(text.contains("\"updatedAt\" : \"2026-11-30T09:01:00.123Z\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["node-status.json"])
        for state in NodeStatus.State.allCases {
            try NodeStatusFile.write(Self.sample(peers: 0, state: state), to: path)
            #expect(try NodeStatusFile.read(from: path)?.state == state)
        }
        #expect(NodeStatus.State.allCases.map(\.rawValue) == ["starting", "syncing-headers", "syncing-blocks", "synced", "stopping", "stopped"])
    }

    @Test("a reader never sees a partial file while a writer rewrites it")
    func atomicReplacement() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/node-status.json"
        try NodeStatusFile.write(Self.sample(peers: 0), to: path)
        // Sizes from a few hundred bytes to about 60 kB, so a torn read would be caught by the decoder.
        let statuses = [0, 300, 3, 150].map { Self.sample(peers: $0) }
        let writes = 400
        let done = SharedFlag(false)
        let writer = Thread {
            for index in 0..<writes { try? NodeStatusFile.write(statuses[index % statuses.count], to: path) }
            done.set(true)
        }
        writer.start()
        var reads = 0, failures = [String]()
        // Bounded: the writer's 400 writes, or 60 s at most.
        let deadline = Date().addingTimeInterval(60)
        while !done.get() && Date() < deadline {
            do {
                guard let status = try NodeStatusFile.read(from: path) else { failures.append("missing"); continue }
                if !statuses.contains(status) && status != Self.sample(peers: 0) { failures.append("unexpected content") }
                reads += 1
            } catch {
                failures.append("\(error)")
            }
        }
        #expect(done.get())
        #expect(reads > 0)
        #expect(failures.count == 0, "\(failures.prefix(3))")
    }

    @Test("a missing file reads as nil; a damaged one is named; a pid is alive or not")
    func errors() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/node-status.json"
        #expect(try NodeStatusFile.read(from: path) == nil)
        try "{\"pid\": 1".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { try NodeStatusFile.read(from: path) } throws: { error in
            "\(error)".hasPrefix(path + ": not a node status file")
        }
        try FileManager.default.createDirectory(atPath: directory + "/dir.json", withIntermediateDirectories: true)
        #expect { try NodeStatusFile.read(from: directory + "/dir.json") } throws: { error in
            "\(error)" == directory + "/dir.json: Is a directory"
        }
        #expect(throws: NodeStatusFile.Failure.self) { try NodeStatusFile.write(Self.sample(), to: directory + "/no/such/dir/status.json") }
        #expect(NodeStatusFile.isRunning(pid: getpid()))
        #expect(!NodeStatusFile.isRunning(pid: 0) && !NodeStatusFile.isRunning(pid: -1))
        #expect(!NodeStatusFile.isRunning(pid: Int32.max))
    }
}

/// A flag shared between the writer thread and the test.
final class SharedFlag<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ newValue: Value) { lock.lock(); value = newValue; lock.unlock() }
}
