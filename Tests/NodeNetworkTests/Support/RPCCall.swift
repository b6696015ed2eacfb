import Foundation
import JSONRPC
#if canImport(Glibc)
import Glibc
#endif

/// Plain HTTP/1.1 over a socket, for the tests that send the RPC server what no proper client
/// would (malformed requests, huge or slow bodies) and for simple calls. Every read is bounded.
final class RawHTTPConnection {
    let fd: Int32

    init(port: Int, timeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetworkTestError("socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = LoopbackAddress.make(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw NetworkTestError("connect 127.0.0.1:\(port): \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(fd) }

    /// Sends everything; false once the peer has closed (EPIPE/ECONNRESET).
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSON? { try? JSONParser.parse(body) }
    }

    /// Reads one response (status line, headers, Content-Length body); nil when the server
    /// closed the connection without one (or the read timed out).
    func readResponse() -> Response? {
        var buffer = [UInt8]()
        func fill() -> Bool {
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer += chunk[0..<count]
            return true
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        var headerEnd: Int?
        while headerEnd == nil {
            if let range = buffer.firstRange(of: separator) { headerEnd = range.upperBound; break }
            guard fill() else { return nil }
        }
        let head = String(decoding: buffer[0..<headerEnd!], as: UTF8.self).split(separator: "\r\n")
        guard let statusLine = head.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        var headers = [String: String]()
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count - headerEnd! < length {
            guard fill() else { return nil }
        }
        return Response(status: status, headers: headers, body: Array(buffer[headerEnd!..<(headerEnd! + length)]))
    }

    /// Whether the server has closed the connection (a read returns end of file) within `timeout`.
    func isClosedByServer(within timeout: Double) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        var byte: UInt8 = 0
        while Date() < end {
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 && errno != EAGAIN && errno != EWOULDBLOCK { return true }
        }
        return false
    }

    static func post(body: [UInt8], authorization: String?, keepAlive: Bool = false, path: String = "/") -> [UInt8] {
        var head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        if let authorization { head += "Authorization: \(authorization)\r\n" }
        if !keepAlive { head += "Connection: close\r\n" }
        return Array((head + "\r\n").utf8) + body
    }
}

struct RPCCallError: Error, CustomStringConvertible {
    var code: Int
    var message: String
    var description: String { "RPC error \(code): \(message)" }
}

extension TestNode {
    var cookieFile: URL { directory.appendingPathComponent(".cookie") }

    /// `Basic ...` from the node's cookie file.
    func cookieAuthorization() throws -> String {
        let cookie = try String(contentsOf: cookieFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return "Basic " + Data(cookie.utf8).base64EncodedString()
    }

    /// One JSON-RPC call with the cookie; the result, or RPCCallError for an error answer.
    @discardableResult
    func rpc(_ method: String, _ params: [JSON] = [], timeout: Double = 30) throws -> JSON {
        let request: JSON = ["jsonrpc": "1.0", "id": "test", "method": .string(method), "params": .array(params)]
        let connection = try RawHTTPConnection(port: rpcPort, timeout: timeout)
        connection.send(RawHTTPConnection.post(body: request.serialized(), authorization: try cookieAuthorization()))
        guard let response = connection.readResponse() else { throw NetworkTestError("\(name): no answer to \(method)") }
        guard let json = response.json, case .object(let object) = json else {
            throw NetworkTestError("\(name): \(method): HTTP \(response.status), not a JSON-RPC answer: \(response.text.prefix(300))")
        }
        if let error = object["error"], case .object(let fields) = error {
            throw RPCCallError(code: Int(fields["code"]?.int64Value ?? 0), message: fields["message"]?.stringValue ?? "")
        }
        return object["result"] ?? .null
    }

    /// Waits (bounded) until the RPC server answers, e.g. after start.
    func waitRPC(timeout: Double = 30) throws {
        let end = Date().addingTimeInterval(remaining(timeout))
        var lastError: Error?
        while Date() < end {
            guard isRunning else { throw NetworkTestError("\(name) exited while waiting for its RPC server\n\(stderrText())") }
            do {
                _ = try rpc("uptime", timeout: 5)
                return
            } catch {
                lastError = error
                usleep(100_000)
            }
        }
        throw NetworkTestError("\(name): RPC server not answering within \(Int(timeout)) s: \(lastError.map { "\($0)" } ?? "")")
    }
}
