// What the wallet reports: balances, coins, history entries, a summary, a sent transaction.

import Primitives

/// Balances in base units (bitcoind's `getbalances` "mine" fields).
public struct WalletBalances: Equatable, Sendable {
    /// Confirmed and spendable, plus the change of the wallet's own unconfirmed sends.
    public var trusted: UInt64
    /// Unconfirmed payments from others.
    public var untrustedPending: UInt64
    /// Coinbase outputs not yet mature.
    public var immature: UInt64
}

/// An unspent output of the wallet.
public struct WalletCoin: Equatable, Sendable {
    public var outpoint: OutPoint
    public var output: TxOut
    public var address: Address
    public var label: String?
    /// 0 while unconfirmed.
    public var confirmations: UInt64
    public var isCoinbase: Bool
    /// Spendable now (confirmed and mature, or the change of an own unconfirmed send).
    public var spendable: Bool
    /// Pays one of the wallet's change keys.
    public var isChange: Bool
}

/// One line of `listtransactions`.
public struct WalletTransactionEntry: Equatable, Sendable {
    public enum Category: String, Sendable { case send, receive, generate, immature }
    public var txid: Hash256
    public var category: Category
    public var address: Address?
    public var label: String?
    public var vout: Int
    /// Signed base units: negative for sends.
    public var amount: Int64
    /// Negative, on sends whose every input is the wallet's.
    public var fee: Int64?
    public var confirmations: UInt64
    public var blockHash: Hash256?
    public var blockHeight: UInt64?
    public var blockIndex: Int?
    public var blockTime: UInt64?
    public var time: UInt64
    public var timeReceived: UInt64
    public var comment: String?
    public var commentTo: String?
    /// A send the wallet replaced by fee: its replacement (bitcoind's replaced_by_txid).
    public var replacedBy: Hash256?
    /// A replacement: the send it replaced (bitcoind's replaces_txid).
    public var replaces: Hash256?
}

/// What `getwalletinfo` and `rusty wallet info` show.
public struct WalletSummary: Equatable, Sendable {
    public var network: String
    public var path: String
    public var createdAt: UInt64
    public var keypoolSize: Int
    public var keypoolSizeInternal: Int
    public var transactionCount: Int
    /// nil: locked.
    public var unlockedUntil: UInt64?
    public var scannedHeight: UInt64?
    public var scannedHash: Hash256?
    public var kdf: KDFParameters
}

/// A transaction the wallet built, signed and broadcast.
public struct SentTransaction: Sendable {
    public var transaction: Transaction
    public var txid: Hash256
    public var fee: UInt64
    public var recipientValue: UInt64
    public var change: UInt64
}
