import Consensus
import Masternodes
import Primitives

/// A block's quorum effects (PROTOCOL section 17.5), after the masternode rules applied its
/// masternode changes: first each commitment (checked against the chain below the block,
/// in block order) enters the set and, for a non-null one, every selected member outside
/// its valid set gets the missed-commitment penalty; then each type whose DKG starts at
/// this height rotates against the list as it now stands.
public enum QuorumBlockRules {
    /// Checks every `quorum-commitment` of `block` at `context.height`; a second commitment
    /// for one quorum in the same block is a duplicate. Nothing is changed.
    public static func check(_ block: Block, context: QuorumChainContext, parameters: QuorumParameters,
                             masternodeParameters: MasternodeParameters) throws -> [CheckedQuorumCommitment] {
        var checked = [CheckedQuorumCommitment]()
        var seen = Set<QuorumKey>()
        var blockContext = context
        blockContext.isMined = { type, hash in seen.contains(QuorumKey(type: type, quorumHash: hash)) || context.isMined(type, hash) }
        for (index, transaction) in block.transactions.enumerated() where index > 0 && transaction.specialType == .quorumCommitment {
            do {
                let commitment = try QuorumCommitmentRules.check(transaction, context: blockContext, parameters: parameters,
                                                                 masternodeParameters: masternodeParameters)
                seen.insert(QuorumKey(type: commitment.type.id, quorumHash: commitment.payload.quorumHash))
                checked.append(commitment)
            } catch let rejection as Rejection {
                throw rejection.at(transaction: index)
            }
        }
        return checked
    }

    /// Applies checked commitments and the rotations of `height` to `set` (undo in the
    /// returned value) and the penalties to `list` (undo in `listUndo`).
    public static func apply(_ commitments: [CheckedQuorumCommitment], height: UInt64, to set: inout QuorumSet,
                             list: inout MasternodeList, listUndo: inout MasternodeListUndo, parameters: QuorumParameters,
                             masternodeParameters: MasternodeParameters) -> QuorumSetUndo {
        var undo = QuorumSetUndo()
        for commitment in commitments {
            set.insert(QuorumEntry(commitment, minedHeight: height), undo: &undo)
            guard !commitment.payload.isNull else { continue }
            for (index, member) in commitment.members.enumerated() where !commitment.payload.validMembers[index] {
                ProofOfService.penalize(member.proTxHash, points: masternodeParameters.penaltyMissedCommitment, height: height,
                                        list: &list, undo: &listUndo, parameters: masternodeParameters)
            }
        }
        for type in parameters.sorted where type.schedule.isDKGStart(height) {
            set.rotate(type: type, height: height, list: list, parameters: masternodeParameters, undo: &undo)
        }
        return undo
    }
}
