import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives
import Testing
import TestSupport

/// Payload signatures are verified in the block's signature batch, after the list took the
/// block's changes: a wrong one of every type is still special-signature at its transaction,
/// with the list and tip unchanged, when accepted at the tip, when its header commits to the
/// list without the change, and when a reorganisation connects it.
@Suite(.serialized)
struct MasternodePayloadSignatureTests {
    static let parameters = MasternodeChainTests.parameters
    static let actions: [MasternodeHistory.Action] = [.registerInternal, .updateService, .updateRegistrar, .revoke]

    /// A chain state holding a history with a few masternodes, and that history.
    static func setUp(_ directory: String) throws -> (ChainState, MasternodeHistory, [Block]) {
        let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 64)
        var history = try MasternodeHistory(parameters: parameters, genesis: MasternodeChainTests.genesis, seed: 0x6D6E_51)
        var chain = try MasternodeChainTests.build(&history, on: [], count: 103, actions: 0)
        while (history.list(after: chain.last!.hash)?.count ?? 0) < 4 {
            chain.append(try history.nextBlock(on: chain.last!.header, actions: 4, only: [.registerInternal, .fundCollateral, .registerExternal]))
        }
        for block in chain { try state.accept(block) }
        return (state, history, chain)
    }

    @Test("accept: a wrong payload signature of each type is special-signature at its transaction, whatever root the header commits to")
    func acceptRejectsEachType() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, start, blocks) = try Self.setUp(directory)
        var history = start, chain = blocks
        let listBefore = state.masternodes
        for action in Self.actions {
            for parentRoot in [false, true] {
                let (bad, _) = try history.blockWithBadPayloadSignature(on: chain.last!.header, action, parentRoot: parentRoot)
                RuleTests.expectRejected(state, bad, .specialSignature, transaction: 1)
                #expect(state.masternodes == listBefore, "\(action)")
                // Condemned like any special-signature block: offered again, it is known invalid.
                RuleTests.expectRejected(state, bad, .blockKnownInvalid)
            }
        }
        // The chain still takes valid blocks of every type.
        for action in Self.actions {
            let block = try history.nextBlock(on: chain.last!.header, actions: 2, only: [action])
            #expect(try state.accept(block) == .connected)
            chain.append(block)
        }
        try MasternodeChainTests.expectMatches(state, chain)
    }

    @Test("reorganisation: a branch whose first block has a bad payload signature is refused, and the old tip and list stay")
    func reorganisationRejects() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, start, blocks) = try Self.setUp(directory)
        var history = start, chain = blocks
        let fork = chain.last!.header
        let tip = try history.nextBlock(on: fork, actions: 2, only: [.updateService])
        #expect(try state.accept(tip) == .connected)
        chain.append(tip)
        let listAtTip = state.masternodes
        let (bad, extensionRoot) = try history.blockWithBadPayloadSignature(on: fork, .updateRegistrar)
        #expect(try state.accept(bad) == .sideBranch)
        let reward = TxOut(value: Self.parameters.subsidy(height: bad.header.height + 1), lockScript: history.newWalletKey().lockScript)
        let heavier = TestBlocks.next(after: bad.header, parameters: Self.parameters, coinbaseOutputs: [reward], transactions: [],
                                      extensionRoot: extensionRoot)
        do {
            try state.accept(heavier)
            Issue.record("the branch with the bad payload signature was accepted")
        } catch ChainStateError.rejected(let rejection, let height, let hash) {
            #expect(rejection.rule == .specialSignature && rejection.transaction == 1, "\(rejection)")
            #expect(hash == bad.hash && height == bad.header.height)
        }
        #expect(state.tip.hash == tip.hash && state.masternodes == listAtTip)
        try MasternodeChainTests.expectMatches(state, chain)
    }
}
