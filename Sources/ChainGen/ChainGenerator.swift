// Module ChainGen: the deterministic chain generator (`rusty gen-chain`, the tests, the
// benchmarks). It owns making realistic valid blocks from a seed and the UTXO digest they
// should end with. It must not change output for a given seed and parameters (tests and
// documented figures depend on it) and must not validate: ChainState judges its blocks.

import BLAKE3
import ChainState
import Consensus
import Ed25519
import Masternodes
import Primitives

/// A deterministic, realistic regtest history: once coinbases mature, every block carries
/// `transactionsPerBlock` transactions of every standard kind (payments with 1-3 inputs and
/// 2 outputs, consolidations, fan-outs, multisig and hash-locked outputs and their spends,
/// spends of recent and old coins and of matured coinbases), each block mined at the
/// difficulty ASERT requires. The same seed always gives the same bytes.
///
/// Coins come first: the first matured coinbase is one coin, and the usual mix spends about
/// 2.35 coins per transaction, so while the coins left for the next block fall short of
/// `3 * transactionsPerBlock` every transaction is a wide fan-out (up to `maxFanOut`
/// outputs). The count then reaches the target within a few blocks of maturity; a block
/// also stops early rather than exceed the network's block size.
public struct ChainGenerator {
    public let parameters: ConsensusParameters
    public let transactionsPerBlock: Int
    /// The most outputs of one ramp-up fan-out (about 45 kB, far inside a block): one
    /// matured coinbase then feeds a full block of 400 transactions right away.
    public static let maxFanOut = 1_000
    /// Room kept in each block for the coinbase and the header (bytes).
    static let blockReserve = 1_000
    var random: SeededGenerator
    let seed: UInt64

    private var parent: BlockHeader
    private var recentTimes: [UInt64]
    // Expanded once per key: signing then skips the seed hash (the signatures are the same).
    var keys: [Ed25519.SigningKey] = []
    var spendable: [OwnedCoin] = []
    private var immature: [(height: UInt64, coin: OwnedCoin)] = []
    /// The whole UTXO set the chain should end with (every output is the generator's).
    public internal(set) var utxo: [OutPoint: Coin] = [:]
    public internal(set) var signatureCount = 0
    public internal(set) var transactionCount = 0
    public internal(set) var inputCount = 0
    /// When set, every signature made is kept (in chain order) until `takeSignatures`:
    /// the exact work a verifier of the chain does, for benchmarks against batch verification.
    public var recordsSignatures = false
    private var recorded: [SignatureItem] = []
    /// Set by `enableMasternodes`: the registrations, updates and list the chain carries.
    var masternodes: MasternodeSimulation?
    /// Set by `enableGovernance`: proposals, votes and the ledger the chain carries.
    var governance: GovernanceSimulation?

    enum Lock {
        case keyHash(Int)
        case multisig([Int])
        case hashTimeLock(preimage: [UInt8], recipient: Int, refund: Int, refundAfter: UInt64)
    }

    struct OwnedCoin {
        var outpoint: OutPoint
        var coin: Coin
        var lock: Lock
    }

    public init(parameters: ConsensusParameters, seed: UInt64, transactionsPerBlock: Int) {
        self.parameters = parameters
        self.seed = seed
        self.transactionsPerBlock = transactionsPerBlock
        random = SeededGenerator(seed: seed)
        let genesis = parameters.chain.genesisBlock()
        parent = genesis.header
        recentTimes = [genesis.header.time]
    }

    public var height: UInt64 { parent.height }

    // MARK: Keys and locks

    mutating func newKey() -> Int {
        let index = keys.count
        var material = [UInt8]()
        withUnsafeBytes(of: seed.littleEndian) { material += $0 }
        withUnsafeBytes(of: UInt64(index).littleEndian) { material += $0 }
        let keySeed = BLAKE3.hash(material)
        keys.append(Ed25519.SigningKey(seed: keySeed))
        return index
    }

    func lockScript(_ lock: Lock) -> [UInt8] {
        switch lock {
        case .keyHash(let key): return StandardScript.payToKeyHash(StandardScript.keyHash(keys[key].publicKey))
        case .multisig(let members): return StandardScript.multisig(required: 2, of: members.map { keys[$0].publicKey })
        case let .hashTimeLock(preimage, recipient, refund, refundAfter):
            return StandardScript.hashTimeLock(hashLock: Hash256(bytes: BLAKE3.hash(preimage))!, recipient: keys[recipient].publicKey,
                                               refund: keys[refund].publicKey, refundAfter: refundAfter)
        }
    }

    private mutating func newLock(kind: Int, height: UInt64) -> Lock {
        switch kind {
        case 1: return .multisig([newKey(), newKey(), newKey()])
        case 2:
            var preimage = [UInt8](repeating: 0, count: 32)
            for i in 0..<32 { preimage[i] = UInt8(truncatingIfNeeded: random.next() >> 7) }
            return .hashTimeLock(preimage: preimage, recipient: newKey(), refund: newKey(), refundAfter: height + 3)
        default: return .keyHash(newKey())
        }
    }

    mutating func sign(_ key: Int, _ message: Hash256) -> [UInt8] {
        let signature = keys[key].sign(message: message.bytes)
        if recordsSignatures { recorded.append(SignatureItem(publicKey: keys[key].publicKey, signature: signature, message: message.bytes)) }
        return signature
    }

    // MARK: Coins for tools

    /// The coins the next block could spend that one key unlocks (key-hash outputs), with
    /// that key, in the generator's own order: what `TransactionStream` builds on. Coinbases
    /// still maturing are left out. Reading them changes nothing (the chain stays the same).
    public var spendableSingleKeyCoins: [SingleKeyCoin] {
        spendable.compactMap { owned in
            guard case .keyHash(let key) = owned.lock else { return nil }
            return SingleKeyCoin(outpoint: owned.outpoint, output: owned.coin.output, key: keys[key])
        }
    }

    /// How many `spendableSingleKeyCoins` there are (without building them).
    public var spendableSingleKeyCoinCount: Int {
        spendable.reduce(0) { count, owned in
            if case .keyHash = owned.lock { return count + 1 }
            return count
        }
    }

    /// The signatures recorded since the last call (see `recordsSignatures`).
    public mutating func takeSignatures() -> [SignatureItem] {
        defer { recorded.removeAll() }
        return recorded
    }

    // MARK: Blocks

    /// Builds, mines and returns the next block.
    public mutating func nextBlock() -> Block {
        let height = parent.height + 1
        // Coinbases mature once 100 blocks are on top.
        while let first = immature.first, height - first.height >= parameters.coinbaseMaturity {
            spendable.append(first.coin)
            immature.removeFirst()
        }
        var transactions = [Transaction]()
        var fees = Amount.zero
        var created = [OwnedCoin]()
        var blockBytes = Self.blockReserve
        // Masternode transactions first: they fund themselves from the largest coin before the mix runs.
        if masternodes != nil {
            let made = makeMasternodeTransactions(height: height)
            transactions += made.transactions
            fees = fees.adding(made.fees)!
            created += made.created
            blockBytes += made.transactions.reduce(0) { $0 + $1.encoded.count }
            // Governance next: proposals fund themselves like registrations; votes follow the list after them.
            let governed = makeGovernanceTransactions(height: height, masternodeTransactions: made.transactions)
            transactions += governed.transactions
            fees = fees.adding(governed.fees)!
            created += governed.created
            blockBytes += governed.transactions.reduce(0) { $0 + $1.encoded.count }
        }
        let sizeLimit = blockSizeLimit(height: height)
        if !spendable.isEmpty {
            let wantedCoins = 3 * transactionsPerBlock
            var made = 0, failures = 0
            // A coin too small to pay for its transaction is put back; many in a row mean
            // the pool is dust, and the block ends.
            while made < transactionsPerBlock && failures < 64 && !spendable.isEmpty {
                // Fan out while the next block would start short of coins.
                let shortfall = wantedCoins - (spendable.count + created.count)
                let fanOut = shortfall > 0 ? min(Self.maxFanOut, max(2, shortfall + 1)) : nil
                guard let (transaction, fee, outputs, inputs) = makeTransaction(height: height, fanOut: fanOut) else {
                    failures += 1
                    continue
                }
                failures = 0
                made += 1
                let size = transaction.encoded.count
                if blockBytes + size > sizeLimit {
                    undo(transaction, spent: inputs, created: outputs)
                    break
                }
                blockBytes += size
                transactions.append(transaction)
                fees = fees.adding(fee)!
                created += outputs
            }
        }
        let coinbaseKey = newKey()
        let coinbaseLock = Lock.keyHash(coinbaseKey)
        let coinbase = Transaction.coinbase(height: height, extraNonce: 0,
                                            outputs: [TxOut(value: parameters.subsidy(height: height).adding(fees)!,
                                                            lockScript: lockScript(coinbaseLock))])
        transactions.insert(coinbase, at: 0)

        let jitter = Int64(random.next() % 121) - 60
        let scheduled = UInt64(Int64(parameters.genesisTime) + Int64(height) * 150 + jitter)
        let time = max(HeaderRules.medianTime(recentTimes) + 1, scheduled)
        var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: parent.hash,
                                              merkleRoot: .zero, stateRoot: .zero, time: time,
                                              bits: parameters.requiredBits(parentHeight: parent.height, parentTime: parent.time),
                                              nonce: 0),
                          transactions: transactions)
        block.header.merkleRoot = block.computeMerkleRoot()
        var extensionRoot = Hash256.zero
        if masternodes != nil {
            let listRoot = applyMasternodes(block, height: height)
            var governanceRoot = Hash256.zero
            if let sim = masternodes {
                governanceRoot = applyGovernance(block, height: height, list: sim.list, masternodeParameters: sim.parameters)
            }
            extensionRoot = ExtensionRoot.compute(masternodes: listRoot, governance: governanceRoot)
        }
        block.header.stateRoot = block.computeStateRoot(extensionRoot: extensionRoot)
        block.header.nonce = Self.mine(block.header)

        // Book-keeping: the new outputs become spendable from the next block.
        let coinbaseOutpoint = OutPoint(txid: coinbase.txid, index: 0)
        let coinbaseCoin = Coin(output: coinbase.outputs[0], height: height, isCoinbase: true)
        immature.append((height, OwnedCoin(outpoint: coinbaseOutpoint, coin: coinbaseCoin, lock: coinbaseLock)))
        utxo[coinbaseOutpoint] = coinbaseCoin
        spendable += created
        parent = block.header
        recentTimes.append(time)
        if recentTimes.count > parameters.medianTimeSpan { recentTimes.removeFirst() }
        transactionCount += transactions.count
        return block
    }

    /// Recomputes a block's commitments and mines it again (for building variants in tests and tools).
    public static func seal(_ block: inout Block) {
        block.header.merkleRoot = block.computeMerkleRoot()
        block.header.stateRoot = block.computeStateRoot()
        block.header.nonce = mine(block.header)
    }

    /// Finds a nonce with the fastest CPU path (the SIMD nonce search).
    public static func mine(_ header: BlockHeader) -> UInt64 {
        let encoded = header.encoded
        let midstate = Midstate(header: encoded)
        let target = ((try? header.compactTarget.target()) ?? .zero).bigEndianBytes
        var start: UInt64 = 0
        while true {
            let found = BLAKE3.powSearch(midstate: midstate.words, secondBlock: Array(encoded[64..<128]), start: start,
                                         count: 1 << 16, target: target, maxResults: 1)
            if let nonce = found.nonces.first { return nonce }
            start &+= 1 << 16
        }
    }

    private mutating func takeCoin(height: UInt64) -> OwnedCoin? {
        guard !spendable.isEmpty else { return nil }
        // Half recent coins, half from anywhere in the history.
        let index: Int
        if random.next() % 2 == 0 {
            let window = min(200, spendable.count)
            index = spendable.count - 1 - Int(random.next() % UInt64(window))
        } else {
            index = Int(random.next() % UInt64(spendable.count))
        }
        spendable.swapAt(index, spendable.count - 1)
        return spendable.removeLast()
    }

    /// Puts back what `makeTransaction` did for a transaction that is not used after all.
    private mutating func undo(_ transaction: Transaction, spent: [OwnedCoin], created: [OwnedCoin]) {
        for coin in created { utxo[coin.outpoint] = nil }
        for coin in spent { utxo[coin.outpoint] = coin.coin }
        spendable += spent
        inputCount -= spent.count
        // Witness items of 64 bytes are exactly its signatures (keys and preimages are 32, flags 1).
        let signatures = transaction.witnesses.reduce(0) { $0 + $1.filter { $0.count == Ed25519.signatureLength }.count }
        signatureCount -= signatures
        if recordsSignatures { recorded.removeLast(min(recorded.count, signatures)) }
    }

    /// `fanOut`: one input and that many outputs (the ramp-up); nil: the usual random mix.
    private mutating func makeTransaction(height: UInt64, fanOut: Int? = nil) -> (Transaction, Amount, [OwnedCoin], [OwnedCoin])? {
        let wantedInputs: Int, plannedOutputs: Int
        if let fanOut {
            wantedInputs = 1; plannedOutputs = fanOut
        } else {
            switch random.next() % 100 {
            case 0..<60: wantedInputs = 1 + Int(random.next() % 3); plannedOutputs = 2   // payment
            case 60..<75: wantedInputs = 4 + Int(random.next() % 5); plannedOutputs = 1  // consolidation
            default: wantedInputs = 1; plannedOutputs = 5 + Int(random.next() % 6)       // fan-out
            }
        }
        var inputs = [OwnedCoin]()
        if fanOut != nil {
            // The ramp-up splits the largest coin, so splitting never grinds coins into dust.
            guard let largest = spendable.indices.max(by: { spendable[$0].coin.output.value.baseUnits < spendable[$1].coin.output.value.baseUnits })
            else { return nil }
            spendable.swapAt(largest, spendable.count - 1)
            inputs.append(spendable.removeLast())
        } else {
            for _ in 0..<wantedInputs {
                guard let coin = takeCoin(height: height) else { break }
                inputs.append(coin)
            }
            // Small coins are gathered (up to 8 inputs) until they pay for the transaction,
            // as a wallet does; otherwise they would pile up unspent.
            while inputs.count < 8, inputs.reduce(UInt64(0), { $0 + $1.coin.output.value.baseUnits }) <= UInt64(3000 + 500 * inputs.count),
                  let coin = takeCoin(height: height) {
                inputs.append(coin)
            }
        }
        guard !inputs.isEmpty else { return nil }
        let total = inputs.reduce(UInt64(0)) { $0 + $1.coin.output.value.baseUnits }
        let fee = UInt64(1000 + 500 * inputs.count)
        // Fewer outputs when the value does not cover them (at least 1,000 base units each,
        // 100,000 for ramp-up fan-outs, whose outputs are split again).
        let minimumOutput: UInt64 = fanOut != nil ? 100_000 : 1000
        guard total > fee + minimumOutput else {
            spendable += inputs // too small to pay its fee: put back
            return nil
        }
        let outputCount = min(plannedOutputs, Int((total - fee - 1) / minimumOutput))
        // A hash-locked input may take its refund path once the lock time has passed.
        var refunds = Set<Int>()
        var lockTime: UInt64 = 0
        for (index, input) in inputs.enumerated() {
            if case let .hashTimeLock(_, _, _, refundAfter) = input.lock, height - 1 >= refundAfter, random.next() % 2 == 0 {
                refunds.insert(index)
                lockTime = max(lockTime, height - 1)
            }
        }
        let sequence: UInt32 = refunds.isEmpty ? TxIn.finalSequence : TxIn.finalSequence - 1
        let spendableValue = total - fee
        var outputs = [TxOut]()
        var locks = [Lock]()
        for index in 0..<outputCount {
            let share = index == outputCount - 1 ? spendableValue - spendableValue / UInt64(outputCount) * UInt64(outputCount - 1)
                                                 : spendableValue / UInt64(outputCount)
            let kindRoll = random.next() % 10
            let lock = newLock(kind: kindRoll == 0 ? 1 : (kindRoll == 1 ? 2 : 0), height: height)
            locks.append(lock)
            outputs.append(TxOut(value: Amount(baseUnits: share)!, lockScript: lockScript(lock)))
        }
        var transaction = Transaction(version: 2, inputs: inputs.map { TxIn(previousOutput: $0.outpoint, sequence: sequence) },
                                      outputs: outputs, lockTime: lockTime)
        let txid = transaction.txid
        for (index, input) in inputs.enumerated() {
            let sighash = Sighash.compute(txid: txid, inputIndex: UInt32(index), spentOutput: input.coin.output)
            switch input.lock {
            case .keyHash(let key):
                transaction.witnesses[index] = [sign(key, sighash), keys[key].publicKey]
                signatureCount += 1
            case .multisig(let members):
                // Two of three sign, in a varying pattern; the other slot stays empty.
                let skip = Int(random.next() % 3)
                transaction.witnesses[index] = members.enumerated().map { $0.offset == skip ? [] : sign($0.element, sighash) }
                signatureCount += 2
            case let .hashTimeLock(preimage, recipient, refund, _):
                transaction.witnesses[index] = refunds.contains(index) ? [sign(refund, sighash), []]
                                                                       : [sign(recipient, sighash), preimage, [1]]
                signatureCount += 1
            }
            utxo[input.outpoint] = nil
        }
        inputCount += inputs.count
        var created = [OwnedCoin]()
        for (index, output) in outputs.enumerated() {
            let outpoint = OutPoint(txid: txid, index: UInt32(index))
            let coin = Coin(output: output, height: height, isCoinbase: false)
            utxo[outpoint] = coin
            created.append(OwnedCoin(outpoint: outpoint, coin: coin, lock: locks[index]))
        }
        return (transaction, Amount(baseUnits: fee)!, created, inputs)
    }

    /// The canonical digest of the UTXO set the chain ends with (docs/PROTOCOL.md section 11),
    /// computed from the generator's own books, independently of the chain state.
    public func utxoDigest() -> (count: Int, total: Amount, digest: Hash256) {
        let entries = utxo.map { ($0.key.storageKey, $0.value) }.sorted { $0.0.lexicographicallyPrecedes($1.0) }
        var hasher = BLAKE3Hasher()
        var total = Amount.zero
        for (key, coin) in entries {
            hasher.update(key)
            hasher.update(coin.encoded)
            total = total.adding(coin.output.value)!
        }
        return (entries.count, total, Hash256(bytes: hasher.finalize())!)
    }
}

/// A coin one key unlocks: a key-hash output and its signing key.
public struct SingleKeyCoin: Sendable {
    public var outpoint: OutPoint
    public var output: TxOut
    public var key: Ed25519.SigningKey

    public init(outpoint: OutPoint, output: TxOut, key: Ed25519.SigningKey) {
        self.outpoint = outpoint
        self.output = output
        self.key = key
    }
}
