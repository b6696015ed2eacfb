import BLAKE3
import Primitives

/// How a closed proposal ended, recorded by its deadline block.
public struct GovernanceClosing: Sendable, Hashable {
    public var tally: GovernanceTally
    public var result: GovernanceResult
    /// The height the change applies from (approved proposals only).
    public var activationHeight: UInt64?

    public init(tally: GovernanceTally, result: GovernanceResult, activationHeight: UInt64?) {
        self.tally = tally
        self.result = result
        self.activationHeight = activationHeight
    }
}

/// A mined proposal as the ledger holds it (PROTOCOL section 18.4).
public struct GovernanceProposal: Sendable, Hashable, BinaryCodable {
    /// The proposal transaction's txid.
    public var id: Hash256
    public var payload: GovernanceProposalPayload
    /// The height of the block that mined it.
    public var height: UInt64
    /// Output `collateralIndex` of the proposal transaction.
    public var collateral: OutPoint
    /// Nil while open (until its deadline block connects).
    public var closing: GovernanceClosing?

    static let leafKey = DomainKeys.key(purpose: "governance proposal")

    public init(id: Hash256, payload: GovernanceProposalPayload, height: UInt64, closing: GovernanceClosing? = nil) {
        self.id = id
        self.payload = payload
        self.height = height
        self.collateral = OutPoint(txid: id, index: payload.collateralIndex)
        self.closing = closing
    }

    public var isOpen: Bool { closing == nil }

    public func encode(to writer: inout ByteWriter) {
        writer.write(id)
        writer.writeVarBytes(payload.encoded)
        writer.write(height)
        guard let closing else { return writer.write(UInt8(0)) }
        writer.write(closing.result.rawValue)
        for count in [closing.tally.yes, closing.tally.no, closing.tally.abstain, closing.tally.validMasternodes] { writer.write(count) }
        writer.write(closing.activationHeight ?? UInt64.max)
    }

    public static func decode(from reader: inout ByteReader) throws -> GovernanceProposal {
        let id = try reader.readHash("id")
        let payloadBytes = try reader.readVarBytes("payload", limit: 1_000)
        let payload = try GovernanceProposalPayload(decoding: payloadBytes, path: reader.path + ".payload")
        let height = try reader.readUInt64("height")
        let at = reader.offset
        let raw = try reader.readUInt8("result")
        guard raw != 0 else { return GovernanceProposal(id: id, payload: payload, height: height) }
        guard let result = GovernanceResult(rawValue: raw) else { throw reader.invalid("result", at: at, "result \(raw), expected 0...3") }
        let tally = GovernanceTally(yes: try reader.readUInt32("yes"), no: try reader.readUInt32("no"), abstain: try reader.readUInt32("abstain"),
                                    validMasternodes: try reader.readUInt32("valid_masternodes"))
        let activation = try reader.readUInt64("activation_height")
        return GovernanceProposal(id: id, payload: payload, height: height,
                                  closing: GovernanceClosing(tally: tally, result: result, activationHeight: activation == .max ? nil : activation))
    }
}

/// The vote of one masternode on one proposal that currently counts (its last).
public struct GovernanceVoteRecord: Sendable, Hashable, BinaryCodable {
    public var proposalId: Hash256
    public var proTxHash: Hash256
    public var outcome: GovernanceVoteOutcome
    public var sequence: UInt32
    /// The height of the block that mined it.
    public var height: UInt64
    public var txid: Hash256

    static let leafKey = DomainKeys.key(purpose: "governance vote")

    public init(proposalId: Hash256, proTxHash: Hash256, outcome: GovernanceVoteOutcome, sequence: UInt32, height: UInt64, txid: Hash256) {
        self.proposalId = proposalId
        self.proTxHash = proTxHash
        self.outcome = outcome
        self.sequence = sequence
        self.height = height
        self.txid = txid
    }

    var leafHash: Hash256 { Hash256(bytes: BLAKE3.keyedHash(key: Self.leafKey, encoded))! }

    public func encode(to writer: inout ByteWriter) {
        writer.write(proposalId)
        writer.write(proTxHash)
        writer.write(outcome.rawValue)
        writer.write(sequence)
        writer.write(height)
        writer.write(txid)
    }

    public static func decode(from reader: inout ByteReader) throws -> GovernanceVoteRecord {
        let (proposal, masternode, outcome) = try GovernanceVoteOutcome.decodeVote(from: &reader)
        return GovernanceVoteRecord(proposalId: proposal, proTxHash: masternode, outcome: outcome, sequence: try reader.readUInt32("sequence"),
                                    height: try reader.readUInt64("height"), txid: try reader.readHash("txid"))
    }
}
