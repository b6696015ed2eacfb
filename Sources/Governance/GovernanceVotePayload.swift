import Consensus
import Masternodes
import Primitives

/// A masternode's position on a proposal.
public enum GovernanceVoteOutcome: UInt8, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case yes = 1
    case no = 2
    case abstain = 3

    public var description: String {
        switch self {
        case .yes: return "yes"
        case .no: return "no"
        case .abstain: return "abstain"
        }
    }

    public init?(name: String) {
        guard let found = Self.allCases.first(where: { $0.description == name }) else { return nil }
        self = found
    }

    /// `proposal_id | pro_tx_hash | outcome u8`: how a vote payload and a vote record begin.
    static func decodeVote(from reader: inout ByteReader) throws -> (proposal: Hash256, masternode: Hash256, outcome: GovernanceVoteOutcome) {
        let proposal = try reader.readHash("proposal_id"), masternode = try reader.readHash("pro_tx_hash")
        let at = reader.offset
        let raw = try reader.readUInt8("outcome")
        guard let outcome = GovernanceVoteOutcome(rawValue: raw) else { throw reader.invalid("outcome", at: at, "outcome \(raw), expected 1...3") }
        return (proposal, masternode, outcome)
    }
}

/// `gov-vote` (PROTOCOL section 18.3): a masternode's vote on a proposal, signed by its
/// owner key over the keyed signing hash as the masternode payloads are (section 16.2). It
/// moves no coins: no inputs (so `inputsHash` is the hash of the empty list), no outputs.
/// `sequence` makes every vote of a masternode on a proposal a distinct transaction and
/// stops replays: a vote counts only with a sequence above the one it replaces.
public struct GovernanceVotePayload: SpecialPayload {
    public static let type = SpecialTransactionType.governanceVote
    public var proposalId: Hash256
    public var proTxHash: Hash256
    public var outcome: GovernanceVoteOutcome
    public var sequence: UInt32
    public var inputsHash: Hash256
    public var signature: [UInt8] = []

    /// The inputs hash of a transaction without inputs.
    public static let noInputsHash = SpecialPayloadCodec.inputsHash(of: Transaction(special: .governanceVote, payload: [], inputs: [], outputs: []))

    public init(proposalId: Hash256, proTxHash: Hash256, outcome: GovernanceVoteOutcome, sequence: UInt32,
                inputsHash: Hash256 = GovernanceVotePayload.noInputsHash, signature: [UInt8] = []) {
        self.proposalId = proposalId
        self.proTxHash = proTxHash
        self.outcome = outcome
        self.sequence = sequence
        self.inputsHash = inputsHash
        self.signature = signature
    }

    public func encodeFields(to writer: inout ByteWriter) {
        writer.write(proposalId)
        writer.write(proTxHash)
        writer.write(outcome.rawValue)
        writer.write(sequence)
    }

    public static func decodeFields(from reader: inout ByteReader) throws -> Self {
        let (proposal, masternode, outcome) = try GovernanceVoteOutcome.decodeVote(from: &reader)
        return Self(proposalId: proposal, proTxHash: masternode, outcome: outcome, sequence: try reader.readUInt32("sequence"))
    }

    /// The vote transaction: no inputs, no outputs.
    public var transaction: Transaction { transaction(inputs: [], outputs: []) }

    /// The payload of `transaction`, which must be a `gov-vote`, with its inputs hash checked.
    public init(transaction: Transaction) throws(Rejection) {
        guard transaction.specialType == .governanceVote else {
            throw Rejection(.txSpecialType, "expected gov-vote, found type \(transaction.rawSpecialType)")
        }
        do { self = try Self.decode(payload: transaction.payload) } catch { throw Rejection(.governancePayload, "gov-vote: \(error)") }
        guard inputsHash == SpecialPayloadCodec.inputsHash(of: transaction) else {
            throw Rejection(.governancePayload, "gov-vote: the inputs hash is not the hash of no inputs")
        }
    }
}
