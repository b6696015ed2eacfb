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

    @Test("a template given its transactions' ids has the same roots as one that hashes them")
    func templateWithKnownIDs() throws {
        let parameters = try ConsensusParameters(ChainParameters.builtIn("regtest"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-mine-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: parameters)
        // Roots only: any transactions do (these are not valid in a block, and are not mined).
        let transactions = (1...5).map { Transaction.coinbase(height: UInt64($0), extraNonce: UInt32($0), outputs: [TxOut(value: .zero, lockScript: [0x51])]) }
        let now = parameters.genesisTime + 150
        let hashed = try TemplateBuilder.make(on: state, payout: [0x51], now: now, transactions: transactions)
        let known = try TemplateBuilder.make(on: state, payout: [0x51], now: now, transactions: transactions,
                                             ids: transactions.map { ($0.txid, $0.wtxid) })
        #expect(known.header == hashed.header)
        #expect(known.header.merkleRoot == Block(header: hashed.header, transactions: hashed.transactions).computeMerkleRoot())
    }
}
