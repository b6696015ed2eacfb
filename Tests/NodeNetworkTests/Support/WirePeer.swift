import Foundation
import Primitives
import Wire
#if canImport(Glibc)
import Glibc
#endif

/// A peer speaking the wire protocol (docs/PROTOCOL.md section 12) over a plain blocking
/// socket, independent of the node's NIO code, so tests can send what an honest node never
/// would. A reader thread decodes what the node sends, answers `ping` and `getheaders`
/// (like a peer with nothing to add, unless `headersProvider` says otherwise), and notes
/// when the node closes the connection.
final class WirePeer: @unchecked Sendable {
    typealias HeadersProvider = @Sendable (_ locator: [Hash256], _ stop: Hash256?) -> [BlockHeader]
    /// The bytes to send as the `block` for a requested hash; nil: not sent (a staller).
    typealias BlockProvider = @Sendable (_ hash: Hash256) -> [UInt8]?

    let magic: [UInt8]
    let nodePort: Int
    /// This side's port: the node logs the peer as 127.0.0.1:localPort.
    let localPort: Int
    private let fd: Int32
    private let lock = NSLock()
    private let writeLock = NSLock()
    private var inbox: [Message] = []
    private var closedHow: String?
    private var decodeFailure: String?
    private var stopping = false
    private var closed = false
    private var provider: HeadersProvider?
    private var pongs = true
    private var blocks: BlockProvider?
    private var getHeadersCount = 0
    private var getDataItems = 0
    private let readerDone = DispatchSemaphore(value: 0)

    init(port: Int, magic: [UInt8] = ChainFixture.regtestMagic) throws {
        self.magic = magic
        nodePort = port
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetworkTestError("socket: \(String(cString: strerror(errno)))") }
        var address = LoopbackAddress.make(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw NetworkTestError("connect to 127.0.0.1:\(port): \(reason)")
        }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        localPort = Int(UInt16(bigEndian: local.sin_port))
        // Short receive timeout: the reader wakes up to notice `close`. Bounded sends: a node
        // that stops reading fails the write instead of hanging the test.
        Self.setTimeout(fd, SO_RCVTIMEO, seconds: 0.1)
        Self.setTimeout(fd, SO_SNDTIMEO, seconds: 10)
        let thread = Thread { [self] in readLoop() }
        thread.start()
    }

    deinit { close() }

    /// How the node's log names this connection.
    var logName: String { "127.0.0.1:\(localPort)" }

    var headersProvider: HeadersProvider? {
        get { lock.withLock { provider } }
        set { lock.withLock { provider = newValue } }
    }

    var blockProvider: BlockProvider? {
        get { lock.withLock { blocks } }
        set { lock.withLock { blocks = newValue } }
    }

    /// Whether the reader answers the node's pings (off: a peer that went silent).
    var answersPings: Bool {
        get { lock.withLock { pongs } }
        set { lock.withLock { pongs = newValue } }
    }

    /// How the connection ended ("EOF", "ECONNRESET", ...), nil while open.
    var closedReason: String? { lock.withLock { closedHow } }
    var getHeadersReceived: Int { lock.withLock { getHeadersCount } }
    var getDataItemsReceived: Int { lock.withLock { getDataItems } }
    var messages: [Message] { lock.withLock { inbox } }

    // MARK: Sending

    /// Writes all of `bytes` as one unit (frames of concurrent writers never interleave).
    func sendRaw(_ bytes: [UInt8]) throws {
        try writeLock.withLock {
            var offset = 0
            while offset < bytes.count {
                let sent = bytes.withUnsafeBytes { buffer in
                    Glibc.send(fd, buffer.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                if sent > 0 { offset += sent; continue }
                if sent < 0 && errno == EINTR { continue }
                let code = errno
                throw NetworkTestError("send: \(code == EAGAIN ? "timed out (the node stopped reading)" : String(cString: strerror(code)))")
            }
        }
    }

    func send(_ message: Message) throws { try sendRaw(Frame.encode(message, magic: magic)) }

    /// The version handshake as the connecting side (12.4): version, then the node's version
    /// and verack, then ours.
    func handshake(bestHeight: UInt64 = 0, services: UInt64 = WireProtocol.nodeNetwork, timeout: Double = 15) throws {
        let version = VersionMessage(services: services, timestamp: UInt64(Date().timeIntervalSince1970),
                                     receiver: .ipv4(127, 0, 0, 1, port: UInt16(nodePort)), sender: .none,
                                     nonce: UInt64.random(in: 1...UInt64.max), userAgent: "/rusty-network-tests:hostile/",
                                     bestHeight: bestHeight, relay: false)
        try send(.version(version))
        guard waitFor(timeout: timeout, { if case .version = $0 { true } else { false } }) != nil,
              waitFor(timeout: timeout, { $0 == .verack }) != nil else {
            throw NetworkTestError("no handshake from the node within \(Int(timeout)) s (connection: \(closedReason ?? "open"))")
        }
        try send(.verack)
    }

    /// Sends a ping and waits for its pong: proof the node still reads and answers us.
    func roundTrip(timeout: Double = 15) -> Bool {
        let nonce = UInt64.random(in: 1...UInt64.max)
        guard (try? send(.ping(nonce))) != nil else { return false }
        return waitFor(timeout: timeout, { $0 == .pong(nonce) }) != nil
    }

    // MARK: Receiving

    /// The first received message matching `match`, waiting up to `timeout` seconds; nil on
    /// timeout or once the connection is closed without one.
    func waitFor(timeout: Double, _ match: (Message) -> Bool) -> Message? {
        let end = Date().addingTimeInterval(timeout)
        while true {
            let (found, isClosed) = lock.withLock { (inbox.first(where: match), closedHow != nil) }
            if let found { return found }
            if isClosed || Date() >= end { return nil }
            usleep(20_000)
        }
    }

    /// Waits up to `timeout` for the node to close the connection (EOF or a reset); true once closed.
    func waitClosed(timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while closedReason == nil && Date() < end { usleep(20_000) }
        return closedReason != nil
    }

    /// Closes our side (a FIN) and stops the reader. Idempotent.
    func close() {
        let first = lock.withLock { () -> Bool in
            defer { stopping = true }
            return !stopping
        }
        guard first else { return }
        shutdown(fd, Int32(SHUT_RDWR))
        readerDone.wait()
        writeLock.withLock { _ = Glibc.close(fd) }
    }

    private func readLoop() {
        var reader = FrameReader(magic: magic)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var decoding = true
        while !lock.withLock({ stopping }) {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if count > 0 {
                guard decoding else { continue }
                reader.append(buffer[0..<count])
                do {
                    while let message = try reader.next() { handle(message) }
                } catch {
                    // The node sent a bad frame: note it (tests check it) and stop decoding.
                    decoding = false
                    lock.withLock { decodeFailure = "\(error)" }
                }
            } else if count == 0 {
                lock.withLock { if closedHow == nil { closedHow = "EOF" } }
                break
            } else {
                let code = errno
                if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { continue }
                lock.withLock { if closedHow == nil { closedHow = code == ECONNRESET ? "ECONNRESET" : String(cString: strerror(code)) } }
                break
            }
        }
        lock.withLock { if closedHow == nil { closedHow = "closed by the test" } }
        readerDone.signal()
    }

    /// What the node sends that the test did not write: bad frames from the node itself.
    var nodeFrameError: String? { lock.withLock { decodeFailure } }

    private func handle(_ message: Message) {
        let (answerer, answersPings, blockSource): (HeadersProvider?, Bool, BlockProvider?) = lock.withLock {
            // Keep what tests wait for; the node's own traffic to a peer is small.
            if inbox.count < 10_000 { inbox.append(message) }
            switch message {
            case .getheaders: getHeadersCount += 1
            case .getdata(let items): getDataItems += items.count
            default: break
            }
            return (provider, pongs, blocks)
        }
        switch message {
        case .ping(let nonce):
            if answersPings { try? send(.pong(nonce)) }
        case let .getheaders(locator, stop):
            try? send(.headers(answerer?(locator, stop) ?? []))
        case .getdata(let items):
            guard let blockSource else { break }
            for item in items where item.type == .block {
                if let bytes = blockSource(item.hash), let payload = try? BlockPayload(bytes: bytes) { try? send(.block(payload)) }
            }
        default:
            break
        }
    }

    private static func setTimeout(_ fd: Int32, _ option: Int32, seconds: Double) {
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1e6))
        setsockopt(fd, SOL_SOCKET, option, &value, socklen_t(MemoryLayout<timeval>.size))
    }
}
