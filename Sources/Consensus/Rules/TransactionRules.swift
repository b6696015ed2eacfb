import Primitives

/// Transaction rules. Context-free ones need only the transaction; the contextual ones
/// (inputs, fees, maturity, locks, scripts) are `ContextualRules`, which read a `UTXOView`.
public enum TransactionRules {
    public static let maxCoinbaseWitnessBytes = 100

    public static func checkContextFree(_ transaction: Transaction, isCoinbase: Bool) throws(Rejection) {
        // A quorum commitment moves no coins (PROTOCOL section 17.3): exactly no inputs and no
        // outputs; its payload (unique per quorum) keeps its txid unique.
        if transaction.specialType == .quorumCommitment && !isCoinbase {
            guard transaction.inputs.isEmpty, transaction.outputs.isEmpty else {
                throw Rejection(.quorumCommitmentShape, "\(transaction.inputs.count) inputs and \(transaction.outputs.count) outputs, expected none")
            }
            return
        }
        // A governance vote moves no coins either (section 18.3): fee-less, its payload signed.
        // The owner's signature covers only the payload, so every other field is fixed: one
        // signed vote is exactly one txid, which no relayer can vary.
        if transaction.specialType == .governanceVote && !isCoinbase {
            guard transaction.inputs.isEmpty, transaction.outputs.isEmpty else {
                throw Rejection(.governanceVoteShape, "\(transaction.inputs.count) inputs and \(transaction.outputs.count) outputs, expected none")
            }
            let standardVersion = UInt32(SpecialTransactionType.governanceVote.rawValue) << 16 | 1
            guard transaction.version == standardVersion, transaction.lockTime == 0 else {
                throw Rejection(.governanceVoteShape, "version \(transaction.version) and lock time \(transaction.lockTime), expected \(standardVersion) and 0")
            }
            return
        }
        guard !transaction.inputs.isEmpty else { throw Rejection(.txNoInputs) }
        guard !transaction.outputs.isEmpty else { throw Rejection(.txNoOutputs) }
        guard Amount.sum(transaction.outputs.map(\.value)) != nil else { throw Rejection(.txOutputOverflow) }
        if transaction.isSpecial {
            guard !isCoinbase else { throw Rejection(.txSpecialType, "a coinbase is never a special transaction") }
            guard transaction.specialType != nil else { throw Rejection(.txSpecialType, "unknown special type \(transaction.rawSpecialType)") }
        }
        if isCoinbase {
            let witnessBytes = transaction.witnesses.first?.reduce(0) { $0 + $1.count } ?? 0
            guard witnessBytes <= maxCoinbaseWitnessBytes else { throw Rejection(.txCoinbaseWitnessSize, "\(witnessBytes) bytes") }
        } else {
            var spent = Set<OutPoint>()
            for (index, input) in transaction.inputs.enumerated() {
                guard !input.previousOutput.isNull else { throw Rejection(.txNullPrevout, input: index) }
                guard spent.insert(input.previousOutput).inserted else {
                    throw Rejection(.txDuplicateInput, input.previousOutput.description, input: index)
                }
            }
        }
    }

    /// Absolute lock time: final when zero, below the block height (heights) or the
    /// median-time-past (times), or when every input's sequence is final.
    public static func isFinal(_ transaction: Transaction, height: UInt64, medianTimePast: UInt64) -> Bool {
        if transaction.lockTime == 0 { return true }
        let limit = transaction.lockTime < ScriptInterpreter.lockTimeThreshold ? height : medianTimePast
        if transaction.lockTime < limit { return true }
        return transaction.inputs.allSatisfy { $0.sequence == TxIn.finalSequence }
    }
}
