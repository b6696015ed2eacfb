import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a running node reports about itself in `<netdir>/node-status.json` (rewritten every
/// second by the daemon, a last time with state `stopped`); `rusty node --status` prints it.
public struct NodeStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case starting
        case syncingHeaders = "syncing-headers"
        case syncingBlocks = "syncing-blocks"
        case synced
        case stopping
        case stopped
    }

    public struct PeerSummary: Codable, Sendable, Equatable {
        /// The node's own number for the connection (as in the log's `peer=` metadata).
        public var id: UInt64
        public var address: String
        public var inbound: Bool
        /// Protocol version and user agent from the peer's `version` message.
        public var version: UInt32
        public var userAgent: String
        /// The best height the peer announced in its `version` message.
        public var startingHeight: UInt64
        /// The height of the last header this peer sent us.
        public var syncedHeight: UInt64
        /// The last ping's round trip, if one was answered.
        public var pingMillis: Double?

        public init(id: UInt64, address: String, inbound: Bool, version: UInt32, userAgent: String, startingHeight: UInt64,
                    syncedHeight: UInt64, pingMillis: Double? = nil) {
            self.id = id
            self.address = address
            self.inbound = inbound
            self.version = version
            self.userAgent = userAgent
            self.startingHeight = startingHeight
            self.syncedHeight = syncedHeight
            self.pingMillis = pingMillis
        }
    }

    public var pid: Int32
    public var network: String
    @Timestamp public var startedAt: Date
    @Timestamp public var updatedAt: Date
    public var state: State
    /// The chain state's tip.
    public var height: UInt64
    public var tipHash: String
    /// The best header's height.
    public var headers: UInt64
    /// 0...1: the tip's share of the best header chain's work, or of the blocks (as the daemon estimates it).
    public var verificationProgress: Double
    /// The addresses the node listens on, as bound (a `port=0` shows the port chosen).
    public var listening: [String]
    public var peers: [PeerSummary]
    public var inboundCount: Int
    public var outboundCount: Int
    /// Blocks connected per second over the last interval.
    public var blocksPerSecond: Double
    public var bytesReceived: UInt64
    public var bytesSent: UInt64

    public init(pid: Int32 = getpid(), network: String, startedAt: Date, updatedAt: Date = Date(), state: State, height: UInt64,
                tipHash: String, headers: UInt64, verificationProgress: Double, listening: [String] = [], peers: [PeerSummary] = [],
                inboundCount: Int = 0, outboundCount: Int = 0, blocksPerSecond: Double = 0, bytesReceived: UInt64 = 0,
                bytesSent: UInt64 = 0) {
        self.pid = pid
        self.network = network
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.state = state
        self.height = height
        self.tipHash = tipHash
        self.headers = headers
        self.verificationProgress = verificationProgress
        self.listening = listening
        self.peers = peers
        self.inboundCount = inboundCount
        self.outboundCount = outboundCount
        self.blocksPerSecond = blocksPerSecond
        self.bytesReceived = bytesReceived
        self.bytesSent = bytesSent
    }
}

/// A date written as `2026-11-30T09:00:00.123Z` (milliseconds, UTC) by any encoder, so the
/// status file and `--json` agree whatever date strategy the encoder has.
@propertyWrapper
public struct Timestamp: Codable, Sendable, Equatable {
    public var wrappedValue: Date

    public init(wrappedValue: Date) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let date = LogFormat.parseTimestamp(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not a YYYY-MM-DDTHH:MM:SS.mmmZ time")
        }
        wrappedValue = date
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(LogFormat.timestamp(wrappedValue))
    }
}

/// Reads and writes the status file. A write is atomic (a temporary file renamed over the
/// old one), so a reader sees the previous status or the new one, never part of either.
public enum NodeStatusFile {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): \(reason)" }
    }

    public static func encode(_ status: NodeStatus) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(status)
    }

    public static func write(_ status: NodeStatus, to path: String) throws {
        var data = try encode(status)
        data.append(UInt8(ascii: "\n"))
        // The writer's pid in the temporary name: two processes never share one.
        let temporary = path + ".\(getpid()).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Failure(path: temporary, reason: String(cString: strerror(errno))) }
        let written = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let count = posixWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return false }
                offset += count
            }
            return true
        }
        let writeError = errno
        close(descriptor)
        guard written else {
            unlink(temporary)
            throw Failure(path: temporary, reason: String(cString: strerror(writeError)))
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw Failure(path: path, reason: String(cString: strerror(code)))
        }
    }

    /// The status at `path`, or nil when there is no such file.
    public static func read(from path: String) throws -> NodeStatus? {
        let bytes: [UInt8]
        do {
            guard let read = try readWholeFile(path, limit: 64 << 20) else { return nil }
            bytes = read
        } catch let error as WholeFileError {
            throw Failure(path: path, reason: error.reason)
        }
        do {
            return try JSONDecoder().decode(NodeStatus.self, from: Data(bytes))
        } catch {
            throw Failure(path: path, reason: "not a node status file (\(error))")
        }
    }

    /// Whether process `pid` exists (EPERM: it exists under another user).
    public static func isRunning(pid: Int32) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }
}

private func posixWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
