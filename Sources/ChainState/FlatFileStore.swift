import Foundation

/// Raw blocks and undo records in append-only flat files (`blk00000.dat`, `rev00000.dat`,
/// ...), the way Bitcoin Core keeps them: appending costs one copy into the page cache,
/// where a RocksDB value would be copied into a write batch, the WAL, a memtable and later
/// an SST file. RocksDB keeps only each record's position. Records are synced (`sync`)
/// before the atomic batch that refers to them is written, so a position in the database
/// always names complete, durable bytes.
///
/// With a `magic`, every record is framed `magic [4] | length u32 LE | bytes` (the block
/// files' format, the same as `BlockFile`): the files can then be read without the
/// database, so start-up replays what was appended after the last flush and `--reindex`
/// rebuilds the state from the files alone. A position names the bytes after the frame.
final class FlatFileStore {
    /// Where a record lives: 16 bytes in the database, `file u32 | offset u64 | length u32` (LE).
    struct Position: Equatable {
        var file: UInt32
        var offset: UInt64
        var length: UInt32

        var encoded: [UInt8] {
            var out = [UInt8]()
            out.reserveCapacity(16)
            withUnsafeBytes(of: file.littleEndian) { out += $0 }
            withUnsafeBytes(of: offset.littleEndian) { out += $0 }
            withUnsafeBytes(of: length.littleEndian) { out += $0 }
            return out
        }

        init(file: UInt32, offset: UInt64, length: UInt32) {
            self.file = file
            self.offset = offset
            self.length = length
        }

        init?(decoding bytes: [UInt8]) {
            guard bytes.count == 16 else { return nil }
            (file, offset, length) = bytes.withUnsafeBytes {
                (UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self)),
                 UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt64.self)),
                 UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
            }
        }
    }

    let directory: String
    let prefix: String
    let maxFileBytes: UInt64
    /// Frame prefix of every record (nil: raw records, as the undo files keep them).
    let magic: [UInt8]?
    let readOnly: Bool
    private var current: UInt32 = 0
    private var size: UInt64 = 0
    private var descriptor: Int32 = -1
    private var unsynced = false
    /// Write-back started in the background every `backgroundSyncBytes`, so the sync before
    /// a flush finds little left to write.
    private let backgroundSyncBytes: UInt64 = 16 << 20
    private var sinceBackgroundSync: UInt64 = 0
    private let backgroundSyncs = DispatchGroup()

    /// `readOnly`: creates nothing and refuses appends (a reader beside a running writer).
    init(directory: String, prefix: String, maxFileBytes: UInt64 = 128 << 20, magic: [UInt8]? = nil, readOnly: Bool = false) throws {
        self.directory = directory
        self.prefix = prefix
        self.maxFileBytes = maxFileBytes
        self.magic = magic
        self.readOnly = readOnly
        if readOnly { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try open(Self.fileNumbers(directory: directory, prefix: prefix).last ?? 0)
    }

    /// The numbers of the files present, ascending.
    static func fileNumbers(directory: String, prefix: String) throws -> [UInt32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> UInt32? in
            guard name.hasPrefix(prefix), name.hasSuffix(".dat") else { return nil }
            return UInt32(name.dropFirst(prefix.count).dropLast(4))
        }.sorted()
    }

    func fileNumbers() throws -> [UInt32] { try Self.fileNumbers(directory: directory, prefix: prefix) }

    /// Where the next record will start: `file u32 | offset u64` (LE) in the meta column family.
    var end: (file: UInt32, offset: UInt64) { (current, size) }

    static func encodeEnd(_ end: (file: UInt32, offset: UInt64)) -> [UInt8] {
        withUnsafeBytes(of: end.file.littleEndian, Array.init) + withUnsafeBytes(of: end.offset.littleEndian, Array.init)
    }

    static func decodeEnd(_ bytes: [UInt8]) -> (file: UInt32, offset: UInt64)? {
        guard bytes.count == 12 else { return nil }
        return bytes.withUnsafeBytes {
            (UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt32.self)),
             UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt64.self)))
        }
    }

    /// Cuts the current file back to `offset` (a torn record a crash left past the last
    /// flush, which nothing refers to), so later records follow whole ones.
    func truncateCurrent(to offset: UInt64) throws {
        guard !readOnly, offset < size else { return }
        guard ftruncate(descriptor, off_t(offset)) == 0, fdatasync(descriptor) == 0 else {
            throw ChainStateError.storage("cannot truncate \(path(current)) to \(offset) bytes: \(String(cString: strerror(errno)))")
        }
        size = offset
    }

    deinit {
        backgroundSyncs.wait()
        if descriptor >= 0 { close(descriptor) }
    }

    func path(_ file: UInt32) -> String { directory + "/" + prefix + String(format: "%05u", file) + ".dat" }

    private func open(_ file: UInt32) throws {
        // A background sync may still use the descriptor.
        backgroundSyncs.wait()
        if descriptor >= 0 { close(descriptor) }
        let fd = Foundation.open(path(file), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ChainStateError.storage("cannot open \(path(file)): \(String(cString: strerror(errno)))") }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else { throw ChainStateError.storage("cannot size \(path(file)): \(String(cString: strerror(errno)))") }
        descriptor = fd
        current = file
        size = UInt64(end)
    }

    /// Appends `bytes` (not yet durable: see `sync`).
    func append(_ bytes: [UInt8]) throws -> Position {
        guard !readOnly else { throw ChainStateError.storage("\(directory) is open read-only") }
        guard bytes.count <= Int(UInt32.max) else { throw ChainStateError.storage("a record of \(bytes.count) bytes does not fit a position") }
        var frame = [UInt8]()
        if let magic {
            frame = magic
            withUnsafeBytes(of: UInt32(bytes.count).littleEndian) { frame += $0 }
        }
        let recordBytes = UInt64(frame.count + bytes.count)
        if size > 0 && size + recordBytes > maxFileBytes {
            guard current < UInt32.max else { throw ChainStateError.storage("\(directory): no file number left after \(path(current))") }
            try sync()
            try open(current + 1)
        }
        let position = Position(file: current, offset: size + UInt64(frame.count), length: UInt32(bytes.count))
        try writeAll(frame, bytes)
        size += recordBytes
        unsynced = true
        sinceBackgroundSync += recordBytes
        if sinceBackgroundSync >= backgroundSyncBytes {
            sinceBackgroundSync = 0
            let descriptor = self.descriptor
            // Errors surface in `sync`, which always runs before anything refers to the data.
            DispatchQueue.global(qos: .utility).async(group: backgroundSyncs) { _ = fdatasync(descriptor) }
        }
        return position
    }

    /// Writes the frame and the record with one `writev` (one system call per record, as before framing).
    private func writeAll(_ frame: [UInt8], _ bytes: [UInt8]) throws {
        try frame.withUnsafeBytes { head in
            try bytes.withUnsafeBytes { body in
                var parts = [(head.baseAddress, head.count), (body.baseAddress, body.count)]
                while parts.contains(where: { $0.1 > 0 }) {
                    var vectors = parts.filter { $0.1 > 0 }.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: $0.0), iov_len: $0.1) }
                    let written = writev(descriptor, &vectors, Int32(vectors.count))
                    if written < 0 && errno == EINTR { continue }
                    guard written > 0 else {
                        throw ChainStateError.storage("cannot write \(path(current)): \(String(cString: strerror(errno)))")
                    }
                    // Advance past what was written (a short write resumes mid-part).
                    var left = written
                    for index in parts.indices where left > 0 && parts[index].1 > 0 {
                        let step = min(left, parts[index].1)
                        parts[index] = (parts[index].0.map { $0 + step }, parts[index].1 - step)
                        left -= step
                    }
                }
            }
        }
    }

    /// Makes every appended record durable (earlier files were synced when they were closed).
    func sync() throws {
        guard unsynced, !readOnly else { return }
        guard fdatasync(descriptor) == 0 else {
            throw ChainStateError.storage("cannot sync \(path(current)): \(String(cString: strerror(errno)))")
        }
        unsynced = false
    }

    /// The record at `position`; `what` names it in errors.
    func read(_ position: Position, _ what: String) throws -> [UInt8] {
        let file = path(position.file)
        let fd = Foundation.open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ChainStateError.corruptDatabase("\(what): cannot open \(file): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // A damaged position must give an error, not an allocation or offset it cannot make.
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw ChainStateError.corruptDatabase("\(what): cannot size \(file)") }
        let fileSize = UInt64(max(0, status.st_size))
        guard position.offset <= fileSize, UInt64(position.length) <= fileSize - position.offset else {
            throw ChainStateError.corruptDatabase("\(what): \(file) has \(fileSize) bytes, the record needs \(position.length) at offset \(position.offset)")
        }
        let length = Int(position.length)
        let bytes = try [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var done = 0
            while done < length {
                let got = pread(fd, buffer.baseAddress! + done, length - done, off_t(position.offset) + off_t(done))
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else { break }
                done += got
            }
            initialized = done
            guard done == length else {
                throw ChainStateError.corruptDatabase("\(what): \(file) holds \(done) of the \(length) bytes at offset \(position.offset)")
            }
        }
        return bytes
    }
}
