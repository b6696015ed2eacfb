import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Ports for test nodes, chosen by the OS: a socket bound to 127.0.0.1:0 is given a free
/// port, which is read back and released. Fixed ports would collide with other test runs
/// on the same machine; a port handed out once is never handed out again by this process.
enum FreePort {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var given = Set<Int>()

    static func allocate() throws -> Int {
        for _ in 0..<20 {
            let port = try bindEphemeral()
            let fresh = lock.withLock { given.insert(port).inserted }
            if fresh { return port }
        }
        throw NetworkTestError("no fresh free port after 20 tries")
    }

    private static func bindEphemeral() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetworkTestError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = LoopbackAddress.make(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw NetworkTestError("bind 127.0.0.1:0: \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw NetworkTestError("getsockname: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

enum LoopbackAddress {
    static func make(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A failure of the test harness or of a condition a test waited for; its text is the report.
struct NetworkTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
