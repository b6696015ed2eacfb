import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives
import Quorums
import Testing
import TestSupport

/// Quorums in the chain state (PROTOCOL section 17.5): a mined commitment forms a quorum,
/// penalizes the members it leaves out, enters the state root; reorganisations restore the
/// set and the penalties exactly; rotations follow `activeCount` and health; the set
/// survives a reopen.
@Suite(.serialized)
struct QuorumChainTests {
    static func rejection(_ body: () throws -> Void) -> RuleName? {
        do { try body() } catch let error as ChainStateError {
            if case .rejected(let rejection, _, _) = error { return rejection.rule }
        } catch let rejection as Rejection {
            return rejection.rule
        } catch {}
        return nil
    }

    @Test("a mined commitment forms a quorum, penalizes the absent member, is in the state root; a reorganisation across it restores everything; a reopen keeps it")
    func commitmentReorganisationAndReopen() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var q = try QuorumChain(directory: directory, masternodes: 7)
        let expected = try Self.mineAndReorganise(&q)
        // Reopen: the set comes from its column family, and the chain goes on.
        try q.reopen(directory: directory)
        #expect(q.state.quorums == expected)
        try q.extend(to: q.state.tip.height + 1)
        #expect(q.state.quorums.active(type: q.type).count == 1)
    }

    /// Mines a commitment, checks it, reorganises away from it and back; flushes and returns the set.
    static func mineAndReorganise(_ q: inout QuorumChain) throws -> QuorumSet {
        try q.extend(to: 127)
        let members = try q.members(start: 120)
        #expect(members.count == 5)
        let listBefore = q.state.masternodes
        #expect(q.state.quorums.isEmpty)
        let commitment = try q.commitment(start: 120, valid: [0, 1, 2, 3], signers: [0, 1, 2])
        // Not yet: height 128 is the window's first block.
        #expect(Self.rejection { _ = try q.state.checkQuorumCommitment(commitment) } == nil)
        try q.extend(with: [commitment])
        let state: ChainState = q.state

        let active = state.quorums.active(type: q.type)
        #expect(active.count == 1)
        #expect(active.first?.quorumHash == state.active[120].hash && active.first?.quorumHeight == 120 && active.first?.minedHeight == 128)
        #expect(active.first?.members == members.map(\.proTxHash))
        #expect(active.first?.validMemberIDs == members.prefix(4).map(\.proTxHash))
        // Proof of service: the member left out, and only it.
        let absent = try #require(state.masternodes[members[4].proTxHash])
        #expect(absent.penalty == state.masternodeParameters.penaltyMissedCommitment && absent.penaltyHeight == 128)
        for member in members.prefix(4) { #expect(state.masternodes[member.proTxHash]?.penalty == 0) }
        // The header commits to the quorum root.
        var list = state.masternodes
        let quorumRoot = state.quorums.root(parameters: state.quorumParameters)
        #expect(quorumRoot == Merkle.root(of: active.map(\.leafHash)) && quorumRoot != .zero)
        let witnessRoot = Merkle.root(of: q.chain.last!.transactions.map(\.wtxid))
        #expect(q.chain.last!.header.stateRoot == DomainKeys.stateRoot(witnessRoot: witnessRoot,
                                                                        extensionRoot: ExtensionRoot.compute(masternodes: list.root(), quorums: quorumRoot)))
        // A block that leaves the quorum root out is invalid; the commitment cannot be mined twice.
        var wrong = try q.block([])
        TestBlocks.seal(&wrong, extensionRoot: ExtensionRoot.compute(masternodes: list.root()))
        #expect(Self.rejection { _ = try state.accept(wrong) } == .blockStateRoot)
        #expect(Self.rejection { _ = try state.checkQuorumCommitment(commitment) } == .quorumDuplicate)

        // The main chain to 131, then a longer branch from 127 without the commitment.
        try q.extend(to: 131)
        let mainChain = q.chain
        let afterMined = (list: state.masternodes, quorums: state.quorums)
        let listAt127 = try state.masternodeList(at: 127)
        #expect(listAt127 == listBefore)
        var branch = [Block]()
        var parent = mainChain[126].header
        for index in 0..<5 {
            var listCopy = listAt127
            let block = TestBlocks.next(after: parent, parameters: QuorumChain.parameters,
                                        coinbaseOutputs: [TxOut(value: Amount(baseUnits: 2)!, lockScript: [0x51])], transactions: [],
                                        extensionRoot: ExtensionRoot.compute(masternodes: listCopy.root()), extraNonce: UInt32(index + 1))
            branch.append(block)
            parent = block.header
        }
        for block in branch { _ = try state.accept(block) }
        #expect(state.tip.hash == branch.last!.hash)
        #expect(state.quorums.isEmpty)
        #expect(state.masternodes == listBefore, "the penalty is reverted with the block")
        // Back to the main chain (two more blocks): set and penalties as they were.
        parent = mainChain.last!.header
        var mainList = afterMined.list
        let mainRoot = ExtensionRoot.compute(masternodes: mainList.root(), quorums: afterMined.quorums.root(parameters: state.quorumParameters))
        for _ in 0..<2 {
            let block = TestBlocks.next(after: parent, parameters: QuorumChain.parameters,
                                        coinbaseOutputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [0x51])], transactions: [],
                                        extensionRoot: mainRoot)
            _ = try state.accept(block)
            q.chain.append(block)
            parent = block.header
        }
        #expect(state.tip.hash == parent.hash)
        #expect(state.quorums == afterMined.quorums)
        #expect(state.masternodes == afterMined.list)

        try state.flush()
        return state.quorums
    }

    @Test("a crash after a commitment block: the replay at the next open rebuilds the set and the penalty; a read-only reader sees the last flush")
    func crashReplay() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var q = try QuorumChain(directory: directory, masternodes: 7)
        try q.extend(to: 127)
        try q.state.flush()
        let absent = try q.members(start: 120)[4].proTxHash
        try q.extend(with: [try q.commitment(start: 120, valid: [0, 1, 2, 3])])
        try q.extend(to: 130)
        let expected = (quorums: q.state.quorums, list: q.state.masternodes)
        #expect(expected.quorums.count == 1 && expected.list[absent]?.penalty == q.state.masternodeParameters.penaltyMissedCommitment)
        let reader = try ChainState(directory: directory, parameters: QuorumChain.parameters, readOnly: true)
        #expect(reader.quorums.isEmpty && reader.tip.height == 127)
        try q.reopen(directory: directory)  // no flush: as if killed
        #expect(q.state.replayedBlocks == 3)
        #expect(q.state.quorums == expected.quorums)
        #expect(q.state.masternodes == expected.list)
        try q.extend(to: 131)
    }

    @Test("the deferred-signature path (verify-chain's) connects the same quorum set and stores it when confirmed")
    func deferredConnections() throws {
        let directory = Fixtures.temporaryDirectory(), other = Fixtures.temporaryDirectory()
        defer {
            try? FileManager.default.removeItem(atPath: directory)
            try? FileManager.default.removeItem(atPath: other)
        }
        var q = try QuorumChain(directory: directory, masternodes: 7)
        try q.extend(to: 127)
        try q.extend(with: [try q.commitment(start: 120, valid: [0, 1, 2, 3])])
        try q.extend(to: 145)
        var deferred: ChainState? = try ChainState(directory: other, parameters: QuorumChain.parameters, cacheMiB: 64)
        for block in q.chain.prefix(120) { try deferred!.accept(block) }
        let blocks = q.chain.dropFirst(120)
        for block in blocks { _ = try deferred!.connectDeferred(block, txids: block.transactions.map(\.txid)) }
        #expect(deferred!.quorums == q.state.quorums && deferred!.masternodes == q.state.masternodes)
        try deferred!.confirmDeferred(blocks.count)
        try deferred!.flush()
        deferred = nil
        deferred = try ChainState(directory: other, parameters: QuorumChain.parameters, cacheMiB: 64)
        #expect(deferred!.quorums == q.state.quorums && deferred!.masternodes == q.state.masternodes)
    }

    @Test("rotation: the oldest quorum leaves after activeCount newer ones at the next DKG start, an unhealthy one at the next start after it lost members, a null commitment at the next start")
    func rotation() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var q = try QuorumChain(directory: directory, masternodes: 7)
        let state: ChainState = q.state
        var keys = [QuorumKey]()
        for (start, valid) in [(UInt64(120), [0, 1, 2, 3, 4]), (144, [0, 1, 2, 3, 4]), (168, [0, 1, 2])] {
            try q.extend(to: start + 7)
            try q.extend(with: [try q.commitment(start: start, valid: valid, groupSeed: UInt8(start & 0xFF))])
            keys.append(QuorumKey(type: q.type.id, quorumHash: state.active[Int(start)].hash))
        }
        let (a, b, c) = (keys[0], keys[1], keys[2])
        #expect(state.quorums.active(type: q.type).map(\.key) == [c, b])
        #expect(state.quorums[a] != nil, "kept until the next DKG start")
        try q.extend(to: 191)
        #expect(state.quorums[a] != nil)
        try q.extend(to: 192)
        #expect(state.quorums[a] == nil && state.quorums.count == 2)
        #expect(state.quorums.active(type: q.type).map(\.key) == [c, b])

        // C has exactly `threshold` valid members: revoking one makes it unhealthy, which
        // counts at the next DKG start only.
        let revoked = try #require(state.quorums[c]?.validMemberIDs.first)
        try q.extend(with: [try q.revoke(revoked)])
        #expect(state.masternodes[revoked]?.isBanned == true)
        try q.extend(to: 215)
        #expect(state.quorums.active(type: q.type).map(\.key) == [c, b])
        try q.extend(to: 216)
        #expect(state.quorums.active(type: q.type).map(\.key) == [b])
        #expect(state.quorums[c] == nil)

        // A null commitment closes the window at its last height (231), is recorded, never
        // serves, and leaves at the next start.
        try q.extend(to: 230)
        let null = QuorumCommitmentPayload.null(quorumType: q.type.id, quorumHash: state.active[216].hash, quorumHeight: 216, size: q.type.size)
        try q.extend(with: [null.transaction])
        let nullKey = QuorumKey(type: q.type.id, quorumHash: state.active[216].hash)
        #expect(state.quorums[nullKey]?.isNull == true)
        #expect(state.quorums.active(type: q.type).map(\.key) == [b])
        #expect(Self.rejection { _ = try state.checkQuorumCommitment(try q.commitment(start: 216, valid: [0, 1, 2, 3, 4])) } == .quorumWindow)
        try q.extend(to: 240)
        #expect(state.quorums[nullKey] == nil)
        #expect(state.quorums.active(type: q.type).map(\.key) == [b])
        var list = state.masternodes
        let witnessRoot = Merkle.root(of: q.chain.last!.transactions.map(\.wtxid))
        let leaves = [state.quorums[b]!.leafHash]
        #expect(q.chain.last!.header.stateRoot == DomainKeys.stateRoot(
            witnessRoot: witnessRoot, extensionRoot: ExtensionRoot.compute(masternodes: list.root(), quorums: Merkle.root(of: leaves))))
    }
}
