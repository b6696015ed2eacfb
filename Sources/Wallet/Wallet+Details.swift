// One wallet transaction in full (bitcoind's gettransaction).

import Foundation
import Primitives

/// A wallet transaction with its history lines (bitcoind's gettransaction).
public struct WalletTransactionDetail: Sendable {
    public var txid: Hash256
    public var transaction: Transaction
    /// Its listtransactions lines (bitcoind's "details").
    public var entries: [WalletTransactionEntry]
    /// Signed base units: received minus sent to others (the fee apart).
    public var amount: Int64
    /// Negative, on sends whose every input is the wallet's.
    public var fee: Int64?
    public var confirmations: UInt64
    public var blockHash: Hash256?
    public var blockHeight: UInt64?
    public var blockIndex: Int?
    public var blockTime: UInt64?
    public var timeReceived: UInt64
    public var comment: String?
    public var commentTo: String?
    public var replacedBy: Hash256?
    public var replaces: Hash256?
    /// Counted in the trusted balance: in a block, or the wallet's own send still standing.
    public var trusted: Bool
}

extension Wallet {
    /// The wallet's transaction `txid`, nil when the wallet does not hold it.
    public func transaction(_ txid: Hash256) -> WalletTransactionDetail? {
        lock.withLock {
            guard let item = tracked[txid] else { return nil }
            let entries = self.entries(item)
            let confirmations = confirmations(item)
            return WalletTransactionDetail(
                txid: txid, transaction: item.transaction, entries: entries, amount: entries.reduce(0) { $0 + $1.amount },
                fee: entries.first { $0.fee != nil }?.fee, confirmations: confirmations, blockHash: item.blockHash,
                blockHeight: item.record.blockHeight, blockIndex: item.record.blockPosition, blockTime: item.record.blockTime,
                timeReceived: item.record.receivedAt, comment: item.record.comment, commentTo: item.record.commentTo,
                replacedBy: item.record.replacedBy.flatMap { Hash256(hex: $0) }, replaces: item.record.replaces.flatMap { Hash256(hex: $0) },
                trusted: confirmations > 0 || (item.record.fromMe && item.record.replacedBy == nil))
        }
    }
}
