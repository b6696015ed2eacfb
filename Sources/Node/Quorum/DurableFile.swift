import Foundation

/// Writes that survive a crash or power loss: a temporary file is written and fsynced, renamed
/// over the target, and the directory is fsynced so the rename itself is on disk. Every step's
/// failure is reported (a member must not act on a record it could not keep).
enum DurableFile {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let step: String
        var description: String { "cannot write \(path): \(step) failed" }
    }

    static func write(_ bytes: [UInt8], to path: String, permissions: Int = 0o600) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let temporary = path + ".tmp"
        _ = try? FileManager.default.removeItem(atPath: temporary)
        guard FileManager.default.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: permissions]),
              let handle = FileHandle(forWritingAtPath: temporary) else { throw Failure(path: temporary, step: "create") }
        do {
            try handle.write(contentsOf: Data(bytes))
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw Failure(path: temporary, step: "write and fsync (\(error))")
        }
        guard rename(temporary, path) == 0 else { throw Failure(path: path, step: "rename (errno \(errno))") }
        try syncDirectory(directory)
    }

    /// fsync of a directory: makes the entries created or renamed in it durable.
    static func syncDirectory(_ directory: String) throws {
        let descriptor = open(directory, O_RDONLY)
        guard descriptor >= 0 else { throw Failure(path: directory, step: "open directory (errno \(errno))") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw Failure(path: directory, step: "fsync directory (errno \(errno))") }
    }
}
