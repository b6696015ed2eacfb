// Replace-by-fee of the wallet's own sends (bitcoind's bumpfee): the same inputs and
// payment, the change paying the higher fee; the wallet follows the replacement.

import ChainState
import Consensus
import Foundation
import Primitives

/// A send replaced by one paying more (the result of `bumpFee`).
public struct FeeBump: Sendable {
    public var original: Hash256
    public var originalFee: UInt64
    public var replacement: SentTransaction
}

extension Wallet {
    /// Replaces the unconfirmed send `txid` by the same payment paying a higher fee, taken
    /// from its change: `feeRate` (base units per 1,000 bytes) when given, else the larger of
    /// `defaultFeeRate` and the least a replacement must pay (the old fee plus
    /// `incrementalFeeRate` for its size, the pool's rule). Hands the replacement to
    /// `broadcast`; once accepted the old send is marked replaced and leaves the balance.
    @discardableResult
    public func bumpFee(_ txid: Hash256, feeRate: UInt64?, defaultFeeRate: UInt64, incrementalFeeRate: UInt64,
                        broadcast: (Transaction) throws -> Void) throws -> FeeBump {
        try sendLock.withLock {
            let bump = try locked { () throws(WalletError) in
                try buildBump(txid, feeRate: feeRate, defaultFeeRate: defaultFeeRate, incrementalFeeRate: incrementalFeeRate)
            }
            try broadcast(bump.replacement.transaction)
            try locked { () throws(WalletError) in
                guard var original = tracked[txid] else { return }
                // The old send's coins are the replacement's now.
                for input in original.transaction.inputs where spentBy[input.previousOutput] == txid { spentBy[input.previousOutput] = nil }
                original.record.replacedBy = bump.replacement.txid.hex
                tracked[txid] = original
                var record = TransactionRecord(raw: HexCoding.encode(bump.replacement.transaction.encoded), blockHash: nil, blockHeight: nil,
                                               blockTime: nil, blockPosition: nil, receivedAt: UInt64(Date().timeIntervalSince1970),
                                               fromMe: true, comment: original.record.comment, commentTo: original.record.commentTo)
                record.replaces = txid.hex
                if tracked[bump.replacement.txid] == nil {
                    insert(Tracked(transaction: bump.replacement.transaction, txid: bump.replacement.txid, record: record, blockHash: nil))
                }
                try save()
            }
            return bump
        }
    }

    func buildBump(_ txid: Hash256, feeRate: UInt64?, defaultFeeRate: UInt64, incrementalFeeRate: UInt64) throws(WalletError) -> FeeBump {
        relockIfExpired()
        guard let seed else { throw .locked }
        guard let item = tracked[txid], item.record.fromMe, !item.transaction.isCoinbase else {
            throw .invalidParameter("Invalid or non-wallet transaction id")
        }
        guard item.record.blockHeight == nil else { throw .invalidParameter("Transaction has been mined, or is conflicted with a mined transaction") }
        if let replacement = item.record.replacedBy {
            throw .invalidParameter("Cannot bump transaction \(txid.hex) which was already bumped by transaction \(replacement)")
        }
        for index in item.transaction.outputs.indices where spentBy[OutPoint(txid: txid, index: UInt32(index))] != nil {
            throw .invalidParameter("Transaction has descendants in the wallet")
        }
        // Every input must be the wallet's: it signs them all again and knows the fee.
        var spent = [TxOut]()
        for input in item.transaction.inputs {
            guard let source = tracked[input.previousOutput.txid], Int(input.previousOutput.index) < source.transaction.outputs.count,
                  owner(source.transaction.outputs[Int(input.previousOutput.index)]) != nil else {
                throw .invalidParameter("Transaction contains inputs that don't belong to this wallet")
            }
            spent.append(source.transaction.outputs[Int(input.previousOutput.index)])
        }
        let inputTotal = spent.reduce(UInt64(0)) { $0 + $1.value.baseUnits }
        let outputTotal = item.transaction.outputs.reduce(UInt64(0)) { $0 + $1.value.baseUnits }
        guard inputTotal >= outputTotal else { throw .corrupt("send \(txid.hex) pays out more than it spends") }
        let originalFee = inputTotal - outputTotal
        guard let changeIndex = item.transaction.outputs.firstIndex(where: { owner($0)?.internal == true }) else {
            throw .invalidParameter("Transaction does not have a change output")
        }
        // New values keep every field's length: the replacement has the old size.
        let size = item.transaction.encoded.count
        let (minimumFee, overflow) = originalFee.addingReportingOverflow(CoinSelection.fee(rate: incrementalFeeRate, bytes: size))
        guard !overflow else { throw .invalidParameter("fee out of range") }
        let newFee: UInt64
        if let feeRate {
            newFee = CoinSelection.fee(rate: feeRate, bytes: size)
            guard newFee >= minimumFee else {
                throw .invalidParameter("Insufficient total fee \(newFee), must be at least \(minimumFee) (the old fee plus the incremental relay fee for \(size) bytes)")
            }
        } else {
            newFee = max(minimumFee, CoinSelection.fee(rate: defaultFeeRate, bytes: size))
        }
        let change = item.transaction.outputs[changeIndex].value.baseUnits
        let increase = newFee - originalFee
        guard change > increase, change - increase >= Self.dustThreshold else {
            throw .invalidParameter("Change output is too small to bump the fee")
        }
        var transaction = item.transaction
        transaction.outputs[changeIndex].value = Amount(baseUnits: change - increase)!
        transaction.witnesses = transaction.inputs.map { _ in [] }
        let newTxid = transaction.txid
        for (index, output) in spent.enumerated() {
            guard let hash = Address.keyHash(lockScript: output.lockScript), let ref = keysByHash[hash] else {
                throw .corrupt("no key for input \(index) of \(txid.hex)")
            }
            let key = WalletFile.signingKey(seed: seed, internal: ref.internal, index: ref.index)
            let message = Sighash.compute(txid: newTxid, inputIndex: UInt32(index), spentOutput: output)
            transaction.witnesses[index] = [key.sign(message: message.bytes), key.publicKey]
        }
        let recipientValue = outputTotal - change
        return FeeBump(original: txid, originalFee: originalFee,
                       replacement: SentTransaction(transaction: transaction, txid: newTxid, fee: newFee, recipientValue: recipientValue,
                                                    change: change - increase))
    }
}
