#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func fputsWrite(_ pointer: UnsafePointer<UInt8>, _ count: Int) -> Int {
    write(2, pointer, count)
}

/// An open file descriptor read in large blocks (no per-byte overhead, no whole-file buffering).
final class InputFile {
    let descriptor: Int32
    let name: String
    private let ownsDescriptor: Bool

    enum OpenError: Error, CustomStringConvertible {
        case cannotOpen(String, String)
        case readFailed(String, String)
        var description: String {
            switch self {
            case let .cannotOpen(name, reason): return "\(name): \(reason)"
            case let .readFailed(name, reason): return "\(name): read failed: \(reason)"
            }
        }
    }

    /// `-` means standard input.
    init(path: String) throws {
        name = path
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
            return
        }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw OpenError.cannotOpen(path, String(cString: strerror(errno))) }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw OpenError.cannotOpen(path, "Is a directory")
        }
        descriptor = fd
        ownsDescriptor = true
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    /// Calls `body` with successive blocks of the file until its end.
    func forEachBlock(bufferSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            // Fill the buffer completely when possible so SIMD sees whole chunk groups.
            var filled = 0
            while filled < bufferSize {
                let n = read(descriptor, buffer.baseAddress! + filled, bufferSize - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw OpenError.readFailed(name, String(cString: strerror(errno)))
                }
                if n == 0 { break }
                filled += n
            }
            if filled == 0 { return }
            body(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
            if filled < bufferSize { return }
        }
    }

    /// The whole content (for small inputs such as Merkle leaf lists).
    func readAll() throws -> [UInt8] {
        var out = [UInt8]()
        try forEachBlock { out.append(contentsOf: $0) }
        return out
    }
}

func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }
