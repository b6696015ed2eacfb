// The signed governance execution records a node has accepted (docs/protocol/
// governance-execution.md section 4), one per proposal, kept in
// DATADIR/governance-executions.dat so `gobject execution` still shows the quorum's
// signature after a restart. Format, little-endian:
//
//     magic "RUSTYGEX" (8) | version u32 = 1 | count u64
//     count x signed execution (202 bytes: record 41 | recovered signature 161)
//     BLAKE3 of everything before (32)
//
// The file is replaced whole (temporary file, fsync, rename, directory fsync) at each change.

import BLAKE3
import Foundation
import Primitives
import QuorumServices

/// A governance-executions.dat that cannot be used: nothing was loaded from it.
struct GovernanceExecutionArchiveError: Error, CustomStringConvertible, Equatable {
    let path: String
    let problem: String
    var description: String { "\(path): \(problem)" }
}

struct GovernanceExecutionArchive {
    static let fileName = "governance-executions.dat"
    static let magic = Array("RUSTYGEX".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 8 + 4 + 8
    static let checksumBytes = 32

    /// Where the archive is kept; nil: memory only (in-process tests).
    let path: String?
    /// By proposal id.
    private(set) var executions: [Hash256: SignedGovernanceExecution] = [:]

    init(path: String?) { self.path = path }

    static func path(datadir: String) -> String { (datadir as NSString).appendingPathComponent(fileName) }

    /// Reads the archive at `path`; a missing file is an empty archive, a damaged one an error
    /// naming what is wrong.
    static func load(path: String) throws -> GovernanceExecutionArchive {
        var archive = GovernanceExecutionArchive(path: path)
        guard FileManager.default.fileExists(atPath: path) else { return archive }
        func damaged(_ problem: String) -> GovernanceExecutionArchiveError { .init(path: path, problem: problem) }
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) } catch {
            throw damaged("cannot read: \(error.localizedDescription)")
        }
        guard bytes.count >= headerBytes + checksumBytes else { throw damaged("truncated: \(bytes.count) bytes") }
        guard Array(bytes[0..<magic.count]) == magic else { throw damaged("bad magic: not a governance execution archive") }
        let body = Array(bytes[0..<(bytes.count - checksumBytes)])
        guard BLAKE3.hash(body) == Array(bytes[(bytes.count - checksumBytes)...]) else {
            throw damaged("checksum mismatch: the file is damaged or truncated")
        }
        var reader = ByteReader(body, path: fileName)
        do {
            _ = try reader.readBytes(magic.count, "magic")
            let version = try reader.readUInt32("version")
            guard version == Self.version else { throw damaged("unsupported version \(version) (this node reads version \(Self.version))") }
            let count = try reader.readUInt64("count")
            guard count == UInt64(reader.remaining / SignedGovernanceExecution.encodedLength),
                  reader.remaining % SignedGovernanceExecution.encodedLength == 0 else {
                throw damaged("count \(count) does not match the \(reader.remaining) bytes of entries")
            }
            for index in 0..<Int(count) {
                let execution = try reader.within("entry", index: index) { try SignedGovernanceExecution.decode(from: &$0) }
                archive.executions[execution.record.proposalId] = execution
            }
        } catch let error as GovernanceExecutionArchiveError {
            throw error
        } catch {
            throw damaged("malformed: \(error)")
        }
        return archive
    }

    /// Keeps `execution` as its proposal's (replacing another record of the proposal, which a
    /// reorganisation changed) and rewrites the file; false when it was already kept.
    mutating func keep(_ execution: SignedGovernanceExecution) throws -> Bool {
        guard executions[execution.record.proposalId] != execution else { return false }
        executions[execution.record.proposalId] = execution
        if let path { try DurableFile.write(encoded, to: path) }
        return true
    }

    var encoded: [UInt8] {
        let sorted = executions.values.sorted { $0.record.proposalId < $1.record.proposalId }
        var writer = ByteWriter(capacity: Self.headerBytes + sorted.count * SignedGovernanceExecution.encodedLength + Self.checksumBytes)
        writer.write(bytes: Self.magic)
        writer.write(Self.version)
        writer.write(UInt64(sorted.count))
        for execution in sorted { execution.encode(to: &writer) }
        return writer.bytes + BLAKE3.hash(writer.bytes)
    }
}
