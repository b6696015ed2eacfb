// Governance in generated chains (`rusty gen-chain --masternodes N --governance`): once the
// masternodes are registered and mature, rounds of three proposals, each voted on by every
// valid masternode of the generator: the block size limit raised by the network's maximum
// step (approved; some masternodes first vote no and change to yes, a few abstain; after its
// activation a block uses the new room), the finality depth (every voter abstains: rejected,
// collateral unlocked and spent again later) and the relay fee (voted down: slashed,
// collateral burned). Masternodes keep changing meanwhile (revokes, collateral spends), so
// outcomes follow from the votes of those still valid at each deadline.
// The generator keeps its own ledger through `GovernanceRules.apply`, so every header
// commits to the right governance root and burned collateral leaves its UTXO books.

import BLAKE3
import Consensus
import Ed25519
import Governance
import Masternodes
import Primitives

/// How many governance transactions and outcomes a generated chain carries.
public struct GovernanceActivity: Sendable, Equatable, Codable {
    public var proposals = 0
    public var votes = 0
    public var changedVotes = 0
    public var approved = 0
    public var rejected = 0
    public var slashed = 0
    /// Blocks larger than the network's initial block size limit (valid only under a raised one).
    public var blocksAboveInitialLimit = 0

    public init() {}
}

struct GovernanceSimulation {
    /// What a proposal of the round is meant to show.
    enum Plan { case approve, abstain, slash }

    struct Open {
        var id: Hash256
        var payload: GovernanceProposalPayload
        var plan: Plan
        var collateral: ChainGenerator.OwnedCoin
    }

    let parameters: GovernanceParameters
    var ledger = GovernanceLedger()
    var open: [Open] = []
    /// The height the next round is proposed at (nil: once the masternodes are ready).
    var nextRound: UInt64?
    /// A raised block size limit waiting for its activation height, to be used by a large block.
    var largeBlockAt: UInt64?
    var activity = GovernanceActivity()

    /// Blocks between rounds after the last deadline, and the room a large block leaves below the raised limit.
    static let roundGap: UInt64 = 3
    static let proposalFee: UInt64 = 20_000
}

extension ChainGenerator {
    /// From now on, runs governance rounds once the masternodes are ready (call after
    /// `enableMasternodes`, before the first block).
    public mutating func enableGovernance(parameters: GovernanceParameters) {
        governance = GovernanceSimulation(parameters: parameters)
    }

    public var governanceActivity: GovernanceActivity? { governance?.activity }

    /// The block size limit for a block at `height`: the network's, or the governed one in force.
    func blockSizeLimit(height: UInt64) -> Int {
        guard let simulation = governance else { return parameters.maxBlockBytes }
        return simulation.ledger.parametersInForce(atHeight: height, initial: simulation.parameters.initialValues).maxBlockBytes
    }

    /// This block's governance transactions (after its masternode transactions, `masternodeTransactions`):
    /// a large filler once a raised limit is active, new proposals at a round's start, and votes.
    /// Returns the transactions, their fees and the ordinary coins they create (spendable from the next block).
    mutating func makeGovernanceTransactions(height: UInt64, masternodeTransactions: [Transaction])
        -> (transactions: [Transaction], fees: Amount, created: [OwnedCoin]) {
        guard var simulation = governance.take() else { return ([], .zero, []) }
        defer { governance = simulation }
        var transactions = [Transaction](), fees: UInt64 = 0, created = [OwnedCoin]()
        // (`blockSizeLimit` reads `governance`, which is taken out meanwhile.)
        let limit = simulation.ledger.parametersInForce(atHeight: height, initial: simulation.parameters.initialValues).maxBlockBytes
        if let at = simulation.largeBlockAt, height >= at, let filler = makeFiller(height: height, limit: limit) {
            transactions.append(filler.transaction)
            fees += filler.fee
            created += filler.created
            simulation.largeBlockAt = nil
        }
        guard let sim = masternodes else { return (transactions, Amount(baseUnits: fees)!, created) }
        // Voters: valid after this block's masternode transactions (the rules judge them so).
        var list = sim.list
        let utxo = self.utxo
        let probe = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: .zero, merkleRoot: .zero,
                                              stateRoot: .zero, time: 0, bits: 0, nonce: 0),
                          transactions: [Transaction.coinbase(height: height, extraNonce: 0, outputs: [])] + masternodeTransactions)
        _ = try? MasternodeRules.apply(probe, txids: probe.transactions.map(\.txid), height: height, to: &list, parameters: sim.parameters,
                                       coin: { utxo[$0] })
        let voters = sim.ids.filter { id in list[id]?.isValid(at: height, maturity: sim.parameters.registrationMaturity) == true }
        let ready = sim.pending == 0 && voters.count >= 3
        if ready && simulation.open.isEmpty && height >= (simulation.nextRound ?? 0) {
            for plan in [GovernanceSimulation.Plan.approve, .abstain, .slash] {
                guard let made = makeProposal(plan, height: height, simulation: &simulation) else { break }
                transactions.append(made.transaction)
                fees += GovernanceSimulation.proposalFee
                created.append(made.change)
            }
        }
        for index in simulation.open.indices {
            transactions += makeVotes(on: simulation.open[index], height: height, voters: voters, owned: sim.owned, simulation: &simulation)
        }
        return (transactions, Amount(baseUnits: fees)!, created)
    }

    /// Applies the block's governance effects to the generator's ledger (`list`: the
    /// masternode list after the block); returns the governance root. Burned collateral
    /// leaves the UTXO books; unlocked collateral becomes an ordinary coin again.
    mutating func applyGovernance(_ block: Block, height: UInt64, list: MasternodeList, masternodeParameters: MasternodeParameters) -> Hash256 {
        guard var simulation = governance.take() else { return .zero }
        defer { governance = simulation }
        let context = GovernanceRules.Context(height: height, list: list, parameters: simulation.parameters, masternodeParameters: masternodeParameters)
        // The generator does not validate: its own signatures are collected, not checked.
        var deferred: PayloadSignatureChecks? = PayloadSignatureChecks()
        let utxo = self.utxo
        let undo: GovernanceLedgerUndo
        do {
            undo = try GovernanceRules.apply(block, txids: block.transactions.map(\.txid), context: context, to: &simulation.ledger,
                                             coin: { utxo[$0] }, signatures: &deferred)
        } catch {
            preconditionFailure("gen-chain made an invalid governance transaction at height \(height): \(error)")
        }
        for (outpoint, _) in undo.burned { self.utxo[outpoint] = nil }
        for proposal in simulation.open where proposal.payload.deadlineHeight == height {
            guard let closing = simulation.ledger.proposal(proposal.id)?.closing else { continue }
            switch closing.result {
            case .approved:
                simulation.activity.approved += 1
                if proposal.payload.parameter == .maxBlockBytes, let activation = closing.activationHeight,
                   proposal.payload.newValue > UInt64(parameters.maxBlockBytes) {
                    simulation.largeBlockAt = activation
                }
            case .rejected: simulation.activity.rejected += 1
            case .slashed: simulation.activity.slashed += 1
            }
            // The collateral is spendable again (the mix may spend it) unless it was burned.
            if closing.result != .slashed { spendable.append(proposal.collateral) }
        }
        if simulation.open.contains(where: { $0.payload.deadlineHeight == height }) {
            simulation.open.removeAll { $0.payload.deadlineHeight <= height }
            simulation.nextRound = height + GovernanceSimulation.roundGap
        }
        if block.encoded.count > parameters.maxBlockBytes { simulation.activity.blocksAboveInitialLimit += 1 }
        return simulation.ledger.root()
    }

    // MARK: Proposals and votes

    /// A proposal funded by the largest key-hash coin: collateral (output 0, a fresh key) and change.
    private mutating func makeProposal(_ plan: GovernanceSimulation.Plan, height: UInt64,
                                       simulation: inout GovernanceSimulation) -> (transaction: Transaction, change: OwnedCoin)? {
        let governed = simulation.parameters
        let parameter: GovernanceParameter
        switch plan {
        case .approve: parameter = .maxBlockBytes
        case .abstain: parameter = .finalityDepth
        case .slash: parameter = .minRelayFeeRate
        }
        guard let bounds = governed.bounds[parameter], simulation.ledger.openProposal(on: parameter.rawValue) == nil else { return nil }
        let start = height + 1
        let deadline = start + governed.votingBlocks.lowerBound + 1
        let activation = deadline + governed.activationDelay.lowerBound
        // Measured as the rules do: from the value in force right before the change would apply.
        let current = simulation.ledger.valueBefore(activationHeight: activation, of: parameter, initial: governed.initialValues[parameter] ?? 0)
        guard let newValue = bounds.generatedProposalValue(from: current) else { return nil }
        let collateralValue = governed.collateral.baseUnits
        guard let largest = spendable.indices.filter({ if case .keyHash = spendable[$0].lock { true } else { false } })
                .max(by: { spendable[$0].coin.output.value.baseUnits < spendable[$1].coin.output.value.baseUnits }),
              spendable[largest].coin.output.value.baseUnits > collateralValue + GovernanceSimulation.proposalFee + 100_000 else { return nil }
        let input = spendable.remove(at: largest)
        let payload = GovernanceProposalPayload(parameter: parameter, newValue: newValue, startHeight: start, deadlineHeight: deadline,
                                                activationDelay: governed.activationDelay.lowerBound, url: "https://example.org/gen-chain/\(height)/\(parameter)",
                                                textHash: Hash256(bytes: BLAKE3.hash(Array("gen-chain proposal \(height) \(parameter)".utf8)))!,
                                                collateralIndex: 0)
        let collateralKey = newKey(), changeKey = newKey()
        let change = input.coin.output.value.baseUnits - collateralValue - GovernanceSimulation.proposalFee
        let outputs = [TxOut(value: governed.collateral, lockScript: lockScript(.keyHash(collateralKey))),
                       TxOut(value: Amount(baseUnits: change)!, lockScript: lockScript(.keyHash(changeKey)))]
        let transaction = signInputs(payload.transaction(inputs: [TxIn(previousOutput: input.outpoint)], outputs: outputs), [input])
        let coins = record(transaction, locks: [.keyHash(collateralKey), .keyHash(changeKey)], height: height)
        simulation.open.append(GovernanceSimulation.Open(id: transaction.txid, payload: payload, plan: plan, collateral: coins[0]))
        simulation.activity.proposals += 1
        return (transaction, coins[1])
    }

    /// The votes of this block on `proposal`: every voter once, at the window's start (spread
    /// over its first blocks, 1,000 a block, when there are more); for the approved plan every
    /// fifth voter votes no first and yes one block later.
    private mutating func makeVotes(on proposal: GovernanceSimulation.Open, height: UInt64, voters: [Hash256],
                                    owned: [Hash256: MasternodeSimulation.Owned], simulation: inout GovernanceSimulation) -> [Transaction] {
        let start = proposal.payload.startHeight, deadline = proposal.payload.deadlineHeight
        guard height >= start, height <= deadline else { return [] }
        let spread = min(max(1, deadline - start - 1), UInt64(voters.count / 1_000 + 1))
        var votes = [Transaction]()
        for (position, id) in voters.enumerated() {
            guard let ownerKey = owned[id]?.ownerKey else { continue }
            let slot = start + UInt64(position) % spread
            let counted = simulation.ledger.vote(of: id, on: proposal.id)
            let outcome: GovernanceVoteOutcome
            switch proposal.plan {
            case .approve:
                if counted == nil && height == slot {
                    outcome = position % 5 == 0 ? .no : position % 7 == 3 ? .abstain : .yes
                } else if let counted, counted.outcome == .no, height == slot + 1 {
                    outcome = .yes
                    simulation.activity.changedVotes += 1
                } else { continue }
            case .abstain:
                guard counted == nil, height == slot else { continue }
                outcome = .abstain
            case .slash:
                guard counted == nil, height == slot else { continue }
                outcome = position % 10 == 9 ? .yes : .no
            }
            var payload = GovernanceVotePayload(proposalId: proposal.id, proTxHash: id, outcome: outcome, sequence: (counted?.sequence ?? 0) + 1)
            payload.signature = sign(ownerKey, payload.signingHash)
            votes.append(payload.transaction)
            simulation.activity.votes += 1
        }
        return votes
    }

    /// A transaction spending one key-hash coin to its change and data outputs of the network's
    /// largest script, enough to take the block past the initial limit (and within `limit`).
    private mutating func makeFiller(height: UInt64, limit: Int) -> (transaction: Transaction, fee: UInt64, created: [OwnedCoin])? {
        let target = parameters.maxBlockBytes + 20_000
        guard limit > target + 100_000,
              let index = spendable.indices.filter({ if case .keyHash = spendable[$0].lock { true } else { false } })
                .max(by: { spendable[$0].coin.output.value.baseUnits < spendable[$1].coin.output.value.baseUnits }) else { return nil }
        let padding = 9_000
        let fee: UInt64 = UInt64(target / 1_000 + 1) * 1_000
        guard spendable[index].coin.output.value.baseUnits > fee + 100_000 else { return nil }
        let input = spendable.remove(at: index)
        let changeKey = newKey()
        var outputs = [TxOut(value: Amount(baseUnits: input.coin.output.value.baseUnits - fee)!, lockScript: lockScript(.keyHash(changeKey)))]
        outputs += (0..<(target / padding + 1)).map { _ in TxOut(value: .zero, lockScript: [Script.opReturn] + [UInt8](repeating: 0x6a, count: padding - 1)) }
        let transaction = signInputs(Transaction(version: 2, inputs: [TxIn(previousOutput: input.outpoint)], outputs: outputs), [input])
        return (transaction, fee, record(transaction, locks: [.keyHash(changeKey)], height: height))
    }
}

extension GovernanceBounds {
    /// The value gen-chain proposes from `current`: the largest step up (the approved raise makes
    /// room for a large block), else the largest step down, else the range's far end; never
    /// `current` itself (a no-op is `gov-value`). Nil when the range holds `current` alone.
    func generatedProposalValue(from current: UInt64) -> UInt64? {
        let up = current.addingReportingOverflow(maxStep)
        if !up.overflow, range.contains(up.partialValue) { return up.partialValue }
        if current >= maxStep, range.contains(current - maxStep) { return current - maxStep }
        // Less than a step of room either way: the bound with room, up first.
        if current < range.upperBound { return range.upperBound }
        if current > range.lowerBound { return range.lowerBound }
        return nil
    }
}
