// Keys (addresses from the pool, unlocking, export) and sending (selection, signing,
// broadcast, recording).

import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives

extension Wallet {
    /// The next unused receiving address (from the pool: works while locked until it runs out).
    public func newAddress(label: String? = nil) throws(WalletError) -> Address {
        try locked { () throws(WalletError) -> Address in
            relockIfExpired()
            if let seed { WalletFile.topUp(&document, seed: seed).forEach { index($0, publicKey: HexCoding.decode($0.publicKey)!) } }
            let ref = KeyRef(internal: false, index: document.nextExternal)
            guard publicKeys[ref] != nil else { throw .keypoolExhausted }
            document.nextExternal += 1
            let address = address(ref)
            if let label { document.labels[address.text] = label }
            try save()
            return address
        }
    }

    public var isLocked: Bool { lock.withLock { relockIfExpired(); return seed == nil } }

    /// Decrypts the seed and keeps it for `seconds` (bitcoind's walletpassphrase); refills the key pool.
    public func unlock(passphrase: String, seconds: UInt64) throws(WalletError) {
        let document = lock.withLock { self.document }
        let seed = try WalletFile.unseal(document, passphrase: passphrase)
        try locked { () throws(WalletError) in
            self.seed = seed
            unlockedUntil = Date(timeIntervalSinceNow: TimeInterval(min(seconds, 100_000_000)))
            let added = WalletFile.topUp(&self.document, seed: seed)
            for entry in added { index(entry, publicKey: HexCoding.decode(entry.publicKey)!) }
            if !added.isEmpty { try save() }
        }
    }

    public func lockNow() { lock.withLock { wipe() } }

    func relockIfExpired() {
        if let until = unlockedUntil, until <= Date() { wipe() }
    }

    func wipe() {
        if seed != nil { seed!.withUnsafeMutableBufferPointer { $0.update(repeating: 0) } }
        seed = nil
        unlockedUntil = nil
    }

    /// The Ed25519 secret seed (32 bytes) of one of the wallet's addresses; needs the
    /// passphrase even when unlocked.
    public func exportKey(_ address: Address, passphrase: String) throws(WalletError) -> [UInt8] {
        let (document, ref) = lock.withLock { (self.document, keysByHash[address.keyHash]) }
        let seed = try WalletFile.unseal(document, passphrase: passphrase)
        guard let ref else { throw .unknownAddress(address.text) }
        return WalletFile.secretSeed(seed: seed, internal: ref.internal, index: ref.index)
    }

    /// Whether `passphrase` opens the wallet (without unlocking it).
    public func checkPassphrase(_ passphrase: String) throws(WalletError) {
        let document = lock.withLock { self.document }
        _ = try WalletFile.unseal(document, passphrase: passphrase)
    }

    // MARK: Sending

    /// Builds, signs and hands to `broadcast` a payment of `amount` to `address` at `feeRate`
    /// (base units per 1,000 bytes), then records it. Change goes to a fresh internal key;
    /// the outputs are in random order. Nothing is recorded when `broadcast` throws (its
    /// error is rethrown).
    public func send(to address: Address, amount: Amount, subtractFeeFromAmount: Bool = false, feeRate: UInt64,
                     comment: String? = nil, commentTo: String? = nil,
                     broadcast: (Transaction) throws -> Void) throws -> SentTransaction {
        try sendLock.withLock {
            let (sent, changeIndex) = try locked { () throws(WalletError) in
                try build(to: address, amount: amount, subtractFeeFromAmount: subtractFeeFromAmount, feeRate: feeRate)
            }
            try broadcast(sent.transaction)
            try locked { () throws(WalletError) in
                try record(sent.transaction, txid: sent.txid, changeIndex: changeIndex, comment: comment, commentTo: commentTo)
            }
            return sent
        }
    }

    /// Records a transaction the wallet built and broadcast, and marks its change key used.
    func record(_ transaction: Transaction, txid: Hash256, changeIndex: UInt32?, comment: String?, commentTo: String? = nil) throws(WalletError) {
        if let changeIndex, changeIndex >= document.nextInternal { document.nextInternal = changeIndex + 1 }
        let record = TransactionRecord(raw: HexCoding.encode(transaction.encoded), blockHash: nil, blockHeight: nil,
                                       blockTime: nil, blockPosition: nil, receivedAt: UInt64(Date().timeIntervalSince1970),
                                       fromMe: true, comment: comment, commentTo: commentTo)
        if tracked[txid] == nil {
            insert(Tracked(transaction: transaction, txid: txid, record: record, blockHash: nil))
        }
        try save()
    }

    /// The exact encoded size of a P2KH spend with `inputs` inputs, one payment and maybe change.
    static func transactionSize(inputs: Int, withChange: Bool) -> Int {
        let script = [UInt8](repeating: 0, count: 37)
        let outputs = [TxOut](repeating: TxOut(value: .zero, lockScript: script), count: withChange ? 2 : 1)
        let transaction = Transaction(version: 2, inputs: [TxIn](repeating: TxIn(previousOutput: .null), count: inputs), outputs: outputs,
                                      witnesses: [[[UInt8]]](repeating: [[UInt8](repeating: 0, count: Ed25519.signatureLength),
                                                                         [UInt8](repeating: 0, count: Ed25519.publicKeyLength)],
                                                             count: inputs))
        return transaction.encoded.count
    }

    func build(to address: Address, amount: Amount, subtractFeeFromAmount: Bool,
                       feeRate: UInt64) throws(WalletError) -> (SentTransaction, UInt32?) {
        relockIfExpired()
        guard let seed else { throw .locked }
        guard address.prefix == Address(keyHash: address.keyHash, network: network).prefix else {
            throw .invalidParameter("address \(address.text) is not for \(network)")
        }
        // Masternode collateral stays put: spending it would end the masternode.
        let collaterals = lockedCollaterals
        let candidates = allCoins().filter { $0.spendable && !collaterals.contains($0.outpoint) }
        let selection = try CoinSelection.select(values: candidates.map(\.output.value.baseUnits), amount: amount.baseUnits,
                                                 subtractFee: subtractFeeFromAmount, feeRate: feeRate, dust: Self.dustThreshold,
                                                 size: Self.transactionSize)
        guard Self.transactionSize(inputs: selection.inputs.count, withChange: selection.change > 0) <= Self.maxTransactionBytes else {
            throw .invalidParameter("Transaction too large")
        }
        var outputs = [TxOut(value: Amount(baseUnits: selection.recipientValue)!, lockScript: address.lockScript)]
        var changeIndex: UInt32?
        if selection.change > 0 {
            WalletFile.topUp(&document, seed: seed).forEach { index($0, publicKey: HexCoding.decode($0.publicKey)!) }
            let ref = KeyRef(internal: true, index: document.nextInternal)
            outputs.append(TxOut(value: Amount(baseUnits: selection.change)!, lockScript: self.address(ref).lockScript))
            changeIndex = ref.index
        }
        var generator = SystemRandomNumberGenerator()
        outputs.shuffle(using: &generator)
        let spent = selection.inputs.map { candidates[$0] }
        var transaction = Transaction(version: 2, inputs: spent.map { TxIn(previousOutput: $0.outpoint) }, outputs: outputs)
        let txid = transaction.txid
        for (index, coin) in spent.enumerated() {
            guard let ref = keysByHash[coin.address.keyHash] else { throw .corrupt("no key for \(coin.address)") }
            let key = WalletFile.signingKey(seed: seed, internal: ref.internal, index: ref.index)
            let message = Sighash.compute(txid: txid, inputIndex: UInt32(index), spentOutput: coin.output)
            transaction.witnesses[index] = [key.sign(message: message.bytes), key.publicKey]
        }
        return (SentTransaction(transaction: transaction, txid: txid, fee: selection.fee, recipientValue: selection.recipientValue,
                                change: selection.change), changeIndex)
    }
}
