// An in-process pool for Stratum tests: a regtest node (RPCTestNode), the pool server on
// 127.0.0.1 with an ephemeral port, and a blocking line client over a POSIX socket with
// read timeouts, so every test is bounded in time.

import Foundation
import JSONRPC
import Logging
import NIOPosix
import Primitives
import Stratum
import Testing
import Wallet
@testable import Node
#if canImport(Glibc)
import Glibc
#endif

final class StratumTestPool: @unchecked Sendable {
    static let payout = Address(keyHash: Hash256(bytes: [UInt8](repeating: 0x11, count: 32))!, network: "regtest")
    static let miner = Address(keyHash: Hash256(bytes: [UInt8](repeating: 0x22, count: 32))!, network: "regtest")

    let node: RPCTestNode
    let pool: StratumPool
    let server: StratumServer
    let group: MultiThreadedEventLoopGroup
    let registry = RPCRegistry()
    /// The pool's warnings and errors, for tests that look at what it logged.
    let logged = CapturedLog()

    /// A pool whose share difficulty is pinned at `difficulty`.
    init(difficulty: Double, maxConnections: Int = 100, configure: (inout StratumServerSettings) -> Void = { _ in }) async throws {
        node = try RPCTestNode()
        var settings = StratumServerSettings(
            network: "regtest", host: "127.0.0.1", port: 0, payoutAddress: Self.payout.text, payoutScript: Self.payout.lockScript,
            difficulty: VariableDifficultySettings(initial: difficulty, minimum: difficulty, maximum: difficulty, targetSharesPerSecond: 3),
            maxConnections: maxConnections)
        settings.tipPollNanoseconds = 20_000_000
        configure(&settings)
        pool = StratumPool(settings: settings, parameters: RPCTestNode.regtest, chain: node.chain, mempool: node.mempool,
                           metrics: node.context.metrics, logger: Logger(label: "stratum-test") { [logged] _ in
                               CapturedLogHandler(log: logged)
                           })
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        server = StratumServer(pool: pool, group: group)
        node.context.stratum = pool
        node.context.registerStratum(in: registry)
        try await server.start()
        // The template loop builds the first template a moment after the server listens.
        for _ in 0..<250 where pool.currentTemplate == nil { try await Task.sleep(nanoseconds: 20_000_000) }
        _ = try #require(pool.currentTemplate)
    }

    func shutdown() async {
        await server.stop()
        try? await group.shutdownGracefully()
        await node.shutdown()
    }

    func connect(receiveBufferBytes: Int32? = nil) throws -> LineClient {
        try LineClient(port: pool.port, receiveBufferBytes: receiveBufferBytes)
    }

    /// Whether getstratuminfo counts `count` connections within two seconds (a close is seen
    /// by the client a moment before the server has forgotten the connection).
    /// Up to 10 s: closes ride timers that a loaded 2-core machine runs late.
    func waitForConnections(_ count: Int) async throws -> Bool {
        for _ in 0..<500 {
            if try await info()["connections"] == .int(count) { return true }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return false
    }

    /// getstratuminfo through the RPC dispatcher.
    func info() async throws -> JSON {
        let request: JSON = ["jsonrpc": "1.0", "id": "t", "method": "getstratuminfo", "params": []]
        let reply = await RPCDispatcher(registry: registry).handle(body: request.serialized())
        return try JSONParser.parse(try #require(reply.body))["result"] ?? .null
    }
}

/// The suites that talk to the pool through `LineClient`, one test at a time among them all:
/// its reads block their thread (up to the read timeout), and Swift's cooperative pool has
/// only as many threads as cores. Two of them blocking at once on a 2-core machine starved
/// every other test of the process (a 60 s time limit exceeded elsewhere in CI).
@Suite(.serialized) enum StratumSocketSuites {}

/// A miner's side of one connection, one JSON line at a time.
final class LineClient {
    let socket: Int32
    private var pending = [UInt8]()
    private var nextID = 1

    init(port: Int, readTimeoutSeconds: Int = 5, receiveBufferBytes: Int32? = nil) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: readTimeoutSeconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // A small window (set before connecting) makes a reader that does not read show at once.
        if var bytes = receiveBufferBytes { setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &bytes, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(socket)
            throw ClientError("connect failed: errno \(errno)")
        }
    }

    deinit { close(socket) }

    struct ClientError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    func sendRaw(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return }
            offset += sent
        }
    }

    /// 10,000 configure requests whose answers name 16 extensions of 60 bytes: about 1.3 kB
    /// of answer a request, 13 MB in all, beyond what the kernel's socket buffers hold.
    func sendUnreadAnswerFlood() {
        let names: [JSON] = (0..<16).map { .string("x-\($0)-" + String(repeating: "e", count: 56)) }
        let request = StratumMessage.request(id: 1, method: StratumMethod.configure, params: [.array(names), [:]]).line
        var batch = [UInt8]()
        for _ in 0..<100 { batch += request }
        for _ in 0..<100 { sendRaw(batch) }
    }

    /// Sends a request; returns its id.
    @discardableResult
    func request(_ method: String, _ params: [JSON]) -> Int {
        defer { nextID += 1 }
        sendRaw(StratumMessage.request(id: .int(nextID), method: method, params: params).line)
        return nextID
    }

    /// The next line as a message; nil at end of stream (or a timeout).
    func readMessage() throws -> StratumMessage? {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                return try StratumMessage(line: line)
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return nil }
            pending += chunk[..<count]
        }
    }

    /// The response to the last request (notifications before it are kept for `nextNotification`).
    func call(_ method: String, _ params: [JSON]) throws -> (result: JSON, error: StratumError?) {
        let id = request(method, params)
        return try response(to: id)
    }

    private var notifications = [(method: String, params: [JSON])]()

    func response(to id: Int) throws -> (result: JSON, error: StratumError?) {
        while let message = try readMessage() {
            switch message {
            case .response(let responseID, let result, let error) where responseID == .int(id) || responseID.isNull:
                return (result, error)
            case .notification(let method, let params): notifications.append((method, params))
            default: continue
            }
        }
        throw ClientError("no response to request \(id)")
    }

    /// The next notification (kept ones first).
    func nextNotification() throws -> (method: String, params: [JSON]) {
        if !notifications.isEmpty { return notifications.removeFirst() }
        while let message = try readMessage() {
            if case .notification(let method, let params) = message { return (method, params) }
        }
        throw ClientError("connection ended before a notification")
    }

    /// Whether the server closed the connection (reads to the end, within the read timeout).
    func isClosedByServer() -> Bool {
        while true {
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }
}

/// Finds shares for a job: nonces with the connection's prefix whose header hash falls in the wanted class.
enum ShareSearch {
    enum Kind { case shareOnly, block, lowDifficulty }

    /// `weakerThan`: the hash must also miss that target (a share good on an easier job only).
    static func find(_ kind: Kind, job: StratumJob, prefix: NoncePrefix, shareTarget: UInt256, from start: UInt64 = 0,
                     weakerThan harder: UInt256? = nil) throws -> UInt64 {
        let blockTarget = try job.header.compactTarget.target()
        var header = job.header
        for suffix in start..<(start + 100_000) {
            header.nonce = prefix.nonce(suffix: suffix)
            let hash = header.hash
            let isBlock = ProofOfWork.meets(hash, target: blockTarget)
            let isShare = ProofOfWork.meets(hash, target: shareTarget)
            let meetsHarder = harder.map { ProofOfWork.meets(hash, target: $0) } ?? false
            switch kind {
            case .shareOnly where isShare && !isBlock && !meetsHarder, .block where isBlock, .lowDifficulty where !isShare && !isBlock:
                return header.nonce
            default: continue
            }
        }
        throw LineClient.ClientError("no \(kind) nonce in 100,000 tries")
    }
}

/// Lines logged at warning or above, kept in memory.
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines = [String]()

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

struct CapturedLogHandler: LogHandler {
    let log: CapturedLog
    var logLevel: Logger.Level = .warning
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { log.append(event.message.description) }
}
