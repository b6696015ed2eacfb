// The chain's own chain-lock signers: the active quorums of the network's chain-lock type
// (PROTOCOL section 17.5) with their group keys.

import Primitives
import QuorumServices
import Quorums

extension ChainState {
    /// The active chain-lock quorums after the tip with their group keys; nil when the
    /// network names no chain-lock quorum type.
    public var chainLockSigners: ChainLockSigners? { Self.chainLockSigners(quorums, parameters: quorumParameters) }

    /// `quorums`' active quorums of `parameters`' chain-lock type (a snapshot's quorum set as well as the tip's).
    public static func chainLockSigners(_ quorums: QuorumSet, parameters: QuorumParameters) -> ChainLockSigners? {
        guard let id = parameters.chainLockType, let type = parameters[id] else { return nil }
        var keys = [Hash256: [UInt8]]()
        for entry in quorums.active(type: type) { keys[entry.quorumHash] = entry.groupKey }
        return ChainLockSigners(quorumType: id.rawValue, groupKeys: keys)
    }

    /// `accept(chainLock:signers:)` against the chain's own active chain-lock quorums.
    public func accept(chainLock lock: ChainLock) throws -> ChainLockAcceptance {
        guard let signers = chainLockSigners else { throw ChainLockError.noActiveQuorum }
        return try accept(chainLock: lock, signers: signers)
    }
}

extension ChainService {
    /// See `ChainState.accept(chainLock:)`.
    public func accept(chainLock: ChainLock) throws -> ChainState.ChainLockAcceptance {
        try withWriter { try $0.accept(chainLock: chainLock) }
    }
}
