// mempool.dat: the pool saved at shutdown and re-validated at start (Bitcoin Core's
// -persistmempool). Format (docs/PROTOCOL.md 14.9), little-endian:
//
//     magic "RUSTYMPL" (8) | version u32 = 1 | count u64
//     count x (entry time u64 | CompactSize length | transaction bytes)
//     BLAKE3 of everything before (32)
//
// Entries are in arrival order, so parents come before their children; the pending
// governance votes (fee-less, held apart from the pool) follow them, so a restart does not
// lose a vote that is waiting for a block. Loading sends every entry through the same
// admission as a peer's transaction. The file is replaced atomically (temporary file,
// fsync, rename) with mode 0600.

import BLAKE3
import Foundation
import Primitives

/// What `Mempool.load(from:)` did with the saved transactions.
public struct MempoolLoadReport: Sendable, Equatable {
    /// Entered the pool again.
    public var accepted: Int
    /// Refused by the checks on today's chain (spent, conflicting, now invalid).
    public var failed: Int
    /// Older than the pool's expiry: skipped.
    public var expired: Int
    /// Already in the pool.
    public var alreadyPresent: Int

    public init(accepted: Int = 0, failed: Int = 0, expired: Int = 0, alreadyPresent: Int = 0) {
        self.accepted = accepted
        self.failed = failed
        self.expired = expired
        self.alreadyPresent = alreadyPresent
    }
}

/// A mempool.dat or fee_estimates.dat that cannot be used: the file and what is wrong with
/// it. Nothing was loaded from it.
public struct PoolFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var problem: String

    public init(path: String, problem: String) {
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(path): \(problem)" }
}

extension Mempool {
    static let fileMagic = Array("RUSTYMPL".utf8)
    static let fileVersion: UInt32 = 1

    /// Writes every entry and pending vote to `path` (mempool.dat) atomically; returns how many.
    @discardableResult
    public func save(to path: String) throws -> Int {
        let saved = lock.withLock { pool.values.sorted { arrival[$0.txid]! < arrival[$1.txid]! } + sortedGovernanceVotes }
        var writer = ByteWriter(capacity: 64 + saved.reduce(0) { $0 + $1.size + 16 })
        writer.write(bytes: Self.fileMagic)
        writer.write(Self.fileVersion)
        writer.write(UInt64(saved.count))
        for entry in saved {
            writer.write(entry.time)
            writer.writeVarBytes(entry.transaction.encoded)
        }
        var bytes = writer.bytes
        bytes += PoolFiles.checksum(bytes)
        try PoolFiles.writeAtomically(bytes, to: path)
        return saved.count
    }

    /// Reads mempool.dat at `path` and submits its transactions again, parents first, with
    /// their saved entry times; those older than the expiry are skipped. A missing file loads
    /// nothing (all counts zero); a corrupt one throws, naming what is wrong, and loads nothing.
    public func load(from path: String) throws -> MempoolLoadReport {
        guard let bytes = try PoolFiles.read(path) else { return MempoolLoadReport() }
        let saved = try Self.decodeFile(bytes, path: path)
        var report = MempoolLoadReport()
        let cutoff = now()
        // The pool's own expiry rule (`expire(time:)`): gone once older than the expiry.
        let fresh = saved.filter { entry in
            let (deadline, overflow) = entry.time.addingReportingOverflow(policy.expirySeconds)
            return overflow || deadline >= cutoff
        }
        report.expired = saved.count - fresh.count
        let results = submit(batch: fresh.map(\.transaction), source: "mempool.dat", entryTimes: fresh.map(\.time))
        for result in results {
            switch result {
            case .accepted:
                report.accepted += 1
            case .rejected(let rejection) where rejection.kind == .alreadyInPool:
                report.alreadyPresent += 1
            case .rejected:
                report.failed += 1
            }
        }
        return report
    }

    /// The entries of a mempool.dat file (entry time, transaction), checked whole before any
    /// is used.
    static func decodeFile(_ bytes: [UInt8], path: String) throws -> [(time: UInt64, transaction: Transaction)] {
        func corrupt(_ problem: String) -> PoolFileError { PoolFileError(path: path, problem: problem) }
        var reader = try PoolFiles.openSealed(bytes, path: path, kind: "mempool.dat", magic: fileMagic, version: fileVersion,
                                              headerBytes: fileMagic.count + 4 + 8)
        do {
            let count = try reader.readUInt64("count")
            // Each entry takes at least its time and a length byte.
            guard count <= UInt64(reader.remaining / 9) else {
                throw corrupt("count \(count) is more entries than the file's \(reader.remaining) bytes can hold")
            }
            var entries = [(time: UInt64, transaction: Transaction)]()
            entries.reserveCapacity(Int(count))
            for index in 0..<Int(count) {
                let time = try reader.readUInt64("entry \(index) time")
                let encoded = try reader.readVarBytes("entry \(index) transaction", limit: EncodingLimits.maxBlockBytes)
                do {
                    entries.append((time, try Transaction(decoding: encoded)))
                } catch {
                    throw corrupt("entry \(index): the transaction does not decode: \(error)")
                }
            }
            guard reader.isAtEnd else { throw corrupt("\(reader.remaining) bytes after the last entry") }
            return entries
        } catch let error as PoolFileError {
            throw error
        } catch {
            throw corrupt("truncated or malformed: \(error)")
        }
    }
}

/// Whole-file reads and atomic replacement for the pool's files; the sealed frame (magic,
/// version, body, BLAKE3) is shared with the node's other small files (governance-executions.dat).
public enum PoolFiles {
    /// The files' trailing checksum: BLAKE3 of everything before it.
    public static func checksum(_ bytes: [UInt8]) -> [UInt8] { BLAKE3.hash(bytes) }
    public static let checksumBytes = 32

    /// Checks a file's frame (its size, magic, version and trailing checksum) and returns a
    /// reader of its body positioned after the version. `headerBytes`: the fixed header's size
    /// (magic and version included); `kind` names the file in errors.
    public static func openSealed(_ bytes: [UInt8], path: String, kind: String, magic: [UInt8], version expected: UInt32,
                           headerBytes: Int) throws -> ByteReader {
        func corrupt(_ problem: String) -> PoolFileError { PoolFileError(path: path, problem: problem) }
        guard bytes.count >= headerBytes + checksumBytes else {
            throw corrupt("truncated: \(bytes.count) bytes, shorter than the header and checksum")
        }
        guard Array(bytes[0..<magic.count]) == magic else { throw corrupt("bad magic: not a \(kind) file") }
        let body = Array(bytes[0..<(bytes.count - checksumBytes)])
        var reader = ByteReader(body, path: kind)
        do {
            _ = try reader.readBytes(magic.count, "magic")
            let version = try reader.readUInt32("version")
            guard version == expected else { throw corrupt("unsupported version \(version) (this node reads version \(expected))") }
        } catch let error as PoolFileError {
            throw error
        } catch {
            throw corrupt("truncated or malformed: \(error)")
        }
        guard checksum(body) == Array(bytes[(bytes.count - checksumBytes)...]) else {
            throw corrupt("checksum mismatch: the file is damaged or truncated")
        }
        return reader
    }

    /// The file's bytes, or nil when there is no file.
    public static func read(_ path: String) throws -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw PoolFileError(path: path, problem: "cannot read: \(error.localizedDescription)")
        }
    }

    /// Writes PATH.tmp (mode 0600), fsyncs, renames it over PATH and fsyncs the directory: a
    /// crash leaves the old file or the new one, never a torn one.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".tmp"
        func failure(_ what: String) -> PoolFileError {
            PoolFileError(path: path, problem: "\(what): \(String(cString: strerror(errno)))")
        }
        unlink(temporary) // a leftover would keep its mode through O_TRUNC
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw failure("cannot create \(temporary)") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Foundation.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let error = failure("cannot write \(temporary)")
                close(descriptor)
                unlink(temporary)
                throw error
            }
            written += result
        }
        guard fsync(descriptor) == 0 else {
            let error = failure("cannot sync \(temporary)")
            close(descriptor)
            unlink(temporary)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            let error = failure("cannot rename \(temporary)")
            unlink(temporary)
            throw error
        }
        let directory = (path as NSString).deletingLastPathComponent
        let directoryDescriptor = open(directory.isEmpty ? "." : directory, O_RDONLY)
        if directoryDescriptor >= 0 {
            _ = fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }
}
