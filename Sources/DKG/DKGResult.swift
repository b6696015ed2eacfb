import BLAKE3
import Ed25519
import Primitives

/// A successful run, as seen by one member. Everything but `signingShare` is public and the
/// same at every honest member; the final on-chain commitment carries `qualifiedBitset`,
/// `groupKey` and `verificationVectorHash` (its byte layout and signed hash belong to Quorums).
public struct DKGResult: Sendable, Equatable {
    public let session: DKGSession
    public let identifier: UInt16
    /// Q: the members whose contributions count, sorted.
    public let qualified: [UInt16]
    /// sum over Q of C_i0: the quorum's Ed25519 public key.
    public let groupKey: Ed25519.Point
    /// V_k = sum over Q of C_ik (k = 0 ..< threshold): commits to the group polynomial.
    public let verificationVector: [Ed25519.Point]
    public let verificationVectorHash: Hash256
    /// Y_m = sum_k m^k V_k for every member m (index m - 1): checks m's signature shares.
    public let verificationShares: [Ed25519.Point]
    /// sum over Q of f_i(identifier): this member's share of the group secret.
    public let signingShare: Ed25519.Scalar
    /// Why each member outside Q is out (members in Q have no entry).
    public let faults: [UInt16: DKGFault]

    static let vectorKey = DomainKeys.key(purpose: "dkg verification vector")

    /// keyed_hash(K_dkg verification vector, V_0 || ... || V_{t-1}).
    public static func hash(verificationVector: [Ed25519.Point]) -> Hash256 {
        Hash256(bytes: BLAKE3.keyedHash(key: vectorKey, verificationVector.flatMap(\.encoded)))!
    }

    /// Bit (m - 1) set for every m in Q: byte (m - 1) / 8, bit (m - 1) % 8 (least significant first).
    public var qualifiedBitset: [UInt8] {
        var bits = [UInt8](repeating: 0, count: (session.memberCount + 7) / 8)
        for member in qualified { bits[Int(member - 1) / 8] |= 1 << UInt8(Int(member - 1) % 8) }
        return bits
    }

    public var threshold: Int { session.threshold }

    public func verificationShare(of member: UInt16) -> Ed25519.Point? {
        member >= 1 && Int(member) <= verificationShares.count ? verificationShares[Int(member) - 1] : nil
    }
}

/// Why a run produced no key: fewer than `threshold` members qualified. Every honest member
/// that received the same messages sees the same failure (late messages can split views;
/// the commitment mined on chain is what settles the outcome).
public struct DKGFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let qualified: [UInt16]
    public let threshold: Int
    public let faults: [UInt16: DKGFault]

    public var description: String {
        "DKG failed: \(qualified.count) qualified members, \(threshold) needed (\(faults.count) disqualified)"
    }
}

public enum DKGOutcome: Sendable, Equatable {
    case success(DKGResult)
    case failure(DKGFailure)

    public var result: DKGResult? { if case let .success(result) = self { return result } else { return nil } }
}
