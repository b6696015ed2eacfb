import Primitives

extension ContextualRules {
    /// BIP 68 relative lock of one input (`tx-sequence-lock`): by height from the coin's
    /// height, or by time from the median-time-past before the coin's block.
    @usableFromInline
    static func checkRelativeLock(_ transaction: Transaction, input: TxIn, coin: Coin, context: Context,
                                  txIndex: Int?, inputIndex: Int) throws(Rejection) {
        guard transaction.version >= 2, input.sequence & RelativeLock.disableFlag == 0 else { return }
        let value = UInt64(input.sequence & RelativeLock.valueMask)
        if input.sequence & RelativeLock.typeFlag != 0 {
            let start = context.medianTimePastBefore(coin.height)
            // value * 512 < 2^25; a sum past UInt64 is a lock that never expires (not a wrap).
            let (unlock, overflow) = start.addingReportingOverflow(value * 512)
            guard !overflow, context.medianTimePast >= unlock else {
                throw Rejection(.txSequenceLock, "time-based relative lock of \(value * 512) s", transaction: txIndex, input: inputIndex)
            }
        } else {
            let (unlock, overflow) = coin.height.addingReportingOverflow(value)
            guard !overflow, context.height >= unlock else {
                throw Rejection(.txSequenceLock, "relative lock of \(value) blocks", transaction: txIndex, input: inputIndex)
            }
        }
    }
}
