import ChainState
import Consensus
import Primitives
import Testing

/// `BlockConnector`, the chain state's entry to the contextual rules (and the closure form
/// kept for the fuzz harness): the rules' verdicts pass through, damage becomes a corrupt
/// database. The rules themselves are tested in ConsensusTests/ContextualRuleTests.
struct BlockConnectorTests {
    static let anyone: [UInt8] = [0x51] // OP_1: spendable with an empty witness
    static let spent = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 1, count: 32))!, index: 0)
    static let height: UInt64 = 10

    static func connect(coinHeight: UInt64?) throws -> BlockDelta {
        let coinbase = Transaction.coinbase(height: height, extraNonce: 0, outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: anyone)])
        let spend = Transaction(inputs: [TxIn(previousOutput: spent)], outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: anyone)])
        let block = Block(header: BlockHeader(version: 1, height: height, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero,
                                              time: 0, bits: 0, nonce: 0), transactions: [coinbase, spend])
        let coin = coinHeight.map { Coin(output: TxOut(value: Amount(baseUnits: 5)!, lockScript: anyone), height: $0, isCoinbase: false) }
        let context = BlockConnector.Context(height: height, medianTimePast: 0, blockHash: .zero, medianTimePastBefore: { _ in 0 })
        return try BlockConnector.connect(block, txids: block.transactions.map(\.txid), context: context, parameters: Fixtures.regtest) {
            $0 == spent ? coin : nil
        }
    }

    @Test("the closure form connects, passes rejections through, and reports a coin above the block's height as a corrupt database")
    func closureForm() throws {
        let delta = try Self.connect(coinHeight: 1)
        #expect(delta.spent.map(\.0) == [Self.spent] && delta.fees.baseUnits == 4 && delta.signatureBatch.count == 0)
        #expect(throws: Rejection(.txMissingInput, "\(Self.spent) is not in the UTXO set", transaction: 1, input: 0)) {
            try Self.connect(coinHeight: nil)
        }
        do {
            _ = try Self.connect(coinHeight: .max)
            Issue.record("a coin from height 2^64 - 1 was accepted")
        } catch ChainStateError.corruptDatabase(let detail) {
            #expect(detail == "coin \(Self.spent) has height 18446744073709551615, above the block at 10", "\(detail)")
        }
    }
}
