import Primitives

/// Why a chain lock was not accepted.
public enum ChainLockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No chain-lock quorum is active: nobody can sign a lock yet.
    case noActiveQuorum
    /// The signing quorum is not the responsible one for the lock's height among the active ones.
    case notResponsibleQuorum(quorum: Hash256, responsible: Hash256)
    /// The signature does not verify under the responsible quorum's group key.
    case badSignature(quorum: Hash256)
    /// Below the best lock's height: a newer lock already covers it.
    case staleHeight(height: UInt64, lockedHeight: UInt64)
    /// Another block is locked at this height (two valid locks at one height: the quorum misbehaved).
    case conflictingLock(height: UInt64, locked: Hash256, offered: Hash256)
    /// The block is known at another height than the lock names.
    case heightMismatch(block: Hash256, blockHeight: UInt64, lockHeight: UInt64)

    public var description: String {
        switch self {
        case .noActiveQuorum: return "no chain-lock quorum is active"
        case let .notResponsibleQuorum(quorum, responsible):
            return "quorum \(quorum.hex) is not the responsible chain-lock quorum (\(responsible.hex) is)"
        case .badSignature(let quorum): return "the signature does not verify under quorum \(quorum.hex)'s key"
        case let .staleHeight(height, locked): return "height \(height) is below the best chain lock's (\(locked))"
        case let .conflictingLock(height, locked, offered):
            return "height \(height) is already locked on \(locked.hex), not \(offered.hex)"
        case let .heightMismatch(block, blockHeight, lockHeight):
            return "block \(block.hex) is at height \(blockHeight), the lock says \(lockHeight)"
        }
    }
}

/// The quorums that may sign chain locks now: the network's chain-lock quorum type and the
/// group key of each active quorum of that type (from the chain's quorum set).
public struct ChainLockSigners: Sendable, Equatable {
    public var quorumType: UInt8
    public var groupKeys: [Hash256: [UInt8]]

    public init(quorumType: UInt8, groupKeys: [Hash256: [UInt8]]) {
        self.quorumType = quorumType
        self.groupKeys = groupKeys
    }

    /// Checks that `lock` was signed by the quorum responsible for its height, with a valid
    /// signature; throws the reason otherwise.
    public func check(_ lock: ChainLock) throws(ChainLockError) {
        guard let responsible = QuorumChoice.responsible(for: ChainLock.requestID(height: lock.height), among: Array(groupKeys.keys)) else {
            throw .noActiveQuorum
        }
        guard responsible == lock.quorumHash else { throw .notResponsibleQuorum(quorum: lock.quorumHash, responsible: responsible) }
        guard let key = groupKeys[responsible], lock.verify(groupKey: key, quorumType: quorumType) else {
            throw .badSignature(quorum: lock.quorumHash)
        }
    }
}
