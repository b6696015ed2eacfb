import ChainParams
import ChainState
import Consensus
import Foundation
import Mining
import Primitives
import ProofOfWorkSearch
import Testing
import TestSupport

struct MiningTests {
    @Test("the combined search cuts a range into disjoint pieces that cover it exactly")
    func splitCoversWithoutOverlap() {
        var rng = SeededGenerator(seed: 8)
        for _ in 0..<500 {
            let count = UInt64.random(in: 0...1_000_000, using: &rng)
            let start = Bool.random(using: &rng) ? UInt64.random(in: 0...UInt64.max - count, using: &rng) : UInt64.max - count + (count > 0 ? 1 : 0)
            guard let range = NonceRange(start: start, count: count) else { continue }
            let weights = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Double.random(in: 0...10, using: &rng) }
            let pieces = CombinedPoWSearch.split(range, weights: weights)
            #expect(pieces.count == weights.count)
            #expect(pieces.reduce(0) { $0 + $1.count } == count)
            var next = range.start
            for piece in pieces where piece.count > 0 {
                #expect(piece.start == next, "pieces must be consecutive: \(pieces)")
                next = piece.start &+ piece.count
            }
        }
    }

    @Test("two backends searching together find exactly what the scalar search finds")
    func combinedEqualsScalar() throws {
        var rng = SeededGenerator(seed: 21)
        let header = rng.bytes(128)
        var targetBytes = [UInt8](repeating: 0xFF, count: 32)
        targetBytes[0] = 0x00
        let job = PoWJob(header: header, target: UInt256(bigEndian: targetBytes))
        let range = NonceRange(start: 0xFFFF_F000, count: 60_000)!
        let expected = try ScalarPoWSearch().search(job, range: range)
        let combined = CombinedPoWSearch([SIMDPoWSearch(threads: 1), ThreadedPoWSearch(threads: 1)])
        #expect(try combined.search(job, range: range) == expected)
        #expect(try combined.search(job, range: range) == expected) // after re-weighting by measured speed
        #expect(!expected.isEmpty)
    }

    @Test("mined blocks are accepted by the chain state and pay the given key, with every CPU backend", arguments: ["scalar", "simd"])
    func minerProducesValidBlocks(backend: String) throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-mine-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: parameters)
        let payout = StandardScript.payToKeyHash(StandardScript.keyHash([UInt8](repeating: 4, count: 32)))
        let searcher: any PoWSearcher = backend == "scalar" ? ScalarPoWSearch() : SIMDPoWSearch(threads: 2)
        let miner = Miner(searcher: searcher)
        var clock = parameters.genesisTime
        for _ in 0..<8 {
            clock += 150
            let template = try TemplateBuilder.make(on: state, payout: payout, now: clock)
            let solution = try #require(try miner.solve(template, clock: { clock }, shouldStop: { false }))
            #expect(ProofOfWork.meets(solution.block.hash, target: template.target))
            #expect(try state.accept(solution.block) == .connected)
        }
        #expect(state.tip.height == 8)
        #expect(try state.loadTip().transactions[0].outputs[0].lockScript == payout)
        // A stop request returns without a block.
        let template = try TemplateBuilder.make(on: state, payout: payout, now: clock)
        #expect(try miner.solve(template, clock: { clock }, shouldStop: { true }) == nil)
    }

    @Test("rolling the extra nonce changes the Merkle root and keeps the block valid")
    func extraNonce() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-mine-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: parameters)
        var template = try TemplateBuilder.make(on: state, payout: [0x51], now: parameters.genesisTime + 150)
        let root = template.header.merkleRoot
        template.rollExtraNonce()
        #expect(template.header.merkleRoot != root && template.transactions[0].inputs[0].sequence == 1)
        let solution = try #require(try Miner(searcher: ScalarPoWSearch()).solve(template, clock: { parameters.genesisTime + 150 }, shouldStop: { false }))
        #expect(try state.accept(solution.block) == .connected)
    }
}
