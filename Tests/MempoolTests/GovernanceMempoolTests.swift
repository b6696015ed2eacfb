import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Governance
import Masternodes
import Mempool
import Mining
import Primitives
import Testing

/// PROTOCOL section 18 in the pool: proposals (one per parameter, collateral locked), votes
/// (fee-less, one per masternode per proposal, a higher sequence replacing the pending one,
/// only inside the window, only by valid masternodes), templates carrying them, and the relay
/// minimum following an approved change from its activation height.
@Suite(.serialized)
struct GovernanceMempoolTests {
    typealias Node = MempoolSpecialTests.Node
    static let governance = try! GovernanceParameters(ChainParameters.builtIn("regtest"))
    static let fee: UInt64 = 20_000

    /// A chain with three mature masternodes (owner seeds of `Node(1...3)`), a pool following it, spare coins.
    static func setUp() async throws -> (TestChain, Mempool, [(OutPoint, TxOut)], [Hash256]) {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        pool.start()
        var ids = [Hash256]()
        var registrations = [Transaction]()
        for n in 1...3 {
            let registration = MempoolSpecialTests.register(Node(UInt8(n)), chain, spending: coins[n - 1])
            registrations.append(registration)
            ids.append(registration.txid)
        }
        try mine(registrations, chain, fees: 3 * MempoolSpecialTests.fee)
        try mine([], chain)
        try mine([], chain)
        try await chain.waitUntilSynced(pool)
        return (chain, pool, Array(coins[3...]), ids)
    }

    /// Mines `transactions` through a block template on the tip (which must keep them all).
    static func mine(_ transactions: [Transaction], _ chain: TestChain, fees: UInt64 = 0) throws {
        let template = try chain.chain.withWriter { state in
            try TemplateBuilder.make(on: state, payout: chain.lockScript, now: state.tip.header.time + 150, transactions: transactions,
                                     fees: Amount(baseUnits: fees)!)
        }
        #expect(template.dropped.isEmpty, "the template dropped \(template.dropped.map(\.hex))")
        let block = template.block(nonce: ChainGenerator.mine(template.header))
        #expect(try chain.chain.accept(block) == .connected)
    }

    static func mineEmpty(until height: UInt64, _ chain: TestChain, _ pool: Mempool) async throws {
        while chain.chain.snapshot.tipHeight < height { try mine([], chain) }
        try await chain.waitUntilSynced(pool)
    }

    /// A proposal spending `coin`: collateral `collateral` as output 0, change back to the chain's key.
    static func proposal(_ parameter: GovernanceParameter, _ value: UInt64, start: UInt64, deadline: UInt64, _ chain: TestChain,
                         spending coin: (OutPoint, TxOut), collateral: Amount = governance.collateral) -> Transaction {
        let payload = GovernanceProposalPayload(parameter: parameter, newValue: value, startHeight: start, deadlineHeight: deadline,
                                                activationDelay: 1, url: "https://example.org", textHash: Hash256(bytes: [UInt8](repeating: 1, count: 32))!,
                                                collateralIndex: 0)
        let outputs = [TxOut(value: collateral, lockScript: chain.lockScript), chain.pay(coin.1.value.baseUnits - collateral.baseUnits - fee)]
        var transaction = payload.transaction(inputs: [TxIn(previousOutput: coin.0)], outputs: outputs)
        let sighash = ScriptContext(transaction: transaction, txid: transaction.txid, inputIndex: 0, spentOutput: coin.1).sighash
        transaction.witnesses = [[chain.key.sign(message: sighash.bytes), chain.key.publicKey]]
        return transaction
    }

    static func vote(_ proposal: Hash256, by id: Hash256, _ outcome: GovernanceVoteOutcome, sequence: UInt32, seed: [UInt8]) -> Transaction {
        var payload = GovernanceVotePayload(proposalId: proposal, proTxHash: id, outcome: outcome, sequence: sequence)
        payload.sign(seed: seed)
        return payload.transaction
    }

    @Test("proposals: one per parameter in the pool, collateral checked and locked in the pool and on chain")
    func proposals() async throws {
        let (chain, pool, coins, _) = try await Self.setUp()
        let tip = chain.chain.snapshot.tipHeight
        let first = Self.proposal(.minRelayFeeRate, 2_000, start: tip + 2, deadline: tip + 7, chain, spending: coins[0])
        #expect(pool.submit(first, source: "test").entry != nil)
        #expect(pool.pendingGovernanceProposals.map(\.txid) == [first.txid])
        let second = Self.proposal(.minRelayFeeRate, 3_000, start: tip + 2, deadline: tip + 7, chain, spending: coins[1])
        #expect(pool.submit(second, source: "test").rule == MempoolRejection.governanceProposalConflictRule)
        let wrongCollateral = Self.proposal(.finalityDepth, 8, start: tip + 2, deadline: tip + 7, chain, spending: coins[1],
                                            collateral: Amount(baseUnits: Self.governance.collateral.baseUnits - 1)!)
        #expect(pool.submit(wrongCollateral, source: "test").rule == RuleName.governanceCollateral.rawValue)
        let outOfBounds = Self.proposal(.finalityDepth, 1_000_000, start: tip + 2, deadline: tip + 7, chain, spending: coins[1])
        #expect(pool.submit(outOfBounds, source: "test").rule == RuleName.governanceValue.rawValue)
        // Another parameter is free.
        let other = Self.proposal(.finalityDepth, 8, start: tip + 2, deadline: tip + 7, chain, spending: coins[1])
        #expect(pool.submit(other, source: "test").entry != nil)

        // A pool child spending the collateral output is refused; spending the change is fine.
        let spendCollateral = chain.spend([TestChain.output(first, 0)], to: [chain.pay(Self.governance.collateral.baseUnits - Self.fee)])
        #expect(pool.submit(spendCollateral, source: "test").rule == RuleName.governanceCollateralLocked.rawValue)
        let spendChange = chain.spend([TestChain.output(first, 1)], to: [chain.pay(first.outputs[1].value.baseUnits - Self.fee)])
        #expect(pool.submit(spendChange, source: "test").entry != nil)

        // Mined: the chain locks the collateral until the deadline block.
        try Self.mine([first, other, spendChange], chain, fees: 3 * Self.fee)
        try await chain.waitUntilSynced(pool)
        #expect(pool.pendingGovernanceProposals.isEmpty)
        #expect(pool.submit(spendCollateral, source: "test").rule == RuleName.governanceCollateralLocked.rawValue)
        try await Self.mineEmpty(until: tip + 7, chain, pool)
        #expect(pool.submit(spendCollateral, source: "test").entry != nil)
    }

    @Test("votes: fee-less, one per masternode and proposal, a higher sequence replaces, window and voter checked, mined votes leave")
    func votes() async throws {
        let (chain, pool, coins, ids) = try await Self.setUp()
        let tip = chain.chain.snapshot.tipHeight
        let proposal = Self.proposal(.minRelayFeeRate, 2_000, start: tip + 3, deadline: tip + 7, chain, spending: coins[0])
        try Self.mine([proposal], chain, fees: Self.fee)
        try await chain.waitUntilSynced(pool)
        let seeds = (1...3).map { Node(UInt8($0)).ownerSeed }

        // The next block is before the window.
        let early = Self.vote(proposal.txid, by: ids[0], .yes, sequence: 1, seed: seeds[0])
        #expect(pool.submit(early, source: "test").rule == RuleName.governanceVoteWindow.rawValue)
        try await Self.mineEmpty(until: tip + 2, chain, pool)

        let yes = Self.vote(proposal.txid, by: ids[0], .yes, sequence: 1, seed: seeds[0])
        let accepted = try #require(pool.submit(yes, source: "test").entry)
        #expect(accepted.fee == .zero)
        #expect(pool.entry(txid: yes.txid) != nil && pool.transaction(wtxid: accepted.wtxid) == yes)
        #expect(pool.inventory(minimumFeeRate: 1_000_000).contains(accepted.wtxid))
        #expect(pool.submit(yes, source: "test").rejection?.kind == .alreadyInPool)
        let sameSequence = Self.vote(proposal.txid, by: ids[0], .no, sequence: 1, seed: seeds[0])
        #expect(pool.submit(sameSequence, source: "test").rule == MempoolRejection.governanceVotePendingRule)
        let changed = Self.vote(proposal.txid, by: ids[0], .no, sequence: 2, seed: seeds[0])
        #expect(pool.submit(changed, source: "test").entry != nil)
        #expect(pool.pendingGovernanceVote(proposal: proposal.txid, masternode: ids[0])?.outcome == .no)
        #expect(pool.entry(txid: yes.txid) == nil)

        let stranger = Self.vote(proposal.txid, by: Hash256(bytes: [UInt8](repeating: 9, count: 32))!, .yes, sequence: 1, seed: seeds[1])
        #expect(pool.submit(stranger, source: "test").rule == RuleName.governanceVoter.rawValue)
        let forged = Self.vote(proposal.txid, by: ids[1], .yes, sequence: 1, seed: seeds[2])
        #expect(pool.submit(forged, source: "test").rule == RuleName.specialSignature.rawValue)
        let unknown = Self.vote(Hash256(bytes: [UInt8](repeating: 5, count: 32))!, by: ids[1], .yes, sequence: 1, seed: seeds[1])
        #expect(pool.submit(unknown, source: "test").rule == RuleName.governanceProposalUnknown.rawValue)

        // Templates carry every pending vote; once mined they leave the pool.
        let second = Self.vote(proposal.txid, by: ids[1], .yes, sequence: 1, seed: seeds[1])
        let third = Self.vote(proposal.txid, by: ids[2], .yes, sequence: 1, seed: seeds[2])
        #expect(pool.submit(second, source: "test").entry != nil && pool.submit(third, source: "test").entry != nil)
        let selected = pool.selection(maxBytes: 1_000_000).entries.map(\.txid)
        #expect(Set(selected) == [changed.txid, second.txid, third.txid])
        try Self.mine(pool.pendingGovernanceVotes.map(\.transaction), chain)
        try await chain.waitUntilSynced(pool)
        #expect(pool.pendingGovernanceVotes.isEmpty)
        #expect(chain.chain.snapshot.governance.votes(of: proposal.txid).map(\.outcome).sorted { $0.rawValue < $1.rawValue } == [.yes, .yes, .no])
        // The mined sequence counts: a replay is refused, the next sequence enters.
        #expect(pool.submit(changed, source: "test").rule == RuleName.governanceVoteSequence.rawValue)
        let again = Self.vote(proposal.txid, by: ids[0], .yes, sequence: 3, seed: seeds[0])
        #expect(pool.submit(again, source: "test").entry != nil)

        // Past the deadline the pending vote is out of its window and leaves the pool.
        try await Self.mineEmpty(until: tip + 8, chain, pool)
        #expect(pool.pendingGovernanceVotes.isEmpty)
        #expect(pool.submit(again, source: "test").rule == RuleName.governanceVoteWindow.rawValue)
    }

    /// The pool re-checks its votes just after it publishes the new tip: waits (bounded) for the pending votes to leave.
    static func waitUntilNoPendingVotes(_ pool: Mempool) async throws {
        for _ in 0..<2_000 where !pool.pendingGovernanceVotes.isEmpty { try await Task.sleep(nanoseconds: 5_000_000) }
        #expect(pool.pendingGovernanceVotes.isEmpty)
    }

    /// `setUp` plus a mined relay-fee proposal (at tip + 1 of the setup's tip) whose window is
    /// open for the next block and ends `deadlineAfter` blocks after the setup's tip.
    static func votingOpen(deadlineAfter: UInt64) async throws -> (TestChain, Mempool, [Hash256], Transaction) {
        let (chain, pool, coins, ids) = try await setUp()
        let tip = chain.chain.snapshot.tipHeight
        let proposal = Self.proposal(.minRelayFeeRate, 2_000, start: tip + 2, deadline: tip + deadlineAfter, chain, spending: coins[0])
        try mine([proposal], chain, fees: fee)
        try await mineEmpty(until: tip + 2, chain, pool)
        return (chain, pool, ids, proposal)
    }

    @Test("pending votes are saved in mempool.dat and admitted again at load; once the window closed they fail")
    func votesPersist() async throws {
        let (chain, pool, ids, proposal) = try await Self.votingOpen(deadlineAfter: 9)
        let deadline = chain.chain.snapshot.tipHeight - 2 + 9
        let seeds = (1...3).map { Node(UInt8($0)).ownerSeed }
        for index in 0..<3 {
            #expect(pool.submit(Self.vote(proposal.txid, by: ids[index], .yes, sequence: 1, seed: seeds[index]), source: "test").entry != nil)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-votes-\(UUID().uuidString).dat").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try pool.save(to: path) == 3)

        let restarted = Mempool(chain: chain.chain, parameters: chain.parameters)
        #expect(try restarted.load(from: path) == MempoolLoadReport(accepted: 3))
        #expect(restarted.pendingGovernanceVotes.map(\.txid) == pool.pendingGovernanceVotes.map(\.txid))
        #expect(restarted.count == 0)
        #expect(try restarted.load(from: path) == MempoolLoadReport(alreadyPresent: 3))

        // Loaded after the deadline, the same file's votes are refused by the vote rules.
        try await Self.mineEmpty(until: deadline, chain, pool)
        let late = Mempool(chain: chain.chain, parameters: chain.parameters)
        #expect(try late.load(from: path) == MempoolLoadReport(failed: 3))
        #expect(late.pendingGovernanceVotes.isEmpty)
    }

    @Test("a vote a newer mined one overtook (sequence not above the counted) leaves the pool and every template")
    func staleSequence() async throws {
        let (chain, pool, ids, proposal) = try await Self.votingOpen(deadlineAfter: 9)
        let seeds = (1...3).map { Node(UInt8($0)).ownerSeed }
        let pending = Self.vote(proposal.txid, by: ids[0], .yes, sequence: 1, seed: seeds[0])
        #expect(pool.submit(pending, source: "test").entry != nil)

        // Another miner's block counts sequence 2 for the same masternode: the pending sequence 1 leaves.
        let mined = Self.vote(proposal.txid, by: ids[0], .no, sequence: 2, seed: seeds[0])
        try Self.mine([mined], chain)
        try await chain.waitUntilSynced(pool)
        try await Self.waitUntilNoPendingVotes(pool)
        #expect(pool.selection(maxBytes: 1_000_000).entries.isEmpty)

        // A template handed stale votes (below and at the counted sequence) and a second vote of
        // one masternode drops them, keeps the rest, and its block connects.
        let fresh = Self.vote(proposal.txid, by: ids[1], .yes, sequence: 1, seed: seeds[1])
        let first = Self.vote(proposal.txid, by: ids[2], .yes, sequence: 1, seed: seeds[2])
        let second = Self.vote(proposal.txid, by: ids[2], .no, sequence: 2, seed: seeds[2])
        let template = try chain.chain.withWriter { state in
            try TemplateBuilder.make(on: state, payout: chain.lockScript, now: state.tip.header.time + 150,
                                     transactions: [pending, fresh, mined, first, second])
        }
        #expect(template.dropped == [pending.txid, mined.txid, second.txid])
        #expect(try chain.chain.accept(template.block(nonce: ChainGenerator.mine(template.header))) == .connected)
        let counted = chain.chain.snapshot.governance
        #expect(counted.vote(of: ids[0], on: proposal.txid)?.sequence == 2 && counted.vote(of: ids[0], on: proposal.txid)?.outcome == .no)
        #expect(counted.vote(of: ids[1], on: proposal.txid)?.txid == fresh.txid)
        #expect(counted.vote(of: ids[2], on: proposal.txid)?.txid == first.txid)
    }

    @Test("the per-block re-check of a pending vote keeps the admission signature verdict and re-runs the tip's rules")
    func recheckWithoutSignature() async throws {
        let (chain, pool, ids, proposal) = try await Self.votingOpen(deadlineAfter: 6)
        let tip = chain.chain.snapshot.tipHeight - 2
        let vote = Self.vote(proposal.txid, by: ids[0], .yes, sequence: 1, seed: Node(1).ownerSeed)
        let forged = Self.vote(proposal.txid, by: ids[0], .yes, sequence: 1, seed: Node(2).ownerSeed)
        #expect(pool.submit(vote, source: "test").entry != nil)
        let (signed, unsigned, forgedRule, forgedRecheck) = chain.chain.withWriter { state in
            func seconds(_ verifying: Bool, _ rounds: Int) -> Double {
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<rounds { _ = try? state.checkGovernanceTransaction(vote, txid: vote.txid, verifyingSignature: verifying) }
                return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(rounds)
            }
            var rule: RuleName?, recheck: RuleName?
            do throws(Rejection) { try state.checkGovernanceTransaction(forged) } catch { rule = error.rule }
            do throws(Rejection) { try state.checkGovernanceTransaction(forged, verifyingSignature: false) } catch { recheck = error.rule }
            return (seconds(true, 200), seconds(false, 200), rule, recheck)
        }
        // Admission verifies the signature; the re-check judges only what the tip can change.
        #expect(forgedRule == .specialSignature && forgedRecheck == nil)
        print("gov vote check per vote: with signature \(signed * 1e6) us, re-check without \(unsigned * 1e6) us; 5,000 pending: \(signed * 5_000) s -> \(unsigned * 5_000) s")
        #expect(unsigned < signed)
        // The tip's rules still run: past the deadline the pending vote leaves.
        try await Self.mineEmpty(until: tip + 6, chain, pool)
        try await Self.waitUntilNoPendingVotes(pool)
        #expect(throws: Rejection.self) { try chain.chain.withWriter { try $0.checkGovernanceTransaction(vote, verifyingSignature: false) } }
    }

    @Test("an approved relay fee change: the pool's minimum follows from the activation height on")
    func governedRelayFee() async throws {
        let (chain, pool, coins, ids) = try await Self.setUp()
        let tip = chain.chain.snapshot.tipHeight
        let proposal = Self.proposal(.minRelayFeeRate, 5_000, start: tip + 2, deadline: tip + 6, chain, spending: coins[0])
        try Self.mine([proposal], chain, fees: Self.fee)
        try await chain.waitUntilSynced(pool)
        let votes = (0..<3).map { Self.vote(proposal.txid, by: ids[$0], .yes, sequence: 1, seed: Node(UInt8($0 + 1)).ownerSeed) }
        try Self.mine(votes, chain)
        try await Self.mineEmpty(until: tip + 5, chain, pool)
        #expect(pool.minRelayFeeRate == 1_000)
        try await Self.mineEmpty(until: tip + 6, chain, pool)
        let closed = try #require(chain.chain.snapshot.governance.proposal(proposal.txid)?.closing)
        #expect(closed.result == .approved && closed.activationHeight == tip + 7)
        // The next block is the activation: a transaction paying 2,000 per 1,000 bytes no longer enters.
        #expect(pool.minRelayFeeRate == 5_000)
        #expect(pool.parametersInForce.minRelayFeeRate == 5_000)
        let cheap = chain.spend([coins[1]], to: [chain.pay(coins[1].1.value.baseUnits - 400)])
        #expect(pool.submit(cheap, source: "test").rule == "min relay fee not met")
        let paying = chain.spend([coins[1]], to: [chain.pay(coins[1].1.value.baseUnits - 2_000)])
        #expect(pool.submit(paying, source: "test").entry != nil)
    }
}
