import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where log lines go: a file opened for appending, or standard error. Each line is one
/// `write(2)` under a lock, so lines from many threads never interleave and every line has
/// reached the kernel when `write` returns (nothing is buffered in the process, so nothing
/// is lost at exit or at a crash). A log file that was rotated or deleted is reopened under
/// its name, checked at most once a second.
public final class LogDestination: @unchecked Sendable {
    /// The file's path; nil for standard error.
    public let path: String?
    private let lock = NSLock()
    private var descriptor: Int32
    private var identity: (device: UInt64, inode: UInt64)?
    private var lastCheck = DispatchTime.now().uptimeNanoseconds
    private var closed = false

    public static let standardError = LogDestination(descriptor: 2)

    private init(descriptor: Int32) {
        path = nil
        self.descriptor = descriptor
    }

    /// Opens `path` for appending, creating it and its directory.
    public init(file path: String) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        descriptor = -1
        try open()
    }

    deinit {
        if path != nil, descriptor >= 0 { systemClose(descriptor) }
    }

    private func open() throws {
        guard let path else { return }
        let opened = systemOpen(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard opened >= 0 else { throw LogFileError(path: path, reason: String(cString: strerror(errno))) }
        descriptor = opened
        identity = Self.identity(of: opened)
    }

    private static func identity(of descriptor: Int32) -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Writes `line` (which ends in a newline) whole.
    public func write(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        reopenIfReplaced()
        var line = line
        line.withUTF8 { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = systemWrite(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                // A full disk or a closed stderr: the line is dropped; logging cannot report its own failure.
                if written <= 0 { return }
                offset += written
            }
        }
    }

    /// Log rotation (the file renamed or deleted): the next line goes to a new file under the name.
    private func reopenIfReplaced() {
        guard let path else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastCheck >= 1_000_000_000 else { return }
        lastCheck = now
        var info = stat()
        let current = stat(path, &info) == 0 ? (device: UInt64(info.st_dev), inode: UInt64(info.st_ino)) : nil
        if let current, let identity, current == identity { return }
        let previous = descriptor
        if (try? open()) != nil { systemClose(previous) }
    }

    /// Makes the file's lines durable (fsync) and stops writing; for the end of the process.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, path != nil else { return }
        closed = true
        fsync(descriptor)
        systemClose(descriptor)
        descriptor = -1
    }
}

/// The log file could not be opened: `PATH: REASON`.
public struct LogFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}

// The system calls by their C names, where `LogDestination` has methods of the same names.
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemClose(_ descriptor: Int32) { _ = close(descriptor) }
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int { write(descriptor, bytes, count) }
