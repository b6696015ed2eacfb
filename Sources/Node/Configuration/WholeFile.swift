#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file that could not be read: `PATH: REASON`, the reason from strerror.
struct WholeFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "\(path): \(reason)" }
}

/// The bytes of the file at `path`, nil when it does not exist; larger than `limit` bytes
/// is an error (a small settings or status file that is huge is a mistake, never read whole).
func readWholeFile(_ path: String, limit: Int) throws -> [UInt8]? {
    guard let handle = fopen(path, "r") else {
        let code = errno
        if code == ENOENT { return nil }
        throw WholeFileError(path: path, reason: String(cString: strerror(code)))
    }
    defer { fclose(handle) }
    var bytes = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = fread(&buffer, 1, buffer.count, handle)
        bytes += buffer[0..<count]
        if bytes.count > limit { throw WholeFileError(path: path, reason: "larger than \(limit) bytes") }
        if count < buffer.count {
            // A directory opens but does not read (EISDIR).
            if ferror(handle) != 0 { throw WholeFileError(path: path, reason: String(cString: strerror(errno))) }
            return bytes
        }
    }
}
