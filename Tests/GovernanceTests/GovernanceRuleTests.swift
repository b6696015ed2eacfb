import ChainState
import Consensus
import Governance
import Masternodes
import Primitives
import Testing
import TestSupport

/// Every governance rule of PROTOCOL section 18 through `ChainState.accept`: each rejection
/// names its rule and leaves the chain (tip, ledger) unchanged, and the valid counterpart connects.
@Suite(.serialized)
struct GovernanceRuleTests {
    static func expectRejected(_ chain: GovernanceChain, _ transactions: [Transaction], _ rule: RuleName, transaction: Int? = 1,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        let block = chain.block(transactions)
        let tipBefore = chain.state.tip.hash, rootBefore = chain.state.governance.computedRoot
        do {
            try chain.state.accept(block)
            Issue.record("block accepted, expected \(rule.rawValue)", sourceLocation: sourceLocation)
        } catch ChainStateError.rejected(let rejection, _, _) {
            #expect(rejection.rule == rule, "\(rejection)", sourceLocation: sourceLocation)
            if let transaction { #expect(rejection.transaction == transaction, "\(rejection)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        #expect(chain.state.tip.hash == tipBefore && chain.state.governance.computedRoot == rootBefore, sourceLocation: sourceLocation)
    }

    @Test("proposal rules: collateral amount and index, whitelist, bounds and step, window, overlap, encoding; a valid one connects")
    func proposalRules() throws {
        let chain = try GovernanceChain(masternodes: 4, seed: 11)
        defer { chain.remove() }
        let g = chain.governance
        let next = chain.height + 1
        let startBlockBytes = g.initialValues[.maxBlockBytes]!
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, collateral: Amount(baseUnits: g.collateral.baseUnits + 1)!)], .governanceCollateral)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, collateralIndex: 7)], .governanceCollateral)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, parameterId: 99)], .governanceParameter)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, g.bounds[.maxBlockBytes]!.range.lowerBound - 1)], .governanceValue)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, startBlockBytes + g.bounds[.maxBlockBytes]!.maxStep + 1)], .governanceValue)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, start: next - 1)], .governanceWindow)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, start: next + g.maxStartDelay + 1)], .governanceWindow)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, voting: g.votingBlocks.lowerBound - 1)], .governanceWindow)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, voting: g.votingBlocks.upperBound + 1)], .governanceWindow)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, delay: g.activationDelay.lowerBound - 1)], .governanceWindow)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000, delay: g.activationDelay.upperBound + 1)], .governanceWindow)
        var truncated = try chain.proposal(.maxBlockBytes, 3_000_000)
        truncated.payload.removeLast()
        Self.expectRejected(chain, [truncated], .governancePayload)

        // The bounds themselves are allowed: a step of exactly maxStep, a window of exactly the extremes.
        let good = try chain.proposal(.maxBlockBytes, startBlockBytes + g.bounds[.maxBlockBytes]!.maxStep, start: next + g.maxStartDelay,
                                      voting: g.votingBlocks.upperBound, delay: g.activationDelay.upperBound)
        try chain.mine([good])
        let stored = try #require(chain.state.governance.proposal(good.txid))
        #expect(stored.isOpen && stored.height == next && chain.state.governance.lockedCollateral(stored.collateral) == good.txid)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 3_000_000)], .governanceOverlap)
        // Another parameter is not an overlap; two proposals on one parameter in one block are.
        let fee = try chain.proposal(.minRelayFeeRate, 2_000)
        Self.expectRejected(chain, [fee, try chain.proposal(.minRelayFeeRate, 3_000)], .governanceOverlap, transaction: 2)
        try chain.mine([try chain.proposal(.minRelayFeeRate, 2_000)])
        #expect(chain.state.governance.openProposals.count == 2)
    }

    @Test("a change activates after every approved pending change of its parameter (gov-overlap); its step and no-op check start from the value before it")
    func pendingChanges() throws {
        let chain = try GovernanceChain(masternodes: 10, seed: 15)
        defer { chain.remove() }
        let initial = chain.governance.initialValues[.maxBlockBytes]!
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, initial)], .governanceValue)
        let first = try chain.proposal(.maxBlockBytes, 8_000_000, voting: 4, delay: 50)
        try chain.mine([first])
        try chain.mine([chain.vote(0, on: first.txid, .yes), chain.vote(1, on: first.txid, .yes)])
        let deadline = try GovernanceProposalPayload(transaction: first).deadlineHeight
        try chain.mine(to: deadline)
        let pendingActivation = try #require(chain.state.governance.proposal(first.txid)?.closing?.activationHeight)
        #expect(pendingActivation == deadline + 50)
        // 12,000,000 is one maxStep above the pending 8,000,000 but two above the 4,000,000 in force
        // now: activating before or with the pending change is refused.
        let start = chain.height + 1, voting: UInt64 = 4
        let beforeIt = pendingActivation - start - voting - 1, atIt = pendingActivation - start - voting
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 12_000_000, voting: voting, delay: beforeIt)], .governanceOverlap)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 12_000_000, voting: voting, delay: atIt)], .governanceOverlap)
        // After it, the value before the activation is the pending one: no-op and step measured from it.
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 8_000_000, voting: voting, delay: atIt + 1)], .governanceValue)
        Self.expectRejected(chain, [try chain.proposal(.maxBlockBytes, 12_000_001, voting: voting, delay: atIt + 1)], .governanceValue)
        try chain.mine([try chain.proposal(.maxBlockBytes, 12_000_000, voting: voting, delay: atIt + 1)])
    }

    @Test("gov-collateral-locked: no spend of an open proposal's collateral, even in its deadline block; after the deadline it spends")
    func lockedCollateral() throws {
        let chain = try GovernanceChain(masternodes: 2, seed: 12)
        defer { chain.remove() }
        let proposal = try chain.proposal(.finalityDepth, 8, collateralIndex: 1)
        try chain.mine([proposal])
        Self.expectRejected(chain, [chain.spendCollateral(of: proposal, index: 1)], .governanceCollateralLocked)
        // Spending the change output of the same transaction is ordinary.
        try chain.mine([chain.spendCollateral(of: proposal, index: 0)])
        let deadline = try #require(chain.state.governance.proposal(proposal.txid)).payload.deadlineHeight
        try chain.mine(to: deadline - 1)
        // The deadline block itself still holds the lock (the proposal is open until its end).
        Self.expectRejected(chain, [chain.spendCollateral(of: proposal, index: 1)], .governanceCollateralLocked)
        try chain.mine([])
        #expect(chain.state.governance.proposal(proposal.txid)?.closing?.result == .rejected)
        try chain.mine([chain.spendCollateral(of: proposal, index: 1)])
    }

    @Test("vote rules: unknown proposal, outside the window, non-masternode, banned voter, bad owner signature, double vote, replay, shape")
    func voteRules() throws {
        let chain = try GovernanceChain(masternodes: 4, seed: 13)
        defer { chain.remove() }
        let proposal = try chain.proposal(.finalityDepth, 10, start: chain.height + 3)
        try chain.mine([proposal])
        let id = proposal.txid
        Self.expectRejected(chain, [chain.vote(0, on: Hash256(bytes: [UInt8](repeating: 3, count: 32))!, .yes)], .governanceProposalUnknown)
        Self.expectRejected(chain, [chain.vote(0, on: id, .yes)], .governanceVoteWindow)   // before the start
        try chain.mine([])
        try chain.mine([chain.vote(0, on: id, .yes)])                                         // at the start
        var stranger = GovernanceVotePayload(proposalId: id, proTxHash: Hash256(bytes: [UInt8](repeating: 4, count: 32))!, outcome: .yes, sequence: 0)
        stranger.sign(seed: chain.wallet.seed)
        Self.expectRejected(chain, [stranger.transaction], .governanceVoter)
        Self.expectRejected(chain, [chain.vote(1, on: id, .yes, signer: chain.wallet)], .specialSignature)
        Self.expectRejected(chain, [chain.vote(1, on: id, .yes), chain.vote(1, on: id, .no, sequence: 1)], .governanceVoteDuplicate, transaction: 2)
        // A replay of the counted vote, and an older sequence after a newer one.
        let first = chain.vote(1, on: id, .yes)
        try chain.mine([first])
        Self.expectRejected(chain, [first], .governanceVoteSequence)
        try chain.mine([chain.vote(1, on: id, .no)])
        Self.expectRejected(chain, [first], .governanceVoteSequence)
        #expect(chain.state.governance.vote(of: chain.proTxHashes[1], on: id)?.outcome == .no)
        // A banned masternode (revoked by its operator) may not vote.
        try chain.mine([try chain.revoke(2)])
        Self.expectRejected(chain, [chain.vote(2, on: id, .yes)], .governanceVoter)
        var shaped = chain.vote(3, on: id, .yes)
        shaped.outputs = [TxOut(value: .zero, lockScript: [0x51])]
        Self.expectRejected(chain, [shaped], .governanceVoteShape)
        // Fields outside the owner's signature are fixed, so a signed vote has exactly one txid.
        var relocked = chain.vote(3, on: id, .yes)
        relocked.lockTime = 1
        Self.expectRejected(chain, [relocked], .governanceVoteShape)
        var reversioned = chain.vote(3, on: id, .yes)
        reversioned.version += 1
        Self.expectRejected(chain, [reversioned], .governanceVoteShape)
        // After the deadline the proposal is closed: a vote is outside its window.
        let deadline = try #require(chain.state.governance.proposal(id)).payload.deadlineHeight
        try chain.mine(to: deadline)
        #expect(chain.state.governance.proposal(id)?.closing != nil)
        Self.expectRejected(chain, [chain.vote(3, on: id, .yes)], .governanceVoteWindow)
    }

    @Test("the mempool's check (checkGovernanceTransaction) gives the block rules' verdicts at the next height")
    func mempoolCheck() throws {
        let chain = try GovernanceChain(masternodes: 2, seed: 14)
        defer { chain.remove() }
        let proposal = try chain.proposal(.finalityDepth, 10)
        try chain.state.checkGovernanceTransaction(proposal)
        try chain.mine([proposal])
        try chain.state.checkGovernanceTransaction(chain.vote(0, on: proposal.txid, .yes))
        expectRule({ try chain.state.checkGovernanceTransaction(chain.vote(0, on: proposal.txid, .yes, signer: chain.wallet)) }, .specialSignature)
        expectRule({ try chain.state.checkGovernanceTransaction(try chain.proposal(.finalityDepth, 11)) }, .governanceOverlap)
        expectRule({ try chain.state.checkGovernanceTransaction(chain.spendCollateral(of: proposal)) }, .governanceCollateralLocked)
    }
}
