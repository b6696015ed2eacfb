import Ed25519
import Primitives
import QuorumServices

/// A stand-in chain-lock quorum for tests: a FROST aggregate is a plain Ed25519 signature
/// under the group key, so any seed's key signs locks exactly as a quorum's would.
public struct TestLockQuorum: Sendable {
    public let quorumHash: Hash256
    public let seed: [UInt8]
    public var groupKey: [UInt8] { Ed25519.publicKey(seed: seed) }

    public init(_ tag: UInt8) {
        quorumHash = Hash256(bytes: [UInt8](repeating: tag, count: 32))!
        seed = [UInt8](repeating: tag &+ 0x40, count: 32)
    }

    /// A lock on `blockHash` at `height` signed by this quorum (valid whether or not it is the responsible one).
    public func lock(height: UInt64, blockHash: Hash256, quorumType: UInt8) -> ChainLock {
        var lock = ChainLock(height: height, blockHash: blockHash, quorumHash: quorumHash, signature: [UInt8](repeating: 0, count: 64))
        lock.signature = Ed25519.sign(message: lock.recoveredSignature(quorumType: quorumType).signingDigest, seed: seed)
        return lock
    }

    /// The signer set made of `quorums`.
    public static func signers(_ quorums: [TestLockQuorum], quorumType: UInt8) -> ChainLockSigners {
        ChainLockSigners(quorumType: quorumType, groupKeys: Dictionary(uniqueKeysWithValues: quorums.map { ($0.quorumHash, $0.groupKey) }))
    }

    /// Of `quorums`, the one responsible for the lock at `height`.
    public static func responsible(_ quorums: [TestLockQuorum], height: UInt64) -> TestLockQuorum {
        let hash = QuorumChoice.responsible(for: ChainLock.requestID(height: height), among: quorums.map(\.quorumHash))
        return quorums.first { $0.quorumHash == hash }!
    }
}

/// The stand-in chain-lock quorums the chain-lock tests share: two active quorums of type 100.
public enum TestLockQuorums {
    public static let type: UInt8 = 100
    public static let quorums = [TestLockQuorum(1), TestLockQuorum(2)]
    public static let signers = TestLockQuorum.signers(quorums, quorumType: type)

    /// The responsible quorum's lock on `hash` at `height`.
    public static func lock(height: UInt64, on hash: Hash256) -> ChainLock {
        TestLockQuorum.responsible(quorums, height: height).lock(height: height, blockHash: hash, quorumType: type)
    }
}
