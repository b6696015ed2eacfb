import BLAKE3
import Masternodes
import Primitives

/// Who forms a quorum (PROTOCOL section 17.2, DIP-6's shape): the masternodes valid in the
/// list at the DKG start height, ordered by keyed_hash(K_quorum member, proTxHash ||
/// quorumHash), the first `size` of them. A member's index is its position in that order:
/// bitsets and signatures of the commitment go by it.
public enum QuorumSelection {
    static let memberKey = DomainKeys.key(purpose: "quorum member")

    /// The members of the quorum of `type` whose DKG started at `height` with block
    /// `quorumHash`; `list` is the masternode list after that block. Fewer than `size` when
    /// fewer are valid; a quorum with fewer than `threshold` members is not formed (no
    /// commitment may be mined for it).
    public static func members(list: MasternodeList, quorumHash: Hash256, type: QuorumType, height: UInt64,
                               parameters: MasternodeParameters) -> [MasternodeEntry] {
        let ranked = list.valid(at: height, parameters: parameters).map { (score: score($0.proTxHash, quorumHash: quorumHash), entry: $0) }
        // Scores are distinct for distinct ids (BLAKE3); the id breaks a tie all the same.
        let ordered = ranked.sorted { $0.score != $1.score ? $0.score < $1.score : $0.entry.proTxHash < $1.entry.proTxHash }
        return ordered.prefix(type.size).map(\.entry)
    }

    /// keyed_hash(K_quorum member, proTxHash || quorumHash).
    public static func score(_ proTxHash: Hash256, quorumHash: Hash256) -> Hash256 {
        Hash256(bytes: BLAKE3.keyedHash(key: memberKey, proTxHash.bytes + quorumHash.bytes))!
    }
}
