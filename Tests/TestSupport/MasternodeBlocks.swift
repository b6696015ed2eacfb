// Building blocks for masternode tests: keys from a seeded generator, signed pay-to-key-hash
// spends, signed special transactions, and blocks sealed with a given extension root (the
// masternode list after the block), mined for regtest's easy target.

import Consensus
import Ed25519
import Masternodes
import Primitives

/// An Ed25519 key and its pay-to-key-hash lock script.
public struct TestKey: Sendable, Hashable {
    public let seed: [UInt8]
    public let publicKey: [UInt8]

    public init(seed: [UInt8]) {
        self.seed = seed
        publicKey = Ed25519.publicKey(seed: seed)
    }

    public init(using generator: inout SeededGenerator) {
        self.init(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    public var lockScript: [UInt8] { StandardScript.payToKeyHash(StandardScript.keyHash(publicKey)) }
}

/// An unspent output a test key unlocks.
public struct TestCoin: Sendable, Hashable {
    public var outpoint: OutPoint
    public var output: TxOut
    public var key: TestKey

    public init(outpoint: OutPoint, output: TxOut, key: TestKey) {
        self.outpoint = outpoint
        self.output = output
        self.key = key
    }
}

/// The keys of one masternode: the collateral's, the owner's, the operator's (Ed25519) and
/// the operator's encryption key (32 bytes standing for an X25519 public key).
public struct TestMasternodeKeys: Sendable, Hashable {
    public var collateral: TestKey
    public var owner: TestKey
    public var operatorKey: TestKey
    public var encryptionKey: [UInt8]

    public init(using generator: inout SeededGenerator) {
        collateral = TestKey(using: &generator)
        owner = TestKey(using: &generator)
        operatorKey = TestKey(using: &generator)
        encryptionKey = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// A registration naming these keys; `collateral` with a zero txid means an output of the
    /// registering transaction itself.
    public func registerPayload(collateral: OutPoint, service: ServiceAddress, payoutScript: [UInt8]) -> MasternodeRegisterPayload {
        MasternodeRegisterPayload(collateral: collateral, collateralKey: self.collateral.publicKey, ownerKey: owner.publicKey,
                                  operatorKey: operatorKey.publicKey, operatorEncryptionKey: encryptionKey, service: service,
                                  payoutScript: payoutScript)
    }
}

public enum TestTransactions {
    /// `transaction` with every input signed (each spends the pay-to-key-hash coin in `coins` at its index).
    public static func signed(_ transaction: Transaction, spending coins: [TestCoin]) -> Transaction {
        var signed = transaction
        let txid = signed.txid
        for (index, coin) in coins.enumerated() {
            let sighash = Sighash.compute(txid: txid, inputIndex: UInt32(index), spentOutput: coin.output)
            signed.witnesses[index] = [Ed25519.sign(message: sighash.bytes, seed: coin.key.seed), coin.key.publicKey]
        }
        return signed
    }

    /// An ordinary transaction spending `coins` into `outputs`, signed.
    public static func spend(_ coins: [TestCoin], to outputs: [TxOut]) -> Transaction {
        signed(Transaction(version: 2, inputs: coins.map { TxIn(previousOutput: $0.outpoint) }, outputs: outputs, lockTime: 0), spending: coins)
    }

    /// A special transaction carrying `payload`, its inputs hash set for `coins`, signed by
    /// `signer` (the key the payload's type requires), inputs signed.
    public static func special<P: SpecialPayload>(_ payload: P, signer: TestKey, spending coins: [TestCoin], to outputs: [TxOut]) -> Transaction {
        var payload = payload
        let inputs = coins.map { TxIn(previousOutput: $0.outpoint) }
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: payload.transaction(inputs: inputs, outputs: outputs))
        payload.sign(seed: signer.seed)
        return signed(payload.transaction(inputs: inputs, outputs: outputs), spending: coins)
    }
}

public enum TestBlocks {
    /// The block after `parent` holding a coinbase with `coinbaseOutputs` and `transactions`,
    /// 150 seconds after its parent (`time` to choose), sealed with `extensionRoot`.
    public static func next(after parent: BlockHeader, parameters: ConsensusParameters, coinbaseOutputs: [TxOut],
                            transactions: [Transaction], extensionRoot: Hash256, time: UInt64? = nil, extraNonce: UInt32 = 0) -> Block {
        let height = parent.height + 1
        let coinbase = Transaction.coinbase(height: height, extraNonce: extraNonce, outputs: coinbaseOutputs)
        var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: parent.hash, merkleRoot: .zero,
                                              stateRoot: .zero, time: time ?? parent.time + 150,
                                              bits: parameters.requiredBits(parentHeight: parent.height, parentTime: parent.time), nonce: 0),
                          transactions: [coinbase] + transactions)
        seal(&block, extensionRoot: extensionRoot)
        return block
    }

    /// Recomputes the Merkle root and the state root (over `extensionRoot`) and finds a nonce.
    public static func seal(_ block: inout Block, extensionRoot: Hash256) {
        block.header.merkleRoot = block.computeMerkleRoot()
        block.header.stateRoot = block.computeStateRoot(extensionRoot: extensionRoot)
        mine(&block.header)
    }

    /// A nonce meeting the header's target (a few tries on regtest).
    public static func mine(_ header: inout BlockHeader) {
        guard let target = try? header.compactTarget.target() else { return }
        header.nonce = 0
        while !ProofOfWork.meets(header.hash, target: target) { header.nonce &+= 1 }
    }

    /// The UTXO set after `block` applied to `coins` (spends removed, unspendable outputs skipped).
    public static func applyCoins(_ block: Block, txids: [Hash256], to coins: inout [OutPoint: Coin]) {
        for (index, transaction) in block.transactions.enumerated() {
            applyCoins(transaction, txid: txids[index], height: block.header.height, isCoinbase: index == 0, to: &coins)
        }
    }

    /// One transaction's effect on `coins`.
    public static func applyCoins(_ transaction: Transaction, txid: Hash256, height: UInt64, isCoinbase: Bool, to coins: inout [OutPoint: Coin]) {
        if !isCoinbase { for input in transaction.inputs { coins[input.previousOutput] = nil } }
        for (position, output) in transaction.outputs.enumerated() where !output.isUnspendable {
            coins[OutPoint(txid: txid, index: UInt32(position))] = Coin(output: output, height: height, isCoinbase: isCoinbase)
        }
    }

    /// The masternode list after `blocks` (a chain from height 1), applied one by one from an
    /// empty list over a UTXO set tracked alongside: the from-scratch recomputation the chain
    /// state's incremental list must equal. Also returns the UTXO set after them.
    public static func recomputeMasternodes(_ blocks: [Block], parameters: MasternodeParameters) throws
        -> (list: MasternodeList, coins: [OutPoint: Coin]) {
        var list = MasternodeList()
        var coins = [OutPoint: Coin]()
        for block in blocks {
            let txids = block.transactions.map(\.txid)
            applyCoins(block, txids: txids, to: &coins)
            _ = try MasternodeRules.apply(block, txids: txids, height: block.header.height, to: &list, parameters: parameters,
                                          coin: { coins[$0] })
        }
        return (list, coins)
    }
}
