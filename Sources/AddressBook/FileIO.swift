import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A peers.dat or banlist file that could not be used: names the file and what is wrong, so
/// the node can log one clear line and start with an empty table.
public struct AddressBookFileError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// No file there (a first start): nothing to warn about.
        case notFound
        /// The file exists but could not be read or written.
        case io
        /// The bytes are not a valid file of this kind.
        case corrupt
    }
    public var path: String
    public var kind: Kind
    public var problem: String

    public init(path: String, kind: Kind, problem: String) {
        self.path = path
        self.kind = kind
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

enum FileIO {
    /// Reads the whole file, refusing more than `maxBytes` so a planted huge file cannot
    /// exhaust memory at start-up.
    static func readWhole(_ path: String, maxBytes: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            let code = errno
            throw AddressBookFileError(path: path, kind: code == ENOENT ? .notFound : .io,
                                       problem: "cannot open: \(String(cString: strerror(code)))")
        }
        defer { close(fd) }
        var out = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw AddressBookFileError(path: path, kind: .io, problem: "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return out }
            out += buffer[0..<n]
            if out.count > maxBytes {
                throw AddressBookFileError(path: path, kind: .corrupt, problem: "larger than \(maxBytes) bytes, the most a valid file can be")
            }
        }
    }

    /// Writes `bytes` to PATH.tmp, fsyncs, renames over PATH and fsyncs the directory: a crash
    /// leaves either the old file or the new one, never a torn one.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        func fail(_ what: String) -> AddressBookFileError {
            AddressBookFileError(path: path, kind: .io, problem: "\(what): \(String(cString: strerror(errno)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if fd < 0 { throw fail("cannot create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = fail("write failed")
                close(fd); unlink(temporary)
                throw error
            }
            written += n
        }
        if fsync(fd) != 0 {
            let error = fail("fsync failed")
            close(fd); unlink(temporary)
            throw error
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let error = fail("rename failed")
            unlink(temporary)
            throw error
        }
        let directory = (path as NSString).deletingLastPathComponent
        let dfd = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if dfd >= 0 { _ = fsync(dfd); close(dfd) }
    }
}

/// Little-endian writer and bounds-checked reader for peers.dat.
struct ByteWriter {
    var bytes: [UInt8] = []
    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func raw(_ v: [UInt8]) { bytes += v }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset: Int
    let end: Int
    init(_ bytes: [UInt8], end: Int) { self.bytes = bytes; self.offset = 0; self.end = end }

    var remaining: Int { end - offset }

    mutating func raw(_ n: Int) -> [UInt8]? {
        guard n >= 0, n <= remaining else { return nil }
        defer { offset += n }
        return Array(bytes[offset..<offset + n])
    }
    mutating func u8() -> UInt8? { raw(1).map { $0[0] } }
    mutating func uint(_ n: Int) -> UInt64? {
        guard let b = raw(n) else { return nil }
        var v: UInt64 = 0
        for (i, byte) in b.enumerated() { v |= UInt64(byte) << (8 * UInt64(i)) }
        return v
    }
}
