// Reading the wallet: coins, balances, history (bitcoind's listunspent/listtransactions),
// summary, pending sends.

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

extension Wallet {
    var tipHeight: UInt64 { document.scannedHeight ?? 0 }

    func confirmations(_ item: Tracked) -> UInt64 {
        guard let height = item.record.blockHeight, tipHeight >= height else { return 0 }
        return tipHeight - height + 1
    }

    /// Spendable in the next block: a coinbase needs `coinbaseMaturity` blocks between them.
    func isMature(_ item: Tracked) -> Bool {
        guard item.transaction.isCoinbase else { return true }
        guard let height = item.record.blockHeight else { return false }
        return tipHeight + 1 - height >= coinbaseMaturity
    }

    func address(_ ref: KeyRef) -> Address {
        Address(keyHash: StandardScript.keyHash(publicKeys[ref]!), network: network)
    }

    func allCoins() -> [WalletCoin] {
        var coins = [WalletCoin]()
        let burned = burnedGovernanceCollaterals
        for item in tracked.values where item.record.replacedBy == nil {
            for (index, output) in item.transaction.outputs.enumerated() {
                let outpoint = OutPoint(txid: item.txid, index: UInt32(index))
                guard let ref = owner(output), spentBy[outpoint] == nil, !burned.contains(outpoint) else { continue }
                let confirmations = confirmations(item)
                let spendable = confirmations > 0 ? isMature(item) : item.record.fromMe
                let address = address(ref)
                coins.append(WalletCoin(outpoint: outpoint, output: output, address: address, label: document.labels[address.text],
                                        confirmations: confirmations, isCoinbase: item.transaction.isCoinbase, spendable: spendable,
                                        isChange: ref.internal))
            }
        }
        return coins.sorted { ($0.confirmations, $0.outpoint.txid, $0.outpoint.index) > ($1.confirmations, $1.outpoint.txid, $1.outpoint.index) }
    }

    public var balances: WalletBalances {
        lock.withLock {
            var balances = WalletBalances(trusted: 0, untrustedPending: 0, immature: 0)
            for coin in allCoins() {
                let value = coin.output.value.baseUnits
                if coin.spendable { balances.trusted += value } else if coin.isCoinbase { balances.immature += value } else {
                    balances.untrustedPending += value
                }
            }
            return balances
        }
    }

    /// Unspent, spendable coins with confirmations in the range (bitcoind's listunspent), optionally only to `addresses`.
    public func unspent(minimumConfirmations: UInt64 = 1, maximumConfirmations: UInt64 = 9_999_999,
                        addresses: Set<Address>? = nil) -> [WalletCoin] {
        lock.withLock {
            allCoins().filter { coin in
                coin.spendable && coin.confirmations >= minimumConfirmations && coin.confirmations <= maximumConfirmations
                    && (addresses.map { $0.contains(coin.address) } ?? true)
            }
        }
    }

    /// bitcoind's listtransactions: the most recent `count` entries after skipping `skip`
    /// from the newest, oldest first; `label` nil or "*" for all.
    public func transactions(label: String? = nil, count: Int = 10, skip: Int = 0) -> [WalletTransactionEntry] {
        lock.withLock {
            var entries = [WalletTransactionEntry]()
            for item in tracked.values.sorted(by: Self.historyOrder) { entries += self.entries(item) }
            if let label, label != "*" { entries = entries.filter { $0.label == label } }
            let end = max(0, entries.count - max(0, skip))
            let start = max(0, end - max(0, count))
            return Array(entries[start..<end])
        }
    }

    func entries(_ item: Tracked) -> [WalletTransactionEntry] {
        let confirmations = confirmations(item)
        func entry(_ category: WalletTransactionEntry.Category, _ vout: Int, _ amount: Int64, _ address: Address?, fee: Int64? = nil) -> WalletTransactionEntry {
            WalletTransactionEntry(txid: item.txid, category: category, address: address, label: address.flatMap { document.labels[$0.text] },
                                   vout: vout, amount: amount, fee: fee, confirmations: confirmations, blockHash: item.blockHash,
                                   blockHeight: item.record.blockHeight, blockIndex: item.record.blockPosition, blockTime: item.record.blockTime,
                                   time: item.record.receivedAt, timeReceived: item.record.receivedAt,
                                   comment: item.record.comment, commentTo: item.record.commentTo,
                                   replacedBy: item.record.replacedBy.flatMap { Hash256(hex: $0) },
                                   replaces: item.record.replaces.flatMap { Hash256(hex: $0) })
        }
        var result = [WalletTransactionEntry]()
        if item.record.fromMe {
            // The fee is known when every input is the wallet's.
            var inputTotal: UInt64? = 0
            for input in item.transaction.inputs {
                guard let source = tracked[input.previousOutput.txid], Int(input.previousOutput.index) < source.transaction.outputs.count,
                      owner(source.transaction.outputs[Int(input.previousOutput.index)]) != nil else { inputTotal = nil; break }
                inputTotal = inputTotal.map { $0 + source.transaction.outputs[Int(input.previousOutput.index)].value.baseUnits }
            }
            let outputTotal = item.transaction.outputs.reduce(UInt64(0)) { $0 + $1.value.baseUnits }
            let fee = inputTotal.flatMap { $0 >= outputTotal ? -Int64($0 - outputTotal) : nil }
            for (index, output) in item.transaction.outputs.enumerated() {
                let ref = owner(output)
                if ref?.internal == true { continue } // change
                let address = ref.map(address) ?? Address.from(lockScript: output.lockScript, network: network)
                result.append(entry(.send, index, -Int64(output.value.baseUnits), address, fee: fee))
            }
        }
        for (index, output) in item.transaction.outputs.enumerated() {
            guard let ref = owner(output), !ref.internal else { continue }
            let category: WalletTransactionEntry.Category = item.transaction.isCoinbase ? (isMature(item) ? .generate : .immature) : .receive
            result.append(entry(category, index, Int64(output.value.baseUnits), address(ref)))
        }
        return result
    }

    public var summary: WalletSummary {
        lock.withLock {
            relockIfExpired()
            return WalletSummary(network: network, path: path, createdAt: document.createdAt,
                                 keypoolSize: document.keys.filter { !$0.internal && $0.index >= document.nextExternal }.count,
                                 keypoolSizeInternal: document.keys.filter { $0.internal && $0.index >= document.nextInternal }.count,
                                 transactionCount: tracked.count,
                                 unlockedUntil: unlockedUntil.map { UInt64($0.timeIntervalSince1970) },
                                 scannedHeight: document.scannedHeight, scannedHash: document.scannedHash.flatMap { Hash256(hex: $0) },
                                 kdf: document.kdf)
        }
    }

    /// The wallet's own sends not yet in a block, parents before children: what to submit to
    /// the pool again after a restart (Bitcoin Core rebroadcasts them too).
    public var pendingTransactions: [Transaction] {
        lock.withLock {
            let pending = tracked.values.filter { $0.record.blockHeight == nil && $0.record.fromMe && $0.record.replacedBy == nil }
                .sorted(by: Self.historyOrder)
            let byTxid = Dictionary(uniqueKeysWithValues: pending.map { ($0.txid, $0) })
            var emitted = Set<Hash256>()
            var ordered = [Transaction]()
            func visit(_ item: Tracked) {
                guard emitted.insert(item.txid).inserted else { return }
                for input in item.transaction.inputs { if let parent = byTxid[input.previousOutput.txid] { visit(parent) } }
                ordered.append(item.transaction)
            }
            pending.forEach(visit)
            return ordered
        }
    }

    /// Forgets an own send that is in no block (the pool dropped it or never took it), and
    /// its unconfirmed descendants, so its coins can be spent again (bitcoind's
    /// abandontransaction; the caller checks the pool no longer holds it).
    public func abandon(_ txid: Hash256) throws(WalletError) {
        try locked { () throws(WalletError) in
            guard let item = tracked[txid] else { throw .invalidParameter("Invalid or non-wallet transaction id") }
            guard item.record.blockHeight == nil, item.record.fromMe else { throw .invalidParameter("Transaction not eligible for abandonment") }
            remove(txid)
            try save()
        }
    }

    /// Whether `address` is one of the wallet's keys.
    public func owns(_ address: Address) -> Bool { lock.withLock { keysByHash[address.keyHash] != nil } }
}
