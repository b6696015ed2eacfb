import ChainParams
import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives
import Testing
import TestSupport

/// The masternode list in the chain state: after every block it equals a from-scratch
/// recomputation over the active chain, through deep reorganisations both ways, past heights,
/// a reopen and a crash replay; the header's state root commits to it.
@Suite(.serialized)
struct MasternodeChainTests {
    /// Regtest with a short list history, so heights beyond it are reachable.
    static let parameters: ConsensusParameters = {
        var chain = Fixtures.regtest.chain
        chain.masternodes.listHistoryBlocks = 40
        return try! ConsensusParameters(chain)
    }()
    static let genesis = parameters.chain.genesisBlock().header

    /// The chain state's list, and its root in the tip's header, against the recomputation over `chain`.
    static func expectMatches(_ state: ChainState, _ chain: [Block], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var expected = try TestBlocks.recomputeMasternodes(chain, parameters: state.masternodeParameters).list
        #expect(state.tip.hash == (chain.last?.hash ?? genesis.hash), sourceLocation: sourceLocation)
        #expect(state.masternodes == expected, "list after height \(state.tip.height)", sourceLocation: sourceLocation)
        if let tip = chain.last {
            let witnessRoot = Merkle.root(of: tip.transactions.map(\.wtxid))
            let stateRoot = DomainKeys.stateRoot(witnessRoot: witnessRoot, extensionRoot: ExtensionRoot.compute(masternodes: expected.root()))
            #expect(tip.header.stateRoot == stateRoot, sourceLocation: sourceLocation)
        }
    }

    static func build(_ history: inout MasternodeHistory, on chain: [Block], count: Int, actions: Int) throws -> [Block] {
        var blocks = [Block]()
        var parent = chain.last?.header ?? genesis
        for _ in 0..<count {
            let block = try history.nextBlock(on: parent, actions: actions)
            blocks.append(block)
            parent = block.header
        }
        return blocks
    }

    @Test("random history: the list equals the recomputation after every block, through reorganisations both ways, at past heights, after a reopen and a crash replay")
    func randomHistory() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var state: ChainState? = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 256)
        var history = try MasternodeHistory(parameters: Self.parameters, genesis: Self.genesis, seed: 0x6D6E_17)
        var chain = [Block]()
        // Coinbases mature after 100 blocks: fund the wallet first.
        for block in try Self.build(&history, on: chain, count: 102, actions: 0) {
            try state!.accept(block)
            chain.append(block)
        }
        #expect(state!.masternodes.isEmpty)
        var registered = Set<Hash256>()
        for index in 0..<90 {
            let block = try history.nextBlock(on: chain.last!.header, actions: index < 20 ? 6 : 4)
            #expect(try state!.accept(block) == .connected)
            chain.append(block)
            try Self.expectMatches(state!, chain)
            registered.formUnion(state!.masternodes.entries.keys)
        }
        let counts = chain.flatMap(\.transactions).reduce(into: [SpecialTransactionType: Int]()) { counts, transaction in
            if let type = transaction.specialType { counts[type, default: 0] += 1 }
        }
        print("[masternodes] \(registered.count) registered, list of \(state!.masternodes.count) at \(state!.tip.height); special transactions \(counts)")
        #expect(registered.count >= 10 && state!.masternodes.count >= 3)
        #expect(SpecialTransactionType.allCases.filter { ![.quorumCommitment, .governanceProposal, .governanceVote].contains($0) }.allSatisfy { (counts[$0] ?? 0) >= 3 }, "\(counts)")
        let revived = state!.masternodes.entries.values.contains { $0.revocationReason == 0 && $0.updatedHeight > $0.registeredHeight }
        #expect(revived || counts[.masternodeUpdateService, default: 0] > 0)

        // Past heights: the reverted undo records against the recomputation at that height.
        for depth in [0, 1, 5, 17, 40] {
            let height = state!.tip.height - UInt64(depth)
            let past = try state!.masternodeList(at: height)
            #expect(past == (try TestBlocks.recomputeMasternodes(Array(chain.prefix(Int(height))), parameters: state!.masternodeParameters).list),
                    "list at height \(height)")
        }
        #expect(throws: MasternodeHistoryError.self) { try state!.masternodeList(at: state!.tip.height - state!.masternodeParameters.listHistoryBlocks - 1) }
        #expect(throws: MasternodeHistoryError.self) { try state!.masternodeList(at: state!.tip.height + 1) }

        // A deep reorganisation to a branch with its own masternode history, then back.
        let forkHeight = chain.count - 16
        let mainChain = chain
        let branch = try Self.build(&history, on: Array(chain.prefix(forkHeight)), count: 18, actions: 5)
        // First a copy of the branch whose 17th block (the one with more work) commits a wrong
        // extension root: the reorganisation fails there and goes back to the old branch exactly.
        var badBlock = branch[16]
        TestBlocks.seal(&badBlock, extensionRoot: Hash256(bytes: [UInt8](repeating: 5, count: 32))!)
        for block in branch.prefix(16) { #expect(try state!.accept(block) == .sideBranch) }
        #expect(throws: ChainStateError.self) { try state!.accept(badBlock) }
        try Self.expectMatches(state!, mainChain)
        #expect(state!.takeReorganizations().isEmpty)
        for block in branch { try state!.accept(block) }
        chain = Array(mainChain.prefix(forkHeight)) + branch
        try Self.expectMatches(state!, chain)
        #expect(state!.masternodes != history.list(after: mainChain.last!.hash)!, "the branch has a different masternode history")
        let reorganizations = state!.takeReorganizations()
        #expect(reorganizations.count == 1 && reorganizations[0].disconnected == 16 && reorganizations[0].connected == 17)
        for height in [chain.count - 1, chain.count - 18, forkHeight - 3] {
            #expect(try state!.masternodeList(at: UInt64(height))
                    == (try TestBlocks.recomputeMasternodes(Array(chain.prefix(height)), parameters: state!.masternodeParameters).list))
        }
        let longer = try Self.build(&history, on: mainChain, count: 3, actions: 4)
        for block in longer { try state!.accept(block) }
        chain = mainChain + longer
        try Self.expectMatches(state!, chain)
        #expect(state!.takeReorganizations().first?.disconnected == 18)

        // Close and reopen: the list comes from its column family.
        try state!.flush()
        state = nil
        state = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 256)
        try Self.expectMatches(state!, chain)
        #expect(try state!.masternodeList(at: UInt64(forkHeight + 2))
                == (try TestBlocks.recomputeMasternodes(Array(chain.prefix(forkHeight + 2)), parameters: state!.masternodeParameters).list),
                "history from the stored undo records")

        // A crash: blocks connected after the last flush are replayed at the next open.
        let flushedChain = chain
        for block in try Self.build(&history, on: chain, count: 6, actions: 5) {
            try state!.accept(block)
            chain.append(block)
        }
        try Self.expectMatches(state!, chain)
        let reader = try ChainState(directory: directory, parameters: Self.parameters, readOnly: true)
        try Self.expectMatches(reader, flushedChain)
        state = nil // no flush: as if killed
        state = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 256)
        #expect(state!.replayedBlocks == 6)
        try Self.expectMatches(state!, chain)
    }

    @Test("a header committing a wrong extension root is block-state-root; an invalid special transaction is rejected with its rule; the list is unchanged; altered witnesses do not condemn the header")
    func rejections() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 64)
        var history = try MasternodeHistory(parameters: Self.parameters, genesis: Self.genesis, seed: 0x6D6E_18)
        var chain = try Self.build(&history, on: [], count: 102, actions: 0)
        chain += try Self.build(&history, on: chain, count: 1, actions: 0)
        // Register until the list holds a few masternodes.
        while (history.list(after: chain.last!.hash)?.count ?? 0) < 3 {
            chain.append(try history.nextBlock(on: chain.last!.header, actions: 4, only: [.registerInternal, .fundCollateral, .registerExternal]))
        }
        for block in chain { try state.accept(block) }
        let listBefore = state.masternodes
        let tipBefore = state.tip.hash
        #expect(!listBefore.isEmpty)

        // Right transactions, wrong commitment: zero (as before masternodes) or another root.
        let next = try history.nextBlock(on: chain.last!.header, actions: 4, only: [.updateService, .registerInternal])
        for wrong in [Hash256.zero, Hash256(bytes: [UInt8](repeating: 7, count: 32))!] {
            var block = next
            TestBlocks.seal(&block, extensionRoot: wrong)
            RuleTests.expectRejected(state, block, .blockStateRoot)
            #expect(state.masternodes == listBefore && state.tip.hash == tipBefore)
        }

        // Special transactions that break a rule, after valid changes earlier in the same
        // block (which must be reverted too).
        let spentByNext = Set(next.transactions.dropFirst().flatMap { $0.inputs.map(\.previousOutput) })
        var generator = SeededGenerator(seed: 3)
        // A service in use once `next`'s own updates are applied.
        let holder = history.list(after: next.hash)!.sorted[0]
        let collateral = state.masternodeParameters.collateral
        guard let feeCoin = history.walletCoin(after: chain.last!.hash, atLeast: Amount(baseUnits: collateral.baseUnits + 2_000)!,
                                               excluding: spentByNext) else {
            Issue.record("no wallet coin")
            return
        }
        let change = TxOut(value: Amount(baseUnits: feeCoin.output.value.baseUnits - 1_000)!, lockScript: history.newWalletKey().lockScript)
        let ghost = MasternodeUpdateServicePayload(proTxHash: Hash256(bytes: [UInt8](repeating: 9, count: 32))!,
                                                   service: ServiceAddress(ipv4: (192, 0, 2, 1), port: 9999))
        let keys = TestMasternodeKeys(using: &generator)
        let duplicate = keys.registerPayload(collateral: OutPoint(txid: .zero, index: 0), service: holder.service, payoutScript: [0x51])
        let cases: [(Transaction, RuleName)] = [
            (TestTransactions.special(ghost, signer: keys.operatorKey, spending: [feeCoin], to: [change]), .masternodeUnknown),
            (TestTransactions.special(duplicate, signer: keys.collateral, spending: [feeCoin],
                                      to: [TxOut(value: collateral, lockScript: keys.collateral.lockScript),
                                           TxOut(value: Amount(baseUnits: change.value.baseUnits - collateral.baseUnits)!, lockScript: change.lockScript)]),
             .masternodeDuplicateService),
        ]
        for (transaction, rule) in cases {
            var bad = next
            bad.transactions.append(transaction)
            TestBlocks.seal(&bad, extensionRoot: ExtensionRoot.compute(masternodes: history.list(after: next.hash)!.computedRoot))
            RuleTests.expectRejected(state, bad, rule, transaction: bad.transactions.count - 1)
            #expect(state.masternodes == listBefore && state.tip.hash == tipBefore)
        }

        // The right header with altered witnesses (anyone relaying can change them): rejected,
        // but the header is not marked invalid, so the true block still connects afterwards.
        var mutated = next
        mutated.transactions[1].witnesses[0].append([9])
        #expect(mutated.hash == next.hash)
        RuleTests.expectRejected(state, mutated, .blockStateRoot)
        #expect(state.masternodes == listBefore && state.tip.hash == tipBefore)
        #expect(try state.accept(next) == .connected)
        try Self.expectMatches(state, chain + [next])
    }
}
