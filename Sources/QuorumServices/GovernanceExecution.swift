import BLAKE3
import Governance
import Primitives

/// The outcome of one governance proposal as the chain-lock quorum signs it (issue 19,
/// docs/protocol/governance-execution.md): with the quorum's recovered signature a light
/// client learns whether a proposal passed, and from when, without the whole chain.
///
/// Encoding (`govexec`, 41 bytes): proposalId 32 | result u8 (1 approved, 2 rejected,
/// 3 slashed) | activationHeight u64 LE (UInt64.max unless approved).
public struct GovernanceExecution: Hashable, Sendable, CustomStringConvertible {
    public var proposalId: Hash256
    public var result: GovernanceResult
    /// The height the change applies from; nil unless approved.
    public var activationHeight: UInt64?

    public static let encodedLength = 32 + 1 + 8
    static let requestKey = DomainKeys.key(purpose: "governance execution")
    static let recordKey = DomainKeys.key(purpose: "governance execution record")

    public init(proposalId: Hash256, result: GovernanceResult, activationHeight: UInt64?) {
        self.proposalId = proposalId
        self.result = result
        self.activationHeight = activationHeight
    }

    /// The record of a closed proposal (nil while it is open).
    public init?(proposal: GovernanceProposal) {
        guard let closing = proposal.closing else { return nil }
        self.init(proposalId: proposal.id, result: closing.result, activationHeight: closing.activationHeight)
    }

    /// One request per proposal, whatever its result: a member that has a signature for one
    /// record of a proposal can see, by the id alone, that a different record (after a
    /// reorganization) would be a second answer to the same request, and refuse it.
    public static func requestID(proposalId: Hash256) -> SigningRequestID {
        SigningRequestID(Hash256(bytes: BLAKE3.keyedHash(key: requestKey, proposalId.bytes))!)
    }

    public var requestID: SigningRequestID { Self.requestID(proposalId: proposalId) }

    /// keyed_hash(K_"governance execution record", encoding): what the quorum signs.
    public var messageHash: Hash256 { Hash256(bytes: BLAKE3.keyedHash(key: Self.recordKey, encoded))! }

    /// The request the chain-lock quorum of `quorumType` answers for this record.
    public func request(quorumType: UInt8) -> SigningRequest {
        SigningRequest(quorumType: quorumType, requestID: requestID, messageHash: messageHash)
    }

    /// Whether `signature` is the record's, by the quorum whose key is `groupKey`.
    public func verify(_ signature: RecoveredSignature, groupKey: [UInt8]) -> Bool {
        signature.request == request(quorumType: signature.quorumType) && signature.verify(groupKey: groupKey)
    }

    public var description: String {
        "governance execution of \(proposalId.hex): \(result)" + (activationHeight.map { " from height \($0)" } ?? "")
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(proposalId)
        writer.write(result.rawValue)
        writer.write(activationHeight ?? UInt64.max)
    }

    public var encoded: [UInt8] {
        var writer = ByteWriter(capacity: Self.encodedLength)
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes exactly one record; an unknown result, or an activation height that does
    /// not match the result, is an error naming the field.
    public static func decode(_ bytes: [UInt8]) throws -> GovernanceExecution {
        var reader = ByteReader(bytes, path: "govexec")
        let record = try decode(from: &reader)
        try reader.expectEnd("end")
        return record
    }

    /// Decodes one record from `reader` (the bytes after it are the caller's).
    public static func decode(from reader: inout ByteReader) throws -> GovernanceExecution {
        let proposalId = try reader.readHash("proposal_id")
        let resultAt = reader.offset
        let raw = try reader.readUInt8("result")
        guard let result = GovernanceResult(rawValue: raw) else {
            throw reader.invalid("result", at: resultAt, "result \(raw), expected 1 (approved), 2 (rejected) or 3 (slashed)")
        }
        let heightAt = reader.offset
        let height = try reader.readUInt64("activation_height")
        switch (result, height) {
        case (.approved, .max):
            throw reader.invalid("activation_height", at: heightAt, "an approved record needs an activation height")
        case (.approved, _):
            return GovernanceExecution(proposalId: proposalId, result: result, activationHeight: height)
        case (_, .max):
            return GovernanceExecution(proposalId: proposalId, result: result, activationHeight: nil)
        default:
            throw reader.invalid("activation_height", at: heightAt, "a \(result) record has no activation height (expected \(UInt64.max))")
        }
    }
}
