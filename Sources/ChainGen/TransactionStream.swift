// A deterministic stream of standard payments over a generated chain's coins (`rusty gen-txs`,
// the mempool benchmark): each one valid on the chain's tip together with those before it.

import BLAKE3
import Consensus
import Ed25519
import Primitives

/// Simple payments (one key-hash input, two key-hash outputs: a payment and the change) over
/// coins one key unlocks. With `chainDepth` D each coin starts a chain of D transactions, each
/// spending the change of the one before (D - 1 unconfirmed ancestors at the end, D - 1
/// descendants at the start), so D must stay within the pool's ancestor and descendant
/// limits. Fee rates are drawn uniformly from `feeRates` (base units per 1,000 encoded
/// bytes; the fee is rounded up as the pool rounds it), so templates and estimators have a
/// spread to sort. Every output is at least `dustThreshold`. Coins too small for a whole
/// chain at the highest rate are skipped. The same coins and options give the same bytes.
public struct TransactionStream {
    public struct Options: Sendable {
        public var chainDepth: Int
        public var feeRates: ClosedRange<UInt64>
        public var dustThreshold: UInt64
        public var seed: UInt64

        public init(chainDepth: Int = 1, feeRates: ClosedRange<UInt64>, dustThreshold: UInt64, seed: UInt64) {
            self.chainDepth = chainDepth
            self.feeRates = feeRates
            self.dustThreshold = dustThreshold
            self.seed = seed
        }
    }

    /// One transaction of the stream.
    public struct Payment: Sendable {
        public var transaction: Transaction
        /// Base units.
        public var fee: UInt64
        /// Encoded bytes.
        public var size: Int
        /// Its place in its chain: 1 spends a confirmed coin, n spends the change of n - 1.
        public var depth: Int
    }

    public let options: Options
    /// Encoded bytes of every payment (all have the same shape, and amounts are fixed-width).
    public let transactionBytes: Int
    /// Coins large enough for a whole chain, in the order they are spent.
    public let usableCoinCount: Int
    /// Coins left out because they could not pay for a whole chain.
    public let skippedCoinCount: Int
    /// The most transactions the stream can make (`usableCoinCount` x `chainDepth`).
    public var capacity: Int { usableCoinCount * options.chainDepth }

    private let coins: [SingleKeyCoin]
    private var nextCoin = 0
    /// The change the chain in progress spends next, and how many transactions it has made.
    private var carried: (coin: SingleKeyCoin, depth: Int)?
    private var random: SeededGenerator
    private let recipients: [Ed25519.SigningKey]
    private let highestFee: UInt64

    public init(coins: [SingleKeyCoin], options: Options) throws(TransactionStreamError) {
        guard options.chainDepth >= 1 else { throw .invalid("the chain depth must be at least 1, not \(options.chainDepth)") }
        guard options.feeRates.lowerBound > 0 else { throw .invalid("fee rates must be above 0") }
        self.options = options
        random = SeededGenerator(seed: options.seed ^ 0x6765_6E2D_7478_7300) // "gen-txs": apart from the chain's stream
        recipients = (0..<32).map { index in
            var material = Array("rusty transaction stream".utf8)
            withUnsafeBytes(of: options.seed.littleEndian) { material += $0 }
            withUnsafeBytes(of: UInt64(index).littleEndian) { material += $0 }
            return Ed25519.SigningKey(seed: BLAKE3.hash(material))
        }
        transactionBytes = Self.payment(spending: OutPoint(txid: .zero, index: 0), payment: TxOut(value: .zero, lockScript: Self.lock(recipients[0])),
                                        change: TxOut(value: .zero, lockScript: Self.lock(recipients[0])),
                                        witness: [[UInt8](repeating: 0, count: Ed25519.signatureLength), recipients[0].publicKey]).encoded.count
        highestFee = MempoolFee.fee(rate: options.feeRates.upperBound, bytes: transactionBytes)
        // What a chain of `chainDepth` needs: each transaction's fee and payment, and the last change.
        let (perTransaction, overflow1) = highestFee.addingReportingOverflow(options.dustThreshold)
        let (chainCost, overflow2) = perTransaction.multipliedReportingOverflow(by: UInt64(options.chainDepth))
        let (needed, overflow3) = chainCost.addingReportingOverflow(options.dustThreshold)
        guard !overflow1 && !overflow2 && !overflow3 else { throw .invalid("the fee rates and chain depth ask for more than any amount") }
        let usable = coins.filter { $0.output.value.baseUnits >= needed }
        self.coins = usable
        usableCoinCount = usable.count
        skippedCoinCount = coins.count - usable.count
    }

    /// The next payment, or nil once every usable coin is spent.
    public mutating func next() -> Payment? {
        let input: SingleKeyCoin, depth: Int
        if let (coin, made) = carried, made < options.chainDepth {
            (input, depth) = (coin, made + 1)
        } else {
            guard nextCoin < coins.count else { return nil }
            (input, depth) = (coins[nextCoin], 1)
            nextCoin += 1
        }
        let rate = options.feeRates.lowerBound + random.next() % (options.feeRates.upperBound - options.feeRates.lowerBound + 1)
        let fee = MempoolFee.fee(rate: rate, bytes: transactionBytes)
        // Keep enough change for the rest of the chain (at the highest rate), pay part of the spare.
        let remaining = UInt64(options.chainDepth - depth)
        let reserve = remaining * (highestFee + options.dustThreshold) + options.dustThreshold
        let value = input.output.value.baseUnits
        let spare = value - fee - reserve - options.dustThreshold // init kept only coins for which this holds
        let paid = options.dustThreshold + random.next() % (spare / 2 + 1)
        let recipient = recipients[Int(random.next() % UInt64(recipients.count))]
        let changeKey = recipients[Int(random.next() % UInt64(recipients.count))]
        let paymentOutput = TxOut(value: Amount(baseUnits: paid)!, lockScript: Self.lock(recipient))
        let changeOutput = TxOut(value: Amount(baseUnits: value - fee - paid)!, lockScript: Self.lock(changeKey))
        var transaction = Self.payment(spending: input.outpoint, payment: paymentOutput, change: changeOutput, witness: [])
        let txid = transaction.txid
        let sighash = Sighash.compute(txid: txid, inputIndex: 0, spentOutput: input.output)
        transaction.witnesses = [[input.key.sign(message: sighash.bytes), input.key.publicKey]]
        carried = (SingleKeyCoin(outpoint: OutPoint(txid: txid, index: 1), output: changeOutput, key: changeKey), depth)
        return Payment(transaction: transaction, fee: fee, size: transactionBytes, depth: depth)
    }

    static func lock(_ key: Ed25519.SigningKey) -> [UInt8] { StandardScript.payToKeyHash(StandardScript.keyHash(key.publicKey)) }

    static func payment(spending outpoint: OutPoint, payment: TxOut, change: TxOut, witness: [[UInt8]]) -> Transaction {
        var transaction = Transaction(version: 2, inputs: [TxIn(previousOutput: outpoint, sequence: TxIn.finalSequence)],
                                      outputs: [payment, change], lockTime: 0)
        if !witness.isEmpty { transaction.witnesses = [witness] }
        return transaction
    }
}

public enum TransactionStreamError: Error, Sendable, CustomStringConvertible {
    case invalid(String)

    public var description: String {
        switch self {
        case .invalid(let message): return message
        }
    }
}

/// The pool's fee arithmetic (Sources/Mempool's `MempoolPolicy.fee`, which ChainGen cannot
/// import): `rate` per 1,000 bytes over `bytes`, rounded up.
enum MempoolFee {
    static func fee(rate: UInt64, bytes: Int) -> UInt64 {
        let product = rate.multipliedFullWidth(by: UInt64(bytes))
        guard product.high == 0 else { return .max }
        let (quotient, remainder) = product.low.quotientAndRemainder(dividingBy: 1_000)
        return remainder == 0 ? quotient : quotient + 1
    }
}
