import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import QuorumServices
import Testing
import TestSupport

/// Chain locks in the chain state: acceptance (named refusals), the reorganisation rule, and
/// persistence across a restart and a crash replay.
struct ChainLockTests {
    static let type: UInt8 = 100
    static let quorums = [TestLockQuorum(1), TestLockQuorum(2), TestLockQuorum(3)]
    static let signers = TestLockQuorum.signers(quorums, quorumType: type)

    /// The responsible quorum's lock on `block`.
    static func lock(_ block: Block) -> ChainLock {
        TestLockQuorum.responsible(quorums, height: block.header.height).lock(height: block.header.height, blockHash: block.hash, quorumType: type)
    }

    /// `count` coinbase-only blocks on top of `parent`, different from any other branch by `tag`.
    static func branch(from parent: BlockHeader, count: Int, tag: UInt32) -> [Block] {
        var blocks = [Block]()
        var previous = parent
        for _ in 0..<count {
            let height = previous.height + 1
            var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: previous.hash, merkleRoot: .zero,
                                                  stateRoot: .zero, time: previous.time + 150,
                                                  bits: Fixtures.regtest.requiredBits(parentHeight: previous.height, parentTime: previous.time),
                                                  nonce: 0),
                              transactions: [Transaction.coinbase(height: height, extraNonce: tag,
                                                                  outputs: [TxOut(value: Fixtures.regtest.subsidy(height: height), lockScript: [0x51])])])
            ChainGenerator.seal(&block)
            blocks.append(block)
            previous = block.header
        }
        return blocks
    }

    /// A state holding `count` generated blocks (block i at height i + 1).
    static func state(_ directory: String, blocks count: Int = 10) throws -> (ChainState, [Block]) {
        let (blocks, _) = Fixtures.blocks(count, seed: 71, transactions: 2)
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 256)
        for block in blocks { try state.accept(block) }
        return (state, blocks)
    }

    @Test("a longer branch forking below the lock is refused (kept, not invalid); one forking above it is followed")
    func reorganisationRule() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, main) = try Self.state(directory)
        #expect(try state.accept(chainLock: Self.lock(main[7]), signers: Self.signers) == .accepted)
        #expect(state.bestChainLock == Self.lock(main[7]))

        // Forks at height 5 (below the lock at 8) and grows to 13: more work than the tip at 10.
        let below = Self.branch(from: main[4].header, count: 8, tag: 1)
        for block in below { #expect(try state.accept(block) == .sideBranch) }
        #expect(state.tip.hash == main[9].hash)
        #expect(state.chainLockRefusedBranches >= 1)
        #expect(state.invalidBlocks.isEmpty, "the refused branch is a candidate, not invalid")
        #expect(state.bestHeader.hash == main[9].hash, "a header leaving the lock is not the best header")
        #expect(state.takeReorganizations().isEmpty)
        // Its headers too: a header extending it is indexed but not the best header.
        let header = Self.branch(from: below.last!.header, count: 1, tag: 1)[0].header
        #expect(try state.acceptHeader(header) == .added)
        #expect(state.bestHeader.hash == main[9].hash)

        // Forks at height 9 (above the lock): the heavier branch wins as usual.
        let above = Self.branch(from: main[8].header, count: 3, tag: 2)
        #expect(try state.accept(above[0]) == .sideBranch)
        #expect(try state.accept(above[1]) == .connected)
        #expect(try state.accept(above[2]) == .connected)
        #expect(state.tip.hash == above[2].hash)
        #expect(state.takeReorganizations().first?.forkHeight == 9)
    }

    @Test("a lock on a stored block of another branch switches the chain to it; the other branch then stops growing the tip")
    func lockSwitchesBranch() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, main) = try Self.state(directory)
        let side = Self.branch(from: main[4].header, count: 3, tag: 3) // heights 6...8, less work than the tip at 10
        for block in side { #expect(try state.accept(block) == .sideBranch) }
        #expect(try state.accept(chainLock: Self.lock(side[1]), signers: Self.signers) == .accepted)
        #expect(state.tip.hash == side[2].hash, "the most-work stored chain through the locked block")
        let reorganization = try #require(state.takeReorganizations().first)
        #expect(reorganization.forkHeight == 5 && reorganization.oldTip == main[9].hash)

        let mainChild = Self.branch(from: main[9].header, count: 1, tag: 4)[0]
        #expect(try state.accept(mainChild) == .sideBranch)
        let sideChild = Self.branch(from: side[2].header, count: 1, tag: 4)[0]
        #expect(try state.accept(sideChild) == .connected)
        // The snapshot publishes the lock and the height below which everything is final.
        let snapshot = ChainService(state).snapshot
        #expect(snapshot.chainLock == Self.lock(side[1]) && snapshot.chainLockedHeight == 7)
    }

    @Test("a lock whose block comes later: unknown at first, then the block's arrival moves the chain to it")
    func lockBeforeItsBlock() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, main) = try Self.state(directory)
        let side = Self.branch(from: main[4].header, count: 3, tag: 5)
        #expect(try state.accept(chainLock: Self.lock(side[2]), signers: Self.signers) == .unknownBlock)
        #expect(state.bestChainLock == nil)
        for block in side { try state.accept(block) }
        #expect(state.tip.hash == main[9].hash)
        #expect(try state.accept(chainLock: Self.lock(side[2]), signers: Self.signers) == .accepted)
        #expect(state.tip.hash == side[2].hash)

        // Header first, block later: the lock is taken on the header, the switch waits for the block.
        let later = Self.branch(from: side[2].header, count: 2, tag: 6)
        let rival = Self.branch(from: side[2].header, count: 3, tag: 7)
        for block in rival { try state.accept(block) }
        #expect(state.tip.hash == rival[2].hash)
        try state.acceptHeader(later[0].header)
        try state.acceptHeader(later[1].header)
        #expect(try state.accept(chainLock: Self.lock(later[1]), signers: Self.signers) == .accepted)
        #expect(state.tip.hash == rival[2].hash, "nothing to switch to before the block is stored")
        try state.accept(later[0])
        try state.accept(later[1])
        #expect(state.tip.hash == later[1].hash)
    }

    @Test("refusals are named: bad signature, wrong quorum, no quorum, stale height, conflicting block, wrong height")
    func refusals() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, main) = try Self.state(directory)
        let good = Self.lock(main[7])
        var forged = good
        forged.signature[10] ^= 0x20
        #expect(throws: ChainLockError.badSignature(quorum: good.quorumHash)) { try state.accept(chainLock: forged, signers: Self.signers) }
        let wrong = try #require(Self.quorums.first { $0.quorumHash != good.quorumHash })
        #expect(throws: ChainLockError.notResponsibleQuorum(quorum: wrong.quorumHash, responsible: good.quorumHash)) {
            try state.accept(chainLock: wrong.lock(height: 8, blockHash: main[7].hash, quorumType: Self.type), signers: Self.signers)
        }
        #expect(throws: ChainLockError.noActiveQuorum) {
            try state.accept(chainLock: good, signers: ChainLockSigners(quorumType: Self.type, groupKeys: [:]))
        }
        let misplaced = TestLockQuorum.responsible(Self.quorums, height: 9).lock(height: 9, blockHash: main[7].hash, quorumType: Self.type)
        #expect(throws: ChainLockError.heightMismatch(block: main[7].hash, blockHeight: 8, lockHeight: 9)) {
            try state.accept(chainLock: misplaced, signers: Self.signers)
        }
        #expect(state.bestChainLock == nil)

        #expect(try state.accept(chainLock: good, signers: Self.signers) == .accepted)
        #expect(try state.accept(chainLock: good, signers: Self.signers) == .duplicate)
        #expect(throws: ChainLockError.staleHeight(height: 7, lockedHeight: 8)) {
            try state.accept(chainLock: Self.lock(main[6]), signers: Self.signers)
        }
        let rival = Self.branch(from: main[6].header, count: 1, tag: 8)[0]
        try state.accept(rival)
        #expect(throws: ChainLockError.conflictingLock(height: 8, locked: main[7].hash, offered: rival.hash)) {
            try state.accept(chainLock: Self.lock(rival), signers: Self.signers)
        }
        #expect(state.bestChainLock == good)
        #expect(try state.accept(chainLock: Self.lock(main[9]), signers: Self.signers) == .accepted)
    }

    @Test("the lock is kept across a restart and obeyed by the crash replay")
    func persistence() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lock: ChainLock
        let below: [Block]
        let main: [Block]
        do {
            // Nothing flushed after genesis: dropping the state is a kill.
            let (state, blocks) = try Self.state(directory)
            main = blocks
            lock = Self.lock(main[7])
            #expect(try state.accept(chainLock: lock, signers: Self.signers) == .accepted)
            below = Self.branch(from: main[4].header, count: 8, tag: 9)
            for block in below { try state.accept(block) }
            #expect(state.tip.hash == main[9].hash)
        }
        do {
            // The replay connects the stored blocks in file order: the heavier branch below the lock stays out.
            let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
            #expect(reopened.bestChainLock == lock)
            #expect(reopened.replayedBlocks > 0)
            #expect(reopened.tip.hash == main[9].hash)
            try reopened.flush()
        }
        let again = try ChainState(directory: directory, parameters: Fixtures.regtest)
        #expect(again.bestChainLock == lock && again.tip.hash == main[9].hash)
        let more = Self.branch(from: below.last!.header, count: 1, tag: 9)[0]
        #expect(try again.accept(more) == .sideBranch)
    }
}
