import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

struct ChainStateTests {
    @Test("a generated chain of 260 blocks with every transaction kind is accepted; the digest equals the generator's")
    func validChain() throws {
        let (blocks, generator) = Fixtures.blocks(260, seed: 7)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var state: ChainState? = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 1) // many flushes
        for block in blocks { #expect(try state!.accept(block) == .connected) }
        let summary = try state!.utxoSummary()
        state = nil // closes the database
        let expected = generator.utxoDigest()
        #expect(summary.bestHeight == 260)
        #expect(summary.digest == expected.digest && summary.count == UInt64(expected.count) && summary.total == expected.total)

        // Every kind appears: multi-input payments, consolidations, fan-outs, multisig and
        // hash-lock spends (claims and refunds), coinbase spends.
        let transactions = blocks.flatMap { $0.transactions.dropFirst() }
        #expect(transactions.contains { $0.inputs.count >= 4 && $0.outputs.count == 1 })
        #expect(transactions.contains { $0.inputs.count == 1 && $0.outputs.count >= 5 })
        #expect(transactions.contains { $0.inputs.count >= 2 && $0.outputs.count == 2 })
        let witnesses = transactions.flatMap(\.witnesses)
        #expect(witnesses.contains { $0.count == 3 && $0.contains([]) && $0[2] != [1] })     // 2-of-3 multisig
        #expect(witnesses.contains { $0.count == 3 && $0[2] == [1] })                        // hash-lock claim
        #expect(witnesses.contains { $0.count == 2 && $0[1].isEmpty })                       // hash-lock refund
        let coinbaseIDs = Set(blocks.map { $0.transactions[0].txid })
        #expect(transactions.contains { $0.inputs.contains { coinbaseIDs.contains($0.previousOutput.txid) } })

        // Reopening gives the same state.
        let reopened = try ChainState(directory: directory, parameters: Fixtures.regtest)
        #expect(try reopened.utxoSummary() == summary)
    }

    @Test("reorganisations: a heavier branch from genesis replaces the tip, and switching back restores the digest")
    func reorgs() throws {
        let (branchA, generatorA) = Fixtures.blocks(130, seed: 11)
        let (branchB, generatorB) = Fixtures.blocks(135, seed: 12)
        let (branchA2, generatorA2) = Fixtures.blocks(140, seed: 11)
        #expect(Array(branchA2.prefix(130)) == branchA)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest, cacheMiB: 4)
        for block in branchA { try state.accept(block) }
        let digestA = try state.utxoSummary().digest
        #expect(digestA == generatorA.utxoDigest().digest)

        var results = [ChainState.AcceptResult]()
        for block in branchB { results.append(try state.accept(block)) }
        #expect(results.prefix(130).allSatisfy { $0 == .sideBranch })
        #expect(results[130] == .connected) // more work: a 130-block reorganisation
        let reorganizations = state.takeReorganizations()
        #expect(reorganizations.count == 1 && reorganizations.first?.forkHeight == 0, "\(reorganizations)")
        #expect(reorganizations.first?.disconnected == 130 && reorganizations.first?.connected == 131)
        #expect(reorganizations.first?.oldTip == branchA.last!.hash && reorganizations.first?.newTip == branchB[130].hash)
        #expect(state.tip.hash == branchB.last!.hash)
        #expect(try state.utxoSummary().digest == generatorB.utxoDigest().digest)

        for block in branchA2 { try state.accept(block) }
        #expect(state.tip.hash == branchA2.last!.hash)
        #expect(try state.utxoSummary().digest == generatorA2.utxoDigest().digest)
    }

    @Test("orphans wait for their parent; duplicates are recognised")
    func orphans() throws {
        let (blocks, generator) = Fixtures.blocks(5, seed: 3)
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: Fixtures.regtest)
        #expect(try state.accept(blocks[2]) == .orphan)
        #expect(try state.accept(blocks[1]) == .orphan)
        #expect(try state.accept(blocks[0]) == .connected)
        #expect(state.tip.height == 3)
        #expect(try state.accept(blocks[1]) == .duplicate)
        for block in blocks.suffix(2) { try state.accept(block) }
        #expect(try state.utxoSummary().digest == generator.utxoDigest().digest)
    }
}
