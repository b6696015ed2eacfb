import BLAKE3
import Primitives

/// Which active quorum answers a signing request (DESIGN 10: chosen deterministically from
/// the request id among the active quorums, DIP-7's shape): the one whose
/// keyed_hash(K_"quorum select", quorumHash || requestId) is least (compared byte by byte).
/// Every node with the same active set picks the same quorum, and the choice spreads
/// requests evenly without any coordination.
public enum QuorumChoice {
    static let selectKey = DomainKeys.key(purpose: "quorum select")

    /// The score a quorum gets for a request (lower wins).
    public static func score(quorumHash: Hash256, requestID: SigningRequestID) -> Hash256 {
        var input = quorumHash.bytes
        input += requestID.hash.bytes
        return Hash256(bytes: BLAKE3.keyedHash(key: selectKey, input))!
    }

    /// The responsible quorum among `activeQuorumHashes` (their order does not matter); nil
    /// when there is none.
    public static func responsible(for requestID: SigningRequestID, among activeQuorumHashes: [Hash256]) -> Hash256? {
        var best: (quorum: Hash256, score: Hash256)?
        for quorum in activeQuorumHashes {
            let candidate = score(quorumHash: quorum, requestID: requestID)
            // Equal scores mean equal quorum hashes (a duplicate entry): either answer is the same.
            if best.map({ candidate < $0.score }) ?? true { best = (quorum, candidate) }
        }
        return best?.quorum
    }
}
