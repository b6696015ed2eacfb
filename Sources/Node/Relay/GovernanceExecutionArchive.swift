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

import Foundation
import Mempool
import Primitives
import QuorumServices

struct GovernanceExecutionArchive {
    static let fileName = "governance-executions.dat"
    static let magic = Array("RUSTYGEX".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 8 + 4 + 8

    /// Where the archive is kept; nil: memory only (in-process tests).
    let path: String?
    /// By proposal id.
    private(set) var executions: [Hash256: SignedGovernanceExecution] = [:]

    init(path: String?) { self.path = path }

    static func path(datadir: String) -> String { (datadir as NSString).appendingPathComponent(fileName) }

    /// Reads the archive at `path`; a missing file is an empty archive, a damaged one a
    /// `PoolFileError` naming what is wrong (the frame is mempool.dat's).
    static func load(path: String) throws -> GovernanceExecutionArchive {
        var archive = GovernanceExecutionArchive(path: path)
        guard let bytes = try PoolFiles.read(path) else { return archive }
        func damaged(_ problem: String) -> PoolFileError { PoolFileError(path: path, problem: problem) }
        var reader = try PoolFiles.openSealed(bytes, path: path, kind: fileName, magic: magic, version: version, headerBytes: headerBytes)
        do {
            let count = try reader.readUInt64("count")
            guard count == UInt64(reader.remaining / SignedGovernanceExecution.encodedLength),
                  reader.remaining % SignedGovernanceExecution.encodedLength == 0 else {
                throw damaged("count \(count) does not match the \(reader.remaining) bytes of entries")
            }
            for index in 0..<Int(count) {
                let execution = try reader.within("entry", index: index) { try SignedGovernanceExecution.decode(from: &$0) }
                archive.executions[execution.record.proposalId] = execution
            }
        } catch let error as PoolFileError {
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
        var writer = ByteWriter(capacity: Self.headerBytes + sorted.count * SignedGovernanceExecution.encodedLength + PoolFiles.checksumBytes)
        writer.write(bytes: Self.magic)
        writer.write(Self.version)
        writer.write(UInt64(sorted.count))
        for execution in sorted { execution.encode(to: &writer) }
        return writer.bytes + PoolFiles.checksum(writer.bytes)
    }
}
