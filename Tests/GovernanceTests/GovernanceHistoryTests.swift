import ChainState
import Consensus
import Foundation
import Governance
import Masternodes
import Primitives
import Testing
import TestSupport

/// Property: random proposal, vote and ban histories, fed to one chain state through
/// reorganisations both ways, leave it equal to chain states that only ever extended their
/// tip (the builders) and to a from-scratch recomputation of its final chain, parameters in
/// force at every height included, and equal again after a restart without a flush.
@Suite(.serialized)
struct GovernanceHistoryTests {
    /// Valid random governance transactions for the next block of `chain`.
    static func randomTransactions(_ chain: GovernanceChain, _ random: inout SeededGenerator) throws -> [Transaction] {
        var transactions = [Transaction]()
        let ledger = chain.state.governance
        var voted = Set<Int>()
        for proposal in ledger.openProposals where proposal.payload.startHeight <= chain.height + 1 {
            for index in chain.proTxHashes.indices.shuffled(using: &random).prefix(Int.random(in: 0...4, using: &random)) {
                let outcome = GovernanceVoteOutcome.allCases.randomElement(using: &random)!
                let vote = chain.vote(index, on: proposal.id, outcome)
                if (try? chain.state.checkGovernanceTransaction(vote)) != nil {
                    transactions.append(vote)
                    voted.insert(index)
                }
            }
        }
        if Int.random(in: 0..<3, using: &random) == 0 {
            let open = Set(ledger.openProposals.map(\.payload.parameterId))
            if let parameter = GovernanceParameter.allCases.filter({ !open.contains($0.rawValue) }).randomElement(using: &random),
               let bounds = chain.governance.bounds[parameter] {
                // A real change (up or down, whichever moves), activating after the pending changes.
                let current = ledger.scheduledValue(parameter, initial: chain.governance.initialValues[parameter]!)
                let step = UInt64.random(in: 1...bounds.maxStep, using: &random)
                let up = min(current + step, bounds.range.upperBound), down = max(current - min(step, current), bounds.range.lowerBound)
                let value = Bool.random(using: &random) ? (up != current ? up : down) : (down != current ? down : up)
                let start = chain.height + UInt64.random(in: 1...3, using: &random), voting = UInt64.random(in: 4...8, using: &random)
                let pending = ledger.executedChanges.filter { $0.parameter == parameter }.map(\.activationHeight).max() ?? 0
                let delay = max(UInt64.random(in: 1...5, using: &random), pending >= start + voting ? pending - start - voting + 1 : 0)
                let proposal = try chain.proposal(parameter, value, start: start, voting: voting, delay: delay)
                try chain.state.checkGovernanceTransaction(proposal)
                transactions.append(proposal)
            }
        }
        if Int.random(in: 0..<8, using: &random) == 0,
           let index = chain.proTxHashes.indices.filter({ !voted.contains($0) && chain.state.masternodes[chain.proTxHashes[$0]]?.isBanned == false })
            .randomElement(using: &random) {
            transactions.append(try chain.revoke(index))
        }
        return transactions
    }

    @Test("random governance histories through reorganisations equal a from-scratch recomputation", arguments: [UInt64(1), 2])
    func randomHistories(seed: UInt64) throws {
        let first = try GovernanceChain(masternodes: 12, seed: 200 + seed)
        var builders = [first]
        defer { for builder in builders { builder.remove() } }
        let subjectDirectory = first.directory + "-subject"
        defer { try? FileManager.default.removeItem(atPath: subjectDirectory) }
        var subject: ChainState? = try ChainState(directory: subjectDirectory, parameters: GovernanceChain.parameters, cacheMiB: 64)
        for block in first.blocks { try subject!.accept(block) }
        let floor = first.height
        var current = first
        var random = SeededGenerator(seed: seed)
        var reorganisations = 0, proposals = Set<Hash256>()
        for _ in 0..<36 {
            if current.height > floor + 3 && Int.random(in: 0..<5, using: &random) == 0 {
                // A competing branch from a few blocks back, one block longer: the subject reorganises.
                let forkHeight = current.height - UInt64.random(in: 1...min(6, current.height - floor), using: &random)
                let branch = try GovernanceChain(prefixOf: current, height: forkHeight)
                builders.append(branch)
                while branch.height <= current.height { try branch.mine(try Self.randomTransactions(branch, &random)) }
                for block in branch.blocks.suffix(Int(branch.height - forkHeight)) { try subject!.accept(block) }
                reorganisations += 1
                current = branch
            } else {
                let block = try current.mine(try Self.randomTransactions(current, &random))
                try subject!.accept(block)
            }
            #expect(subject!.tip.hash == current.state.tip.hash)
            proposals.formUnion(current.state.governance.proposals.keys)
            try GovernanceExecutionTests.expectSame(subject!, current.state)
        }
        #expect(reorganisations > 0 && proposals.count > 2, "reorganisations \(reorganisations), proposals \(proposals.count)")
        // Blocks after the last flush, then a kill: the restart replays them.
        for _ in 0..<4 { try subject!.accept(try current.mine(try Self.randomTransactions(current, &random))) }
        subject = nil
        subject = try ChainState(directory: subjectDirectory, parameters: GovernanceChain.parameters, cacheMiB: 64)
        #expect(subject!.replayedBlocks == 4)
        let scratch = try GovernanceChain(prefixOf: current, height: current.height)
        builders.append(scratch)
        try GovernanceExecutionTests.expectSame(subject!, scratch.state)
    }
}
