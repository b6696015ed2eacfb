import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Mempool
import Primitives
import Testing

/// A regtest chain in a temporary directory whose coinbases pay one known key, with helpers
/// to build signed spends and blocks by hand.
final class TestChain {
    static let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))

    let directory: String
    let chain: ChainService
    let key = Ed25519.SigningKey(seed: [UInt8](repeating: 7, count: 32))
    let lockScript: [UInt8]
    /// The coinbase output of each block `mine` connected, by height - 1.
    private(set) var coinbases: [(OutPoint, TxOut)] = []

    init(blocks: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-mempool-\(UUID().uuidString)").path
        chain = ChainService(try ChainState(directory: directory, parameters: Self.parameters, cacheMiB: 16))
        lockScript = StandardScript.payToKeyHash(StandardScript.keyHash(key.publicKey))
        for _ in 0..<blocks { try mine([]) }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    var parameters: ConsensusParameters { Self.parameters }

    /// A sealed block on `parent` (default: the tip) holding `transactions`, its coinbase
    /// paying the subsidy plus `fees`; `extraNonce` tells apart blocks on the same parent.
    func block(_ transactions: [Transaction], fees: Amount = .zero, on parent: Hash256? = nil, extraNonce: UInt32 = 0) -> Block {
        let snapshot = chain.snapshot
        let parentHash = parent ?? snapshot.tipHash
        let parentHeader = snapshot.header(parentHash)!
        let height = parentHeader.height + 1
        let coinbase = Transaction.coinbase(height: height, extraNonce: extraNonce,
                                            outputs: [TxOut(value: parameters.subsidy(height: height).adding(fees)!, lockScript: lockScript)])
        var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: parentHash,
                                              merkleRoot: .zero, stateRoot: .zero, time: parentHeader.time + 150,
                                              bits: parameters.requiredBits(parentHeight: parentHeader.height, parentTime: parentHeader.time),
                                              nonce: 0),
                          transactions: [coinbase] + transactions)
        ChainGenerator.seal(&block)
        return block
    }

    /// Builds a block on the tip and connects it.
    @discardableResult
    func mine(_ transactions: [Transaction], fees: Amount = .zero) throws -> Block {
        let block = block(transactions, fees: fees)
        let result = try chain.accept(block)
        #expect(result == .connected)
        coinbases.append((OutPoint(txid: block.transactions[0].txid, index: 0), block.transactions[0].outputs[0]))
        return block
    }

    /// The coinbase of the block at `height`.
    func coinbase(height: Int) -> (OutPoint, TxOut) { coinbases[height - 1] }

    func pay(_ value: UInt64) -> TxOut { TxOut(value: Amount(baseUnits: value)!, lockScript: lockScript) }

    /// A transaction spending `coins` (all paying `key`) to `outputs`, signed.
    func spend(_ coins: [(OutPoint, TxOut)], to outputs: [TxOut], version: UInt32 = 1, lockTime: UInt64 = 0,
               sequence: UInt32 = TxIn.finalSequence) -> Transaction {
        var transaction = Transaction(version: version, inputs: coins.map { TxIn(previousOutput: $0.0, sequence: sequence) },
                                      outputs: outputs, lockTime: lockTime)
        let txid = transaction.txid
        transaction.witnesses = coins.indices.map { index in
            let sighash = ScriptContext(transaction: transaction, txid: txid, inputIndex: index, spentOutput: coins[index].1).sighash
            return [key.sign(message: sighash.bytes), key.publicKey]
        }
        return transaction
    }

    /// Output `index` of `transaction` as a coin to spend.
    static func output(_ transaction: Transaction, _ index: Int) -> (OutPoint, TxOut) {
        (OutPoint(txid: transaction.txid, index: UInt32(index)), transaction.outputs[index])
    }

    /// Waits (bounded) until `pool` has applied the chain's tip events up to its tip.
    func waitUntilSynced(_ pool: Mempool) async throws {
        // 60 s and one look after the deadline: a test task starved by a loaded machine
        // must judge the pool, not the scheduler.
        let deadline = Date().addingTimeInterval(60)
        while pool.tip != chain.snapshot.tipHash {
            guard Date() < deadline else {
                if pool.tip == chain.snapshot.tipHash { return }
                throw SyncTimeout()
            }
            try await Task.sleep(nanoseconds: 5_000_000)
        }
    }

    struct SyncTimeout: Error {}
}

extension MempoolResult {
    var rule: String? { rejection?.rule }
}
