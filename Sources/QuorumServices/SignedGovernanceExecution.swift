import BLAKE3
import Primitives

/// An execution record with the chain-lock quorum's recovered signature: what `govexec`
/// carries to every node and what a node keeps for `gobject execution`
/// (docs/protocol/governance-execution.md section 4).
///
/// Encoding (202 bytes): record 41 | recovered signature 161.
public struct SignedGovernanceExecution: Hashable, Sendable, CustomStringConvertible {
    public var record: GovernanceExecution
    public var signature: RecoveredSignature

    public static let encodedLength = GovernanceExecution.encodedLength + RecoveredSignature.encodedLength

    public init(record: GovernanceExecution, signature: RecoveredSignature) {
        self.record = record
        self.signature = signature
    }

    /// BLAKE3 of the encoding: what relay bookkeeping knows a message by.
    public var id: Hash256 { Hash256(bytes: BLAKE3.hash(encoded))! }

    /// Whether the signature answers this record's request (of its own quorum type) and
    /// verifies under `groupKey`.
    public func verify(groupKey: [UInt8]) -> Bool { record.verify(signature, groupKey: groupKey) }

    public var description: String { "\(record) (quorum \(signature.quorumHash.hex))" }

    public func encode(to writer: inout ByteWriter) {
        record.encode(to: &writer)
        signature.encode(to: &writer)
    }

    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedLength)
        encode(to: &writer)
        return writer.bytes
    }

    public static func decode(from reader: inout ByteReader) throws -> SignedGovernanceExecution {
        let record = try reader.within("record") { try GovernanceExecution.decode(from: &$0) }
        let signature = try reader.within("signature") { try RecoveredSignature.decode(from: &$0) }
        return SignedGovernanceExecution(record: record, signature: signature)
    }
}
