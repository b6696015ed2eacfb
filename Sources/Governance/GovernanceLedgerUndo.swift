import Consensus
import Primitives

/// What disconnecting a block needs to restore the ledger and the UTXO set: the previous
/// value of every proposal and vote the block wrote (in the order written) and the collateral
/// coins its deadline burned.
public struct GovernanceLedgerUndo: Sendable, Equatable {
    public enum Change: Sendable, Equatable {
        case proposal(id: Hash256, previous: GovernanceProposal?)
        case vote(proposalId: Hash256, proTxHash: Hash256, previous: GovernanceVoteRecord?)
    }

    public var changes: [Change] = []
    /// Collateral of slashed proposals, removed from the UTXO set at the deadline block.
    public var burned: [(OutPoint, Coin)] = []

    public init() {}

    public var isEmpty: Bool { changes.isEmpty && burned.isEmpty }

    public static func == (lhs: GovernanceLedgerUndo, rhs: GovernanceLedgerUndo) -> Bool {
        lhs.changes == rhs.changes && lhs.burned.count == rhs.burned.count
            && zip(lhs.burned, rhs.burned).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// The collateral outpoints to burn (in the order the tally closed them).
    public var burnedOutPoints: [OutPoint] { burned.map(\.0) }

    public func encode(to writer: inout ByteWriter) {
        writer.writeCompactSize(UInt64(changes.count))
        for change in changes {
            switch change {
            case .proposal(let id, let previous):
                writer.write(UInt8(previous == nil ? 0 : 1))
                writer.write(id)
                previous?.encode(to: &writer)
            case .vote(let proposalId, let proTxHash, let previous):
                writer.write(UInt8(previous == nil ? 2 : 3))
                writer.write(proposalId)
                writer.write(proTxHash)
                previous?.encode(to: &writer)
            }
        }
        writer.writeCompactSize(UInt64(burned.count))
        for (outpoint, coin) in burned {
            outpoint.encode(to: &writer)
            coin.encode(to: &writer)
        }
    }

    public static func decode(from reader: inout ByteReader) throws -> GovernanceLedgerUndo {
        var undo = GovernanceLedgerUndo()
        let count = try reader.readCount("change_count", limit: 10_000_000, minimumItemSize: 33)
        for index in 0..<count {
            try reader.within("change", index: index) { reader in
                let at = reader.offset
                let kind = try reader.readUInt8("kind")
                switch kind {
                case 0, 1:
                    let id = try reader.readHash("id")
                    let previous = kind == 1 ? try GovernanceProposal.decode(from: &reader) : nil
                    undo.changes.append(.proposal(id: id, previous: previous))
                case 2, 3:
                    let proposalId = try reader.readHash("proposal_id"), proTxHash = try reader.readHash("pro_tx_hash")
                    let previous = kind == 3 ? try GovernanceVoteRecord.decode(from: &reader) : nil
                    undo.changes.append(.vote(proposalId: proposalId, proTxHash: proTxHash, previous: previous))
                default:
                    throw reader.invalid("kind", at: at, "change kind \(kind), expected 0...3")
                }
            }
        }
        let burnedCount = try reader.readCount("burned_count", limit: 1_000_000, minimumItemSize: 36 + 18)
        for _ in 0..<burnedCount {
            undo.burned.append((try OutPoint.decode(from: &reader), try Coin.decode(from: &reader)))
        }
        return undo
    }
}
