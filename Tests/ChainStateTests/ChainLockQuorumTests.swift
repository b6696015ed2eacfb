import ChainState
import Foundation
import Primitives
import QuorumServices
import Quorums
import Testing
import TestSupport

/// The chain's chain-lock signers come from its quorum set: the active quorums of the
/// network's chain-lock type, with their group keys.
struct ChainLockQuorumTests {
    static func entry(_ type: QuorumTypeID, _ tag: UInt8, mined: UInt64) -> QuorumEntry {
        QuorumEntry(type: type, quorumHash: Hash256(bytes: [UInt8](repeating: tag, count: 32))!, quorumHeight: mined - 2, minedHeight: mined,
                    members: [Hash256(bytes: [UInt8](repeating: tag, count: 32))!], validMembers: QuorumBitset(count: 1, setting: [0]), groupKey: TestLockQuorum(tag).groupKey,
                    verificationVectorHash: Hash256(bytes: [UInt8](repeating: tag, count: 32))!)
    }

    @Test("signers are the active quorums of the chain-lock type, with their keys")
    func signersFollowTheQuorumSet() throws {
        let parameters = try QuorumParameters(Fixtures.regtest.chain)
        let id = try #require(parameters.chainLockType)
        let type = try #require(parameters[id])
        let other = QuorumTypeID(rawValue: id.rawValue &+ 1)
        var entries = [Self.entry(other, 99, mined: 30)]
        for index in 0...type.activeCount {
            entries.append(Self.entry(id, UInt8(10 + index), mined: UInt64(24 * (index + 1))))
        }
        let set = QuorumSet(entries: entries)
        let signers = try #require(ChainState.chainLockSigners(set, parameters: parameters))
        #expect(signers.quorumType == id.rawValue)
        let active = set.active(type: type)
        #expect(active.count == type.activeCount)
        var expected = [Hash256: [UInt8]]()
        for entry in active { expected[entry.quorumHash] = entry.groupKey }
        #expect(signers.groupKeys == expected)
        #expect(signers.groupKeys[Hash256(bytes: [UInt8](repeating: 99, count: 32))!] == nil)
    }

    @Test("a chain without quorums refuses every lock: no active quorum")
    func noQuorumYet() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        #expect(state.chainLockSigners?.groupKeys.isEmpty == true)
        let genesis = Fixtures.regtest.chain.genesisBlock()
        #expect(throws: ChainLockError.noActiveQuorum) { try state.accept(chainLock: TestLockQuorums.lock(height: 0, on: genesis.hash)) }
    }
}
