import Consensus
import Primitives

/// The payload of a `gov-proposal` transaction (PROTOCOL section 18.2): which whitelisted
/// parameter to set to what, the voting window, the activation delay, where the text lives
/// and its hash, and which output of the same transaction is the collateral. The proposal's
/// id is the transaction's txid. It carries no signature of its own: the transaction's input
/// signatures cover the payload, and the collateral output is the proposer's.
public struct GovernanceProposalPayload: Hashable, Sendable, BinaryCodable {
    public static let version: UInt16 = 1
    public static let maxURLBytes = 200

    /// The raw id (decoding accepts any, the rules reject ids off the whitelist).
    public var parameterId: UInt16
    public var newValue: UInt64
    /// Votes count in blocks `startHeight...deadlineHeight`; the tally runs at the end of the deadline block.
    public var startHeight: UInt64
    public var deadlineHeight: UInt64
    /// An approved change applies from height `deadlineHeight + activationDelay` on.
    public var activationDelay: UInt64
    /// UTF-8, at most `maxURLBytes` bytes.
    public var url: String
    public var textHash: Hash256
    /// The output of this transaction holding the collateral.
    public var collateralIndex: UInt32

    public init(parameterId: UInt16, newValue: UInt64, startHeight: UInt64, deadlineHeight: UInt64, activationDelay: UInt64,
                url: String, textHash: Hash256, collateralIndex: UInt32) {
        self.parameterId = parameterId
        self.newValue = newValue
        self.startHeight = startHeight
        self.deadlineHeight = deadlineHeight
        self.activationDelay = activationDelay
        self.url = url
        self.textHash = textHash
        self.collateralIndex = collateralIndex
    }

    public init(parameter: GovernanceParameter, newValue: UInt64, startHeight: UInt64, deadlineHeight: UInt64, activationDelay: UInt64,
                url: String, textHash: Hash256, collateralIndex: UInt32) {
        self.init(parameterId: parameter.rawValue, newValue: newValue, startHeight: startHeight, deadlineHeight: deadlineHeight,
                  activationDelay: activationDelay, url: url, textHash: textHash, collateralIndex: collateralIndex)
    }

    /// The whitelisted parameter, nil for an id off the whitelist.
    public var parameter: GovernanceParameter? { GovernanceParameter(rawValue: parameterId) }

    /// `deadlineHeight + activationDelay`, nil on overflow (rejected by the window rule).
    public var activationHeight: UInt64? {
        let (sum, overflow) = deadlineHeight.addingReportingOverflow(activationDelay)
        return overflow ? nil : sum
    }

    public func encode(to writer: inout ByteWriter) {
        writer.writeUInt16(Self.version)
        writer.writeUInt16(parameterId)
        writer.write(newValue)
        writer.write(startHeight)
        writer.write(deadlineHeight)
        writer.write(activationDelay)
        writer.writeVarBytes(Array(url.utf8))
        writer.write(textHash)
        writer.write(collateralIndex)
    }

    public static func decode(from reader: inout ByteReader) throws -> GovernanceProposalPayload {
        let at = reader.offset
        let version = try reader.readUInt16("version")
        guard version == Self.version else { throw reader.invalid("version", at: at, "payload version \(version), expected \(Self.version)") }
        let parameterId = try reader.readUInt16("parameter")
        let newValue = try reader.readUInt64("new_value")
        let start = try reader.readUInt64("start_height"), deadline = try reader.readUInt64("deadline_height")
        let delay = try reader.readUInt64("activation_delay")
        let urlAt = reader.offset
        let urlBytes = try reader.readVarBytes("url", limit: maxURLBytes)
        guard let url = String(validating: urlBytes, as: UTF8.self) else { throw reader.invalid("url", at: urlAt, "not valid UTF-8") }
        return GovernanceProposalPayload(parameterId: parameterId, newValue: newValue, startHeight: start, deadlineHeight: deadline,
                                         activationDelay: delay, url: url, textHash: try reader.readHash("text_hash"),
                                         collateralIndex: try reader.readUInt32("collateral_index"))
    }

    /// The payload of `transaction`, which must be a `gov-proposal`; every byte must belong to it.
    public init(transaction: Transaction) throws(Rejection) {
        guard transaction.specialType == .governanceProposal else {
            throw Rejection(.txSpecialType, "expected gov-proposal, found type \(transaction.rawSpecialType)")
        }
        do { self = try GovernanceProposalPayload(decoding: transaction.payload, path: "payload") } catch {
            throw Rejection(.governancePayload, "gov-proposal: \(error)")
        }
    }

    /// The special transaction carrying this proposal (the collateral among `outputs`).
    public func transaction(inputs: [TxIn], outputs: [TxOut], lockTime: UInt64 = 0) -> Transaction {
        Transaction(special: .governanceProposal, payload: encoded, inputs: inputs, outputs: outputs, lockTime: lockTime)
    }
}
