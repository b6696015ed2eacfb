import Primitives

/// The rules that need the coins a block spends, and script execution, for one block in
/// block order: coinbase height and value, lock times, missing and double spends, coinbase
/// maturity, sequence locks, amounts and fees, and each input's script (whose signature
/// checks are collected, not verified). Reads coins through a `UTXOView` (the set before
/// the block) and mutates nothing: the caller applies the delta only when every rule passed.
/// The per-transaction input rules are one function (`checkSpends`), which `connect` runs for
/// each transaction and `checkTransaction` exposes to the mempool (DESIGN section 9).
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
                var createdHere = false
                let fee = try checkSpends(
                    transaction, txid: txid, position: txIndex, context: context, parameters: parameters,
                    coin: { outpoint, inputIndex in
                        guard spentInBlock.insert(outpoint).inserted else {
                            throw Rejection(.txDoubleSpend, "\(outpoint) spent twice in the block", transaction: txIndex, input: inputIndex)
                        }
                        if let source = transactionIndex[outpoint.txid], source < txIndex {
                            // An output of an earlier transaction of this block.
                            createdHere = true
                            let outputs = block.transactions[source].outputs
                            guard Int(outpoint.index) < outputs.count, !outputs[Int(outpoint.index)].isUnspendable else { return nil }
                            return Coin(output: outputs[Int(outpoint.index)], height: context.height, isCoinbase: source == 0)
                        }
                        createdHere = false
                        return try view.coin(outpoint)
                    },
                    spent: { outpoint, coin in
                        if createdHere {
                            spentCreated.insert(outpoint)
                        } else {
                            delta.spent.append((outpoint, coin))
                        }
                        delta.inputCount += 1
                    },
                    signatureCheck: { check, inputIndex in
                        delta.checks.append(check)
                        delta.checkLocations.append(CheckLocation(blockHash: context.blockHash, height: context.height,
                                                                  transaction: txIndex, input: inputIndex))
                    })
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

/// What one transaction's contextual check found (for the mempool and other single-transaction callers).
public struct TransactionCheck: Sendable {
    public var fee: Amount
    /// The coins its inputs spend, in input order.
    public var spent: [(OutPoint, Coin)]
    /// Signature checks collected from its scripts (not verified yet), and the input each came from.
    public var checks: [SignatureCheck]
    public var checkInputs: [Int]

    @inlinable
    public init(fee: Amount, spent: [(OutPoint, Coin)], checks: [SignatureCheck], checkInputs: [Int]) {
        self.fee = fee
        self.spent = spent
        self.checks = checks
        self.checkInputs = checkInputs
    }
}

extension ContextualRules {
    /// The contextual rules of one non-coinbase transaction against `view` (the coins
    /// before it), as a block at `context.height` would apply them: the same code `connect`
    /// runs for each of a block's transactions. A mempool passes a view over chain state plus
    /// pool, height = tip height + 1 and the tip's median-time-past. Signature checks are
    /// collected, not verified. Rejections carry no transaction index (only the input).
    @inlinable
    public static func checkTransaction<View: UTXOView>(_ transaction: Transaction, txid: Hash256, context: Context,
                                                        parameters: ConsensusParameters, view: View) throws -> TransactionCheck {
        var spent = [(OutPoint, Coin)]()
        spent.reserveCapacity(transaction.inputs.count)
        var checks = [SignatureCheck]()
        var checkInputs = [Int]()
        let fee = try checkSpends(
            transaction, txid: txid, position: nil, context: context, parameters: parameters,
            coin: { outpoint, _ in try view.coin(outpoint) },
            spent: { spent.append(($0, $1)) },
            signatureCheck: { checks.append($0); checkInputs.append($1) })
        return TransactionCheck(fee: fee, spent: spent, checks: checks, checkInputs: checkInputs)
    }

    /// The one implementation of the per-transaction input rules: finality, witness count,
    /// missing and double spends (through `coin`, which returns nil for a missing coin and
    /// may throw its own rejection), coinbase maturity, relative locks, amounts, scripts and
    /// the fee (returned). `spent` hears each input's coin once every rule on it passed;
    /// `signatureCheck` each collected check with its input index. `position` is the
    /// transaction's index in its block, for rejections (nil outside a block). Always inlined,
    /// so `connect`'s closures become straight-line code in its specialization (the
    /// verify-chain hot path costs what it did before these rules were shared).
    @inlinable @inline(__always)
    static func checkSpends(_ transaction: Transaction, txid: Hash256, position: Int?, context: Context, parameters: ConsensusParameters,
                            coin lookup: (OutPoint, Int) throws -> Coin?, spent: (OutPoint, Coin) -> Void,
                            signatureCheck: (SignatureCheck, Int) -> Void) throws -> Amount {
        guard TransactionRules.isFinal(transaction, height: context.height, medianTimePast: context.medianTimePast) else {
            throw Rejection(.txLockTime, "lock time \(transaction.lockTime) not reached", transaction: position)
        }
        // Decoding gives one witness stack per input; a transaction built in memory might not.
        guard transaction.witnesses.count == transaction.inputs.count else {
            throw Rejection(.scriptStackUnderflow, "\(transaction.witnesses.count) witness stacks for \(transaction.inputs.count) inputs",
                            transaction: position)
        }
        var inputTotal = Amount.zero
        for (inputIndex, input) in transaction.inputs.enumerated() {
            let outpoint = input.previousOutput
            guard let coin = try lookup(outpoint, inputIndex) else {
                throw Rejection(.txMissingInput, "\(outpoint) is not in the UTXO set", transaction: position, input: inputIndex)
            }
            // A coin in the set before the block was created at or below its height (or in
            // this block): a later height can only come from a damaged view.
            guard coin.height <= context.height else {
                throw InconsistentInput("coin \(outpoint) has height \(coin.height), above the block at \(context.height)")
            }
            if coin.isCoinbase && context.height - coin.height < parameters.coinbaseMaturity {
                throw Rejection(.txImmatureCoinbase, "coinbase from height \(coin.height) spent at \(context.height)",
                                transaction: position, input: inputIndex)
            }
            try checkRelativeLock(transaction, input: input, coin: coin, context: context, txIndex: position, inputIndex: inputIndex)
            guard let sum = inputTotal.adding(coin.output.value) else {
                throw Rejection(.txInputOverflow, transaction: position, input: inputIndex)
            }
            inputTotal = sum
            let scriptContext = ScriptContext(transaction: transaction, txid: txid, inputIndex: inputIndex, spentOutput: coin.output)
            do {
                let checks = try ScriptInterpreter.verify(witness: transaction.witnesses[inputIndex],
                                                          lockScript: coin.output.lockScript, context: scriptContext)
                for check in checks { signatureCheck(check, inputIndex) }
            } catch {
                throw Rejection(error.rule, error.description, transaction: position, input: inputIndex)
            }
            spent(outpoint, coin)
        }
        guard let outputTotal = Amount.sum(transaction.outputs.map(\.value)) else {
            throw Rejection(.txOutputOverflow, transaction: position)
        }
        guard let fee = inputTotal.subtracting(outputTotal) else {
            throw Rejection(.txOutputsExceedInputs, "inputs \(inputTotal), outputs \(outputTotal)", transaction: position)
        }
        return fee
    }
}
