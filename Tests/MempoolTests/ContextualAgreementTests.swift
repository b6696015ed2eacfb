import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Primitives
import Testing

/// The mempool's entry to the contextual rules (`ContextualRules.checkTransaction`, one
/// transaction over a view) and block connection agree: same fees, same spent coins, same
/// signature checks in the same order, and the same rejection.
struct ContextualAgreementTests {
    /// The chain's UTXO set plus the outputs of a block's earlier transactions (what a pool
    /// holding those transactions would show).
    struct BlockPrefixView: UTXOView {
        let utxo: UTXOCache
        let created: [OutPoint: Coin]

        func coin(_ outpoint: OutPoint) throws -> Coin? { try created[outpoint] ?? utxo.coin(outpoint) }
    }

    @Test("per-transaction checks over a view agree with connect on generated blocks")
    func agreesWithConnect() throws {
        let parameters = TestChain.parameters
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-agree-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 16)
        var generator = ChainGenerator(parameters: parameters, seed: 14, transactionsPerBlock: 12)
        var compared = 0
        for _ in 0..<115 {
            let block = generator.nextBlock()
            let txids = block.transactions.map(\.txid)
            let active = state.active
            let context = ContextualRules.Context(
                height: block.header.height, medianTimePast: state.medianTimePast(state.tip), blockHash: block.hash,
                medianTimePastBefore: { height in
                    let index = Int(min(height, UInt64(active.count))) - 1
                    return index >= 0 ? state.medianTimePast(active[index]) : 0
                })
            let delta = try ContextualRules.connect(block, txids: txids, context: context, parameters: parameters, view: state.utxo)

            var created = [OutPoint: Coin]()
            var fees = Amount.zero
            var spent = [(OutPoint, Coin)]()
            var checks = [SignatureCheck]()
            for (index, transaction) in block.transactions.enumerated() {
                if index > 0 {
                    let check = try ContextualRules.checkTransaction(transaction, txid: txids[index], context: context, parameters: parameters,
                                                                     view: BlockPrefixView(utxo: state.utxo, created: created))
                    fees = fees.adding(check.fee)!
                    spent += check.spent.filter { created[$0.0] == nil }
                    checks += check.checks
                    #expect(check.checkInputs.count == check.checks.count)
                    compared += 1
                }
                for (outputIndex, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                    created[OutPoint(txid: txids[index], index: UInt32(outputIndex))] =
                        Coin(output: output, height: block.header.height, isCoinbase: index == 0)
                }
            }
            #expect(fees == delta.fees)
            #expect(spent.map(\.0) == delta.spent.map(\.0) && spent.map(\.1) == delta.spent.map(\.1))
            #expect(checks == delta.checks)
            #expect(try state.accept(block) == .connected)
        }
        #expect(compared > 100)

        // A spend of a coin no longer there: both paths name the same rule and input.
        let spentCoin = try #require(generator.nextBlock().transactions.dropFirst().first)
        let context = ContextualRules.Context(height: state.tip.height + 1, medianTimePast: state.medianTimePast(state.tip),
                                              blockHash: .zero, medianTimePastBefore: { _ in 0 })
        let empty = BlockPrefixView(utxo: state.utxo, created: [:])
        var replay = spentCoin
        replay.inputs[0].previousOutput = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 3, count: 32))!, index: 7)
        #expect(throws: Rejection(.txMissingInput, "\(replay.inputs[0].previousOutput) is not in the UTXO set", input: 0)) {
            try ContextualRules.checkTransaction(replay, txid: replay.txid, context: context, parameters: parameters, view: empty)
        }
    }
}
