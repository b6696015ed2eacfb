import ArgumentParser
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

/// write(2) under a name that methods called `write` do not shadow.
func writeDescriptor(_ descriptor: Int32, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}

/// An open file descriptor read in large blocks (no per-byte overhead, no whole-file
/// buffering), or mapped whole. Every failure is a `FileError` (`PATH: strerror`).
final class InputFile {
    let descriptor: Int32
    let name: String
    private let ownsDescriptor: Bool
    private var status = stat()

    /// `-` means standard input. A directory is refused here (reading one fails later with
    /// a less clear EISDIR, and on some systems not at all).
    init(path: String) throws {
        name = path
        if path == "-" {
            descriptor = 0
            ownsDescriptor = false
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw FileError(path, errno: errno) }
            descriptor = fd
            ownsDescriptor = true
        }
        guard fstat(descriptor, &status) == 0 else { throw FileError(path, errno: errno) }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw FileError(path, errno: EISDIR) }
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    var isRegularFile: Bool { (status.st_mode & S_IFMT) == S_IFREG }

    /// Calls `body` with successive blocks of the file until its end.
    func forEachBlock(bufferSize: Int = 1 << 20, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            // Fill the buffer completely when possible so SIMD sees whole chunk groups.
            var filled = 0
            while filled < bufferSize {
                let n = read(descriptor, buffer.baseAddress! + filled, bufferSize - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileError(name, errno: errno)
                }
                if n == 0 { break }
                filled += n
            }
            if filled == 0 { return }
            try body(UnsafeRawBufferPointer(rebasing: buffer[0..<filled]))
            if filled < bufferSize { return }
        }
    }

    /// Maps a regular file of at least `minimumSize` bytes read-only and calls `body` with
    /// all of it; returns nil (without calling `body`) for anything else, which callers then
    /// read with `forEachBlock`. Hashing from the mapping skips read()'s copy into a user
    /// buffer, which on a 1 GiB file costs as much system time as b3sum's whole run (b3sum
    /// maps too, and for the same 16 KiB threshold: below it a map costs more than a read).
    func withMapping<T>(minimumSize: Int = 16 * 1024, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T? {
        guard isRegularFile, status.st_size >= minimumSize, let size = Int(exactly: status.st_size) else { return nil }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            return nil // e.g. a file system without mmap: reading still works
        }
        defer { munmap(address, size) }
        // The kernel reads ahead more eagerly for a sequential scan.
        _ = madvise(address, size, MADV_SEQUENTIAL)
        return try body(UnsafeRawBufferPointer(start: address, count: size))
    }

    /// The whole content (for small inputs such as Merkle leaf lists and check files).
    func readAll() throws -> [UInt8] {
        var out = [UInt8]()
        try forEachBlock { out.append(contentsOf: $0) }
        return out
    }
}

func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

/// An output file opened where it is, never replaced: a FIFO, a device or a symlink is
/// written through, and a regular file keeps its inode, owner, mode and hard links.
///
/// Why not write a temporary file and rename it over the target: rename replaces whatever
/// the path names (that is how `gen-chain --out /dev/null` run as root turned /dev/null
/// into a regular file), needs write access to the directory, and breaks hard links and
/// ownership. The cost of writing in place is that an interrupted run leaves a partial
/// file, which every consumer (verify-chain) already detects as truncated.
final class OutputFile {
    let path: String
    let descriptor: Int32
    private let ownsDescriptor: Bool

    private init(path: String, descriptor: Int32, ownsDescriptor: Bool) {
        self.path = path
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
    }

    deinit { if ownsDescriptor { close(descriptor) } }

    /// Opens every path (`-` is standard output) and only then truncates the regular files
    /// among them, so one unopenable path leaves every other file untouched. Two options
    /// naming the same file are refused: their writes would interleave.
    static func openAll(_ paths: [(flag: String, path: String)]) throws -> [OutputFile] {
        var files = [OutputFile]()
        var identities = [(flag: String, device: UInt64, inode: UInt64)]()
        for (flag, path) in paths {
            let file: OutputFile
            if path == "-" {
                file = OutputFile(path: path, descriptor: 1, ownsDescriptor: false)
            } else {
                // No O_TRUNC here (see above); O_CREAT follows a dangling symlink and creates its target.
                let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
                guard fd >= 0 else { throw FileError(path, errno: errno) }
                file = OutputFile(path: path, descriptor: fd, ownsDescriptor: true)
            }
            var info = stat()
            guard fstat(file.descriptor, &info) == 0 else { throw FileError(path, errno: errno) }
            let identity = (UInt64(info.st_dev), UInt64(info.st_ino))
            // Character devices (a terminal, /dev/null) may be shared; files and pipes may not.
            if (info.st_mode & S_IFMT) != S_IFCHR,
               let other = identities.first(where: { $0.device == identity.0 && $0.inode == identity.1 }) {
                throw ValidationError("\(other.flag) and \(flag) name the same file (\(path))")
            }
            identities.append((flag, identity.0, identity.1))
            files.append(file)
        }
        // Standard output is never truncated: the shell already chose `>` or `>>`.
        for file in files where !file.isStandardOutput {
            var info = stat()
            if fstat(file.descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, ftruncate(file.descriptor, 0) != 0 {
                throw FileError(file.path, errno: errno)
            }
        }
        return files
    }

    var isStandardOutput: Bool { path == "-" }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = writeDescriptor(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path == "-" ? "standard output" : path, errno: errno)
            }
            offset += n
        }
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }
}

/// The whole of a message file ('-': standard input); a failure is an invalid input.
func readMessage(_ path: String) throws -> [UInt8] {
    do {
        return try InputFile(path: path).readAll()
    } catch {
        throw CommandFailure(.invalid, "\(error)")
    }
}
