import Foundation

/// Raw blocks and undo records in append-only flat files (`blk00000.dat`, `rev00000.dat`,
/// ...), the way Bitcoin Core keeps them: appending costs one copy into the page cache,
/// where a RocksDB value would be copied into a write batch, the WAL, a memtable and later
/// an SST file. RocksDB keeps only each record's position. Records are synced (`sync`)
/// before the atomic batch that refers to them is written, so a position in the database
/// always names complete, durable bytes; whatever a crash leaves after the last synced
/// record is referenced by nothing (new records are appended after it).
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
    private var current: UInt32 = 0
    private var size: UInt64 = 0
    private var descriptor: Int32 = -1
    private var unsynced = false
    /// Write-back started in the background every `backgroundSyncBytes`, so the sync before
    /// a flush finds little left to write.
    private let backgroundSyncBytes: UInt64 = 16 << 20
    private var sinceBackgroundSync: UInt64 = 0
    private let backgroundSyncs = DispatchGroup()

    init(directory: String, prefix: String, maxFileBytes: UInt64 = 128 << 20) throws {
        self.directory = directory
        self.prefix = prefix
        self.maxFileBytes = maxFileBytes
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let numbers = (try FileManager.default.contentsOfDirectory(atPath: directory)).compactMap { name -> UInt32? in
            guard name.hasPrefix(prefix), name.hasSuffix(".dat") else { return nil }
            return UInt32(name.dropFirst(prefix.count).dropLast(4))
        }
        try open(numbers.max() ?? 0)
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
        guard bytes.count <= Int(UInt32.max) else { throw ChainStateError.storage("a record of \(bytes.count) bytes does not fit a position") }
        if size > 0 && size + UInt64(bytes.count) > maxFileBytes {
            guard current < UInt32.max else { throw ChainStateError.storage("\(directory): no file number left after \(path(current))") }
            try sync()
            try open(current + 1)
        }
        let position = Position(file: current, offset: size, length: UInt32(bytes.count))
        try bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else {
                    throw ChainStateError.storage("cannot write \(path(current)): \(String(cString: strerror(errno)))")
                }
                done += written
            }
        }
        size += UInt64(bytes.count)
        unsynced = true
        sinceBackgroundSync += UInt64(bytes.count)
        if sinceBackgroundSync >= backgroundSyncBytes {
            sinceBackgroundSync = 0
            let descriptor = self.descriptor
            // Errors surface in `sync`, which always runs before anything refers to the data.
            DispatchQueue.global(qos: .utility).async(group: backgroundSyncs) { _ = fdatasync(descriptor) }
        }
        return position
    }

    /// Makes every appended record durable (earlier files were synced when they were closed).
    func sync() throws {
        guard unsynced else { return }
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
