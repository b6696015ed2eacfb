import Primitives

/// The rules that need the coins a block spends, and script execution, for one block in
/// block order: coinbase height and value, lock times, missing and double spends, coinbase
/// maturity, sequence locks, amounts and fees, and each input's script (whose signature
/// checks are collected, not verified). Reads coins through a `UTXOView` (the set before
/// the block) and mutates nothing: the caller applies the delta only when every rule passed.
public enum ContextualRules {
    public struct Context {
        public var height: UInt64
        public var medianTimePast: UInt64
        public var blockHash: Hash256
        /// Median-time-past of the block before the one at a given height (for time-based relative locks).
        public var medianTimePastBefore: (UInt64) -> UInt64

        public init(height: UInt64, medianTimePast: UInt64, blockHash: Hash256, medianTimePastBefore: @escaping (UInt64) -> UInt64) {
            self.height = height
            self.medianTimePast = medianTimePast
            self.blockHash = blockHash
            self.medianTimePastBefore = medianTimePastBefore
        }
    }

    /// Throws a `Rejection` naming the first rule broken, `InconsistentInput` for damage or a
    /// caller bug, or what `view` throws. Generic over the view (not `any UTXOView`) and
    /// inlinable, so the caller's module specializes it for its view: a lookup is a direct
    /// call, as it was when these rules lived in ChainState (the verify-chain hot path).
    @inlinable
    public static func connect<View: UTXOView>(_ block: Block, txids: [Hash256], context: Context, parameters: ConsensusParameters,
                                               view: View) throws -> BlockDelta {
        var delta = BlockDelta()
        // Callers pass one txid per transaction (from the context-free check); anything else
        // is a caller bug, reported rather than trapping on an index below.
        guard txids.count == block.transactions.count else {
            throw InconsistentInput("\(txids.count) txids for \(block.transactions.count) transactions")
        }
        guard !block.transactions.isEmpty else { throw Rejection(.blockNoTransactions) }
        // Outputs created in this block are found through their transaction (txids are
        // unique: a context-free rule), not through a map of every output.
        var transactionIndex = [Hash256: Int](minimumCapacity: txids.count)
        for (index, txid) in txids.enumerated() { transactionIndex[txid] = index }
        var spentInBlock = Set<OutPoint>(minimumCapacity: block.transactions.reduce(0) { $0 + $1.inputs.count })
        /// Outputs created and spent within the block (neither in the UTXO set nor the undo data).
        var spentCreated = Set<OutPoint>()

        for (txIndex, transaction) in block.transactions.enumerated() {
            let txid = txids[txIndex]
            let isCoinbase = txIndex == 0
            if isCoinbase {
                guard transaction.lockTime == context.height else {
                    throw Rejection(.coinbaseHeight, "lock time \(transaction.lockTime), height \(context.height)", transaction: 0)
                }
            } else {
                guard TransactionRules.isFinal(transaction, height: context.height, medianTimePast: context.medianTimePast) else {
                    throw Rejection(.txLockTime, "lock time \(transaction.lockTime) not reached", transaction: txIndex)
                }
                // Decoding gives one witness stack per input; a block built in memory might not.
                guard transaction.witnesses.count == transaction.inputs.count else {
                    throw Rejection(.scriptStackUnderflow, "\(transaction.witnesses.count) witness stacks for \(transaction.inputs.count) inputs",
                                    transaction: txIndex)
                }
                var inputTotal = Amount.zero
                for (inputIndex, input) in transaction.inputs.enumerated() {
                    let outpoint = input.previousOutput
                    guard spentInBlock.insert(outpoint).inserted else {
                        throw Rejection(.txDoubleSpend, "\(outpoint) spent twice in the block", transaction: txIndex, input: inputIndex)
                    }
                    let coin: Coin
                    let createdHere: Bool
                    if let source = transactionIndex[outpoint.txid], source < txIndex {
                        // An output of an earlier transaction of this block.
                        let outputs = block.transactions[source].outputs
                        guard Int(outpoint.index) < outputs.count, !outputs[Int(outpoint.index)].isUnspendable else {
                            throw Rejection(.txMissingInput, "\(outpoint) is not in the UTXO set", transaction: txIndex, input: inputIndex)
                        }
                        coin = Coin(output: outputs[Int(outpoint.index)], height: context.height, isCoinbase: source == 0)
                        createdHere = true
                    } else {
                        guard let stored = try view.coin(outpoint) else {
                            throw Rejection(.txMissingInput, "\(outpoint) is not in the UTXO set", transaction: txIndex, input: inputIndex)
                        }
                        coin = stored
                        createdHere = false
                    }
                    // Every coin in the set was created at or below the parent's height (or in
                    // this block): a later height can only come from a damaged view.
                    guard coin.height <= context.height else {
                        throw InconsistentInput("coin \(outpoint) has height \(coin.height), above the block at \(context.height)")
                    }
                    if coin.isCoinbase && context.height - coin.height < parameters.coinbaseMaturity {
                        throw Rejection(.txImmatureCoinbase, "coinbase from height \(coin.height) spent at \(context.height)",
                                        transaction: txIndex, input: inputIndex)
                    }
                    try checkRelativeLock(transaction, input: input, coin: coin, context: context, txIndex: txIndex, inputIndex: inputIndex)
                    guard let sum = inputTotal.adding(coin.output.value) else {
                        throw Rejection(.txInputOverflow, transaction: txIndex, input: inputIndex)
                    }
                    inputTotal = sum
                    let scriptContext = ScriptContext(transaction: transaction, txid: txid, inputIndex: inputIndex, spentOutput: coin.output)
                    do {
                        let checks = try ScriptInterpreter.verify(witness: transaction.witnesses[inputIndex],
                                                                  lockScript: coin.output.lockScript, context: scriptContext)
                        for check in checks {
                            delta.checks.append(check)
                            delta.checkLocations.append(CheckLocation(blockHash: context.blockHash, height: context.height,
                                                                      transaction: txIndex, input: inputIndex))
                        }
                    } catch {
                        throw Rejection(error.rule, error.description, transaction: txIndex, input: inputIndex)
                    }
                    if createdHere {
                        spentCreated.insert(outpoint)
                    } else {
                        delta.spent.append((outpoint, coin))
                    }
                    delta.inputCount += 1
                }
                guard let outputTotal = Amount.sum(transaction.outputs.map(\.value)) else {
                    throw Rejection(.txOutputOverflow, transaction: txIndex)
                }
                guard let fee = inputTotal.subtracting(outputTotal) else {
                    throw Rejection(.txOutputsExceedInputs, "inputs \(inputTotal), outputs \(outputTotal)", transaction: txIndex)
                }
                guard let fees = delta.fees.adding(fee) else { throw Rejection(.blockFeeOverflow, transaction: txIndex) }
                delta.fees = fees
            }
        }

        guard let coinbaseValue = Amount.sum(block.transactions[0].outputs.map(\.value)) else {
            throw Rejection(.txOutputOverflow, transaction: 0)
        }
        guard let allowed = parameters.subsidy(height: context.height).adding(delta.fees), !(allowed < coinbaseValue) else {
            throw Rejection(.coinbaseValue, "pays \(coinbaseValue), allowed subsidy plus fees \(parameters.subsidy(height: context.height).adding(delta.fees).map(\.description) ?? "overflow")",
                            transaction: 0)
        }
        delta.created.reserveCapacity(block.transactions.reduce(0) { $0 + $1.outputs.count })
        for (txIndex, transaction) in block.transactions.enumerated() {
            for (outputIndex, output) in transaction.outputs.enumerated() where !output.isUnspendable {
                // Decoding caps outputs at 1,000,000; an index past UInt32 is unaddressable.
                guard let index = UInt32(exactly: outputIndex) else {
                    throw Rejection(.txOutputOverflow, "output \(outputIndex) cannot be addressed", transaction: txIndex)
                }
                let outpoint = OutPoint(txid: txids[txIndex], index: index)
                if !spentCreated.isEmpty && spentCreated.contains(outpoint) { continue }
                delta.created.append((outpoint, Coin(output: output, height: context.height, isCoinbase: txIndex == 0)))
            }
        }
        return delta
    }
}
