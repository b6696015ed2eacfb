import ChainState
import Consensus
import Ed25519
import Foundation
import Governance
import Masternodes
import Primitives
import Testing
import TestSupport

/// Tally, execution and collateral at the deadline through the chain state (PROTOCOL 18.5-18.7):
/// a governed block size applies from its activation height exactly, reorganisations across
/// the deadline and the activation restore everything, slashed collateral is burned and
/// restored, governed masternode collateral applies to new registrations only.
@Suite(.serialized)
struct GovernanceExecutionTests {
    /// Two chain states agree on everything governance touches (and the coins and the list).
    static func expectSame(_ a: ChainState, _ b: ChainState, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(a.tip.hash == b.tip.hash, sourceLocation: sourceLocation)
        #expect(a.governance.computedRoot == b.governance.computedRoot, sourceLocation: sourceLocation)
        #expect(a.governance.proposals == b.governance.proposals, sourceLocation: sourceLocation)
        #expect(a.governance.executedChanges == b.governance.executedChanges, sourceLocation: sourceLocation)
        for id in a.governance.proposals.keys { #expect(a.governance.votes(of: id) == b.governance.votes(of: id), sourceLocation: sourceLocation) }
        for height in 0...(a.tip.height + 2) {
            #expect(a.parametersInForce(atHeight: height) == b.parametersInForce(atHeight: height), "height \(height)", sourceLocation: sourceLocation)
        }
        #expect(a.masternodes.computedRoot == b.masternodes.computedRoot, sourceLocation: sourceLocation)
        let (sa, sb) = (try a.utxoSummary(), try b.utxoSummary())
        #expect(sa.digest == sb.digest && sa.count == sb.count, sourceLocation: sourceLocation)
    }

    /// A transaction of about 120 kB: 3,500 outputs back to the wallet.
    static func large(_ chain: GovernanceChain) throws -> Transaction {
        let coin = try chain.coin(atLeast: Amount(baseUnits: 100_000)!)
        let outputs = Array(repeating: TxOut(value: Amount(baseUnits: 1)!, lockScript: chain.wallet.lockScript), count: 3_500)
            + [TxOut(value: Amount(baseUnits: coin.output.value.baseUnits - 3_500 - GovernanceChain.fee.baseUnits)!, lockScript: chain.wallet.lockScript)]
        return TestTransactions.spend([coin], to: outputs)
    }

    @Test("an approved block-size change applies from its activation height on, not a block before; reorganisations across it are exact both ways")
    func blockSizeActivationAndReorganisation() throws {
        let a = try GovernanceChain(masternodes: 10, seed: 21)
        defer { a.remove() }
        let subjectDirectory = a.directory + "-subject"
        defer { try? FileManager.default.removeItem(atPath: subjectDirectory) }
        var subject: ChainState? = try ChainState(directory: subjectDirectory, parameters: GovernanceChain.parameters, cacheMiB: 64)
        for block in a.blocks { try subject!.accept(block) }

        let proposal = try a.proposal(.maxBlockBytes, 100_000, voting: 4, delay: 2)
        let proposalHeight = a.height + 1
        try a.mine([proposal])
        let forkHeight = a.height
        try a.mine([a.vote(0, on: proposal.txid, .yes), a.vote(1, on: proposal.txid, .yes), a.vote(2, on: proposal.txid, .abstain)])
        let deadline = proposalHeight + 4
        try a.mine(to: deadline)
        let closed = try #require(a.state.governance.proposal(proposal.txid)?.closing)
        #expect(closed.result == .approved && closed.tally == GovernanceTally(yes: 2, no: 0, abstain: 1, validMasternodes: 10))
        #expect(closed.activationHeight == deadline + 2)
        #expect(a.state.parametersInForce(atHeight: deadline + 1).maxBlockBytes == 4_000_000)
        #expect(a.state.parametersInForce(atHeight: deadline + 2).maxBlockBytes == 100_000)
        // One block before the activation a large block is valid; at the activation it is not.
        try a.mine([try Self.large(a)])
        GovernanceRuleTests.expectRejected(a, [try Self.large(a)], .blockSize, transaction: nil)
        try a.mine([])
        for block in a.blocks { try subject!.accept(block) }  // known ones are duplicates
        try Self.expectSame(subject!, a.state)

        // Branch B from before the votes: the proposal is rejected, the old limit stays.
        let b = try GovernanceChain(prefixOf: a, height: forkHeight)
        defer { b.remove() }
        try b.mine(to: a.height)
        try b.mine([try Self.large(b)])
        #expect(b.state.governance.proposal(proposal.txid)?.closing?.result == .rejected)
        for block in b.blocks { try subject!.accept(block) }
        #expect(subject!.tip.hash == b.state.tip.hash)
        #expect(subject!.parametersInForce(atHeight: deadline + 2).maxBlockBytes == 4_000_000)
        try Self.expectSame(subject!, b.state)

        // Back to A, longer now: the change is in force again, and survives a restart without a flush.
        try a.mine([])
        try a.mine([])
        for block in a.blocks { try subject!.accept(block) }  // known ones are duplicates
        #expect(subject!.tip.hash == a.state.tip.hash && subject!.parametersInForce(atHeight: a.height + 1).maxBlockBytes == 100_000)
        try Self.expectSame(subject!, a.state)
        subject = nil
        subject = try ChainState(directory: subjectDirectory, parameters: GovernanceChain.parameters, cacheMiB: 64)
        try Self.expectSame(subject!, a.state)
    }

    @Test("slashed: the collateral leaves the UTXO set at the deadline block and returns when it disconnects; the others unlock")
    func slashAndUnlock() throws {
        let chain = try GovernanceChain(masternodes: 10, seed: 22)
        defer { chain.remove() }
        let spam = try chain.proposal(.finalityDepth, 50, voting: 4)
        let fair = try chain.proposal(.minRelayFeeRate, 1_500, voting: 4)
        try chain.mine([spam, fair])
        let spamCollateral = OutPoint(txid: spam.txid, index: 0), fairCollateral = OutPoint(txid: fair.txid, index: 0)
        try chain.mine([chain.vote(0, on: spam.txid, .no), chain.vote(1, on: spam.txid, .no), chain.vote(2, on: spam.txid, .yes),
                        chain.vote(3, on: fair.txid, .yes), chain.vote(4, on: fair.txid, .no)])
        let deadline = try #require(chain.state.governance.proposal(spam.txid)).payload.deadlineHeight
        try chain.mine(to: deadline - 1)
        #expect(try chain.state.utxo.coin(spamCollateral) != nil)
        let beforeDeadline = try chain.state.utxoSummary()
        try chain.mine([])
        #expect(chain.state.governance.proposal(spam.txid)?.closing?.result == .slashed)
        #expect(chain.state.governance.proposal(fair.txid)?.closing?.result == .rejected)
        #expect(try chain.state.utxo.coin(spamCollateral) == nil)
        #expect(try chain.state.utxo.coin(fairCollateral) != nil)
        let afterDeadline = try chain.state.utxoSummary()
        #expect(afterDeadline.total.baseUnits + chain.governance.collateral.baseUnits
                == beforeDeadline.total.baseUnits + GovernanceChain.parameters.subsidy(height: deadline).baseUnits)
        GovernanceRuleTests.expectRejected(chain, [chain.spendCollateral(of: spam)], .txMissingInput)
        try chain.mine([chain.spendCollateral(of: fair)])

        // A branch from before the deadline: the burn is undone, the collateral locked again.
        let branch = try GovernanceChain(prefixOf: chain, height: deadline - 1)
        defer { branch.remove() }
        try branch.mine([branch.vote(5, on: spam.txid, .yes)])  // the deadline block of the branch: now 2 yes, 2 no
        try branch.mine([])
        try branch.mine([])
        for block in branch.blocks.suffix(3) { try chain.state.accept(block) }
        #expect(chain.state.tip.hash == branch.state.tip.hash)
        #expect(chain.state.governance.proposal(spam.txid)?.closing?.result == .rejected)
        #expect(try chain.state.utxo.coin(spamCollateral) != nil)
        try Self.expectSame(chain.state, branch.state)
    }

    @Test("governed masternode collateral: registrations from the activation lock the new amount, earlier ones keep theirs; none on a locked collateral")
    func masternodeCollateral() throws {
        let chain = try GovernanceChain(masternodes: 4, seed: 23)
        defer { chain.remove() }
        let old = chain.state.masternodeParameters.collateral
        let newCollateral = chain.governance.collateral  // the proposal collateral's amount, so one can be offered as a masternode's
        let proposal = try chain.proposal(.masternodeCollateral, newCollateral.baseUnits, voting: 4, delay: 1)
        try chain.mine([proposal])
        try chain.mine([chain.vote(0, on: proposal.txid, .yes)])
        let deadline = try #require(chain.state.governance.proposal(proposal.txid)).payload.deadlineHeight
        try chain.mine(to: deadline)
        #expect(chain.state.masternodeParameters(atHeight: deadline).collateral == old)
        #expect(chain.state.masternodeParameters(atHeight: deadline + 1).collateral == newCollateral)
        let before = chain.state.masternodes.count
        try chain.registerMasternodes(1)
        let added = try #require(chain.state.masternodes[chain.proTxHashes.last!])
        #expect(chain.state.masternodes.count == before + 1)
        #expect(try chain.state.utxo.coin(added.collateral)?.output.value == newCollateral)
        // A registration naming an open proposal's collateral (same amount, the wallet's key) is refused.
        let other = try chain.proposal(.finalityDepth, 9)
        try chain.mine([other])
        var random = SeededGenerator(seed: 77)
        var keys = TestMasternodeKeys(using: &random)
        keys.collateral = chain.wallet
        let register = TestTransactions.special(
            keys.registerPayload(collateral: OutPoint(txid: other.txid, index: 0), service: ServiceAddress(ipv4: (10, 7, 7, 7), port: 9999),
                                 payoutScript: [0x51]),
            signer: keys.collateral, spending: [try chain.coin(atLeast: Amount(baseUnits: 10_000)!)],
            to: [TxOut(value: Amount(baseUnits: 5_000)!, lockScript: [0x51])])
        GovernanceRuleTests.expectRejected(chain, [register], .governanceCollateralLocked)
    }

    @Test("the bulk path (connectDeferred): the same ledger as accept, vote signatures in the block's batch; a bad one is rejectDeferred's special-signature")
    func deferredConnections() throws {
        let chain = try GovernanceChain(masternodes: 4, seed: 24)
        defer { chain.remove() }
        let floor = chain.height
        let proposal = try chain.proposal(.finalityDepth, 30, voting: 4)
        try chain.mine([proposal])
        try chain.mine([chain.vote(0, on: proposal.txid, .no), chain.vote(1, on: proposal.txid, .no)])
        try chain.mine(to: try #require(chain.state.governance.proposal(proposal.txid)).payload.deadlineHeight)
        #expect(chain.state.governance.proposal(proposal.txid)?.closing?.result == .slashed)

        let other = chain.directory + "-deferred"
        defer { try? FileManager.default.removeItem(atPath: other) }
        let deferred = try ChainState(directory: other, parameters: GovernanceChain.parameters, cacheMiB: 64)
        for block in chain.blocks.prefix(Int(floor)) { try deferred.accept(block) }
        var connections = [DeferredConnection]()
        for block in chain.blocks.dropFirst(Int(floor)) {
            connections.append(try deferred.connectDeferred(block, txids: block.transactions.map(\.txid)))
        }
        let verifier = CPUSignatureVerifier(backend: .auto)
        for connection in connections { #expect(try verifier.verify(connection.signatures).allSatisfy { $0 }) }
        try deferred.confirmDeferred(connections.count)
        try Self.expectSame(deferred, chain.state)

        // A vote whose owner signature fails: connected, then rejected when its batch fails.
        let proposal2 = try chain.proposal(.minRelayFeeRate, 1_500)
        try chain.mine([proposal2])
        try deferred.accept(chain.blocks.last!)
        // Sealed as a dishonest builder would: the root of the ledger as if the signature verified.
        var badBlock = chain.block([chain.vote(3, on: proposal2.txid, .yes, signer: chain.wallet)])
        var ledger = chain.state.governance, list = chain.state.masternodes
        let quorums = chain.state.quorums
        var unverified: PayloadSignatureChecks? = PayloadSignatureChecks()
        let context = GovernanceRules.Context(height: chain.height + 1, list: list, parameters: chain.governance,
                                              masternodeParameters: chain.state.masternodeParameters)
        _ = try GovernanceRules.apply(badBlock, txids: badBlock.transactions.map(\.txid), context: context, to: &ledger, coin: { _ in nil },
                                      signatures: &unverified)
        TestBlocks.seal(&badBlock, extensionRoot: ExtensionRoot.compute(masternodes: list.root(), quorums: quorums.root(parameters: chain.state.quorumParameters),
                                                                        governance: ledger.root()))
        let connection = try deferred.connectDeferred(badBlock, txids: badBlock.transactions.map(\.txid))
        let results = try verifier.verify(connection.signatures)
        let failed = try #require(results.firstIndex(of: false))
        #expect(connection.locations[failed].isPayload)
        let error = try deferred.rejectDeferred(index: 0, location: connection.locations[failed])
        guard case .rejected(let rejection, _, _) = error else { Issue.record("\(error)"); return }
        #expect(rejection.rule == .specialSignature && rejection.transaction == 1)
        try Self.expectSame(deferred, chain.state)
    }
}
