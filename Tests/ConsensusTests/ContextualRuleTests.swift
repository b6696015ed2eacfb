import ChainParams
import Consensus
import Ed25519
import Primitives
import Testing

/// The contextual rules against an in-memory view (no storage): one test per rule, each
/// with the block that breaks it and the nearest one that does not.
struct ContextualRuleTests {
    /// A dictionary as the UTXO set before the block.
    struct MemoryView: UTXOView {
        var coins: [OutPoint: Coin] = [:]
        func coin(_ outpoint: OutPoint) throws -> Coin? { coins[outpoint] }
    }

    struct ViewFailure: Error, Equatable {}

    /// A view whose storage fails.
    struct FailingView: UTXOView {
        func coin(_ outpoint: OutPoint) throws -> Coin? { throw ViewFailure() }
    }

    static let parameters = try! ConsensusParameters(ChainParameters.builtIn("regtest"))
    static let height: UInt64 = 1_000
    static let medianTimePast: UInt64 = 1_800_000_000
    static let anyone: [UInt8] = [Opcode.op1.rawValue] // spendable with an empty witness
    static let blockHash = Hash256(bytes: [UInt8](repeating: 0xB0, count: 32))!

    static func outpoint(_ byte: UInt8, _ index: UInt32 = 0) -> OutPoint {
        OutPoint(txid: Hash256(bytes: [UInt8](repeating: byte, count: 32))!, index: index)
    }

    static func units(_ value: UInt64) -> Amount { Amount(baseUnits: value)! }

    static func coin(_ value: UInt64, height: UInt64 = 1, isCoinbase: Bool = false, lock: [UInt8] = anyone) -> Coin {
        Coin(output: TxOut(value: units(value), lockScript: lock), height: height, isCoinbase: isCoinbase)
    }

    /// Spends `outpoints` into one output of `value`.
    static func spend(_ outpoints: [OutPoint], _ value: UInt64, version: UInt32 = 1, sequence: UInt32 = TxIn.finalSequence,
                      lockTime: UInt64 = 0) -> Transaction {
        Transaction(version: version, inputs: outpoints.map { TxIn(previousOutput: $0, sequence: sequence) },
                    outputs: [TxOut(value: units(value), lockScript: anyone)], lockTime: lockTime)
    }

    /// A block at `height` whose coinbase pays `coinbaseValue` (1 base unit unless given).
    static func block(_ transactions: [Transaction], coinbaseValue: UInt64 = 1, coinbaseHeight: UInt64 = height) -> Block {
        var coinbase = Transaction.coinbase(height: height, extraNonce: 0, outputs: [TxOut(value: units(coinbaseValue), lockScript: anyone)])
        coinbase.lockTime = coinbaseHeight
        return Block(header: BlockHeader(version: 1, height: height, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero,
                                         time: 0, bits: 0, nonce: 0), transactions: [coinbase] + transactions)
    }

    static func connect(_ block: Block, _ view: some UTXOView, medianTimePast: UInt64 = medianTimePast,
                        medianTimePastBefore: @escaping (UInt64) -> UInt64 = { _ in 0 }) throws -> BlockDelta {
        let context = ContextualRules.Context(height: height, medianTimePast: medianTimePast, blockHash: blockHash,
                                              medianTimePastBefore: medianTimePastBefore)
        return try ContextualRules.connect(block, txids: block.transactions.map(\.txid), context: context, parameters: parameters, view: view)
    }

    static func connect(_ block: Block, _ coins: [OutPoint: Coin], medianTimePast: UInt64 = medianTimePast,
                        medianTimePastBefore: @escaping (UInt64) -> UInt64 = { _ in 0 }) throws -> BlockDelta {
        try connect(block, MemoryView(coins: coins), medianTimePast: medianTimePast, medianTimePastBefore: medianTimePastBefore)
    }

    static func expectRejected(_ rule: RuleName, transaction: Int?, input: Int? = nil, _ body: () throws -> BlockDelta,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try body()
            Issue.record("accepted, expected \(rule.rawValue)", sourceLocation: sourceLocation)
        } catch let rejection as Rejection {
            #expect(rejection.rule == rule && rejection.transaction == transaction && rejection.input == input, "\(rejection)",
                    sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    static func expectAccepted(_ body: () throws -> BlockDelta, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: Never.self, sourceLocation: sourceLocation) { _ = try body() }
    }

    @Test("coinbase-height: the coinbase's lock time is the block's height")
    func coinbaseHeight() {
        Self.expectAccepted { try Self.connect(Self.block([]), [:]) }
        Self.expectRejected(.coinbaseHeight, transaction: 0) { try Self.connect(Self.block([], coinbaseHeight: Self.height + 1), [:]) }
        Self.expectRejected(.coinbaseHeight, transaction: 0) { try Self.connect(Self.block([], coinbaseHeight: Self.height - 1), [:]) }
        // No coinbase at all (a context-free rule, checked again before indexing the first transaction).
        var empty = Self.block([])
        empty.transactions = []
        Self.expectRejected(.blockNoTransactions, transaction: nil) { try Self.connect(empty, [:]) }
    }

    @Test("coinbase-value: the coinbase claims at most subsidy plus fees")
    func coinbaseValue() throws {
        let coins = [Self.outpoint(1): Self.coin(10_000)]
        let subsidy = Self.parameters.subsidy(height: Self.height).baseUnits
        let fee: UInt64 = 1_000
        let paying = Self.spend([Self.outpoint(1)], 10_000 - fee)
        let delta = try Self.connect(Self.block([paying], coinbaseValue: subsidy + fee), coins)
        #expect(delta.fees == Self.units(fee))
        Self.expectRejected(.coinbaseValue, transaction: 0) { try Self.connect(Self.block([paying], coinbaseValue: subsidy + fee + 1), coins) }
    }

    @Test("tx-immature-coinbase: a coinbase output is spendable 100 blocks after its block")
    func immatureCoinbase() {
        let maturity = Self.parameters.coinbaseMaturity
        #expect(maturity == 100)
        let block = Self.block([Self.spend([Self.outpoint(1)], 1)])
        Self.expectAccepted { try Self.connect(block, [Self.outpoint(1): Self.coin(5, height: Self.height - maturity, isCoinbase: true)]) }
        Self.expectRejected(.txImmatureCoinbase, transaction: 1, input: 0) {
            try Self.connect(block, [Self.outpoint(1): Self.coin(5, height: Self.height - maturity + 1, isCoinbase: true)])
        }
        // The same age is fine for an output that is not a coinbase's.
        Self.expectAccepted { try Self.connect(block, [Self.outpoint(1): Self.coin(5, height: Self.height - maturity + 1)]) }
    }

    @Test("tx-lock-time: a height lock below h, a time lock below MTP, or every sequence final")
    func lockTime() {
        let coins = [Self.outpoint(1): Self.coin(5)]
        func block(_ lockTime: UInt64, sequence: UInt32 = 0) -> Block {
            Self.block([Self.spend([Self.outpoint(1)], 1, sequence: sequence, lockTime: lockTime)])
        }
        Self.expectAccepted { try Self.connect(block(Self.height - 1), coins) }
        Self.expectRejected(.txLockTime, transaction: 1) { try Self.connect(block(Self.height), coins) }
        Self.expectAccepted { try Self.connect(block(Self.height, sequence: TxIn.finalSequence), coins) }
        Self.expectAccepted { try Self.connect(block(Self.medianTimePast - 1), coins) }
        Self.expectRejected(.txLockTime, transaction: 1) { try Self.connect(block(Self.medianTimePast), coins) }
    }

    @Test("tx-sequence-lock by height: h >= coin height + n (version 2, flag clear)")
    func sequenceLockHeight() {
        let block = Self.block([Self.spend([Self.outpoint(1)], 1, version: 2, sequence: 10)])
        Self.expectAccepted { try Self.connect(block, [Self.outpoint(1): Self.coin(5, height: Self.height - 10)]) }
        Self.expectRejected(.txSequenceLock, transaction: 1, input: 0) {
            try Self.connect(block, [Self.outpoint(1): Self.coin(5, height: Self.height - 9)])
        }
        // Version 1, or the disable flag, turns the lock off.
        let young = [Self.outpoint(1): Self.coin(5, height: Self.height - 9)]
        Self.expectAccepted { try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1, version: 1, sequence: 10)]), young) }
        Self.expectAccepted {
            try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1, version: 2, sequence: RelativeLock.disableFlag | 10)]), young)
        }
    }

    @Test("tx-sequence-lock by time: MTP >= MTP before the coin's block + 512 n")
    func sequenceLockTime() {
        let coinHeight: UInt64 = 900
        let start: UInt64 = 1_700_000_000
        let coins = [Self.outpoint(1): Self.coin(5, height: coinHeight)]
        let block = Self.block([Self.spend([Self.outpoint(1)], 1, version: 2, sequence: RelativeLock.typeFlag | 2)])
        let before = { (height: UInt64) -> UInt64 in height == coinHeight ? start : 0 }
        Self.expectAccepted { try Self.connect(block, coins, medianTimePast: start + 1_024, medianTimePastBefore: before) }
        Self.expectRejected(.txSequenceLock, transaction: 1, input: 0) {
            try Self.connect(block, coins, medianTimePast: start + 1_023, medianTimePastBefore: before)
        }
    }

    @Test("tx-sequence-lock near 2^64: coin height + n and MTP + 512 n past 2^64 - 1 never unlock (they once wrapped)")
    func sequenceLockOverflow() {
        // The rules read only the context's height, so a block at 2^64 - 2 is built here directly.
        let height = UInt64.max - 1
        func connect(sequence: UInt32, coinHeight: UInt64, mtpBefore: UInt64) throws -> BlockDelta {
            let coinbase = Transaction.coinbase(height: height, extraNonce: 0, outputs: [TxOut(value: Self.units(1), lockScript: Self.anyone)])
            let block = Block(header: BlockHeader(version: 1, height: height, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero,
                                                  time: 0, bits: 0, nonce: 0),
                              transactions: [coinbase, Self.spend([Self.outpoint(4)], 1, version: 2, sequence: sequence)])
            let context = ContextualRules.Context(height: height, medianTimePast: .max, blockHash: .zero, medianTimePastBefore: { _ in mtpBefore })
            return try ContextualRules.connect(block, txids: block.transactions.map(\.txid), context: context, parameters: Self.parameters,
                                               view: MemoryView(coins: [Self.outpoint(4): Self.coin(10, height: coinHeight)]))
        }
        // 0xFFFF blocks after a coin at 2^64 - 3 is past 2^64 - 1: never reached; 1 block is.
        Self.expectRejected(.txSequenceLock, transaction: 1, input: 0) { try connect(sequence: 0xFFFF, coinHeight: height - 1, mtpBefore: 0) }
        Self.expectAccepted { try connect(sequence: 1, coinHeight: height - 1, mtpBefore: 0) }
        // Time-based: the MTP before the coin near 2^64 plus 512 n overflows.
        Self.expectRejected(.txSequenceLock, transaction: 1, input: 0) {
            try connect(sequence: RelativeLock.typeFlag | 0xFFFF, coinHeight: 5, mtpBefore: .max - 100)
        }
        Self.expectAccepted { try connect(sequence: RelativeLock.typeFlag | 0, coinHeight: 5, mtpBefore: .max - 100) }
    }

    @Test("tx-missing-input: a coin neither in the view nor a spendable output of an earlier transaction of the block")
    func missingInput() throws {
        Self.expectRejected(.txMissingInput, transaction: 1, input: 0) { try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1)]), [:]) }
        Self.expectAccepted { try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1)]), [Self.outpoint(1): Self.coin(5)]) }
        // Outputs of earlier transactions of the block are spendable without the view.
        let first = Transaction(inputs: [TxIn(previousOutput: Self.outpoint(1))],
                                outputs: [TxOut(value: Self.units(3), lockScript: Self.anyone),
                                          TxOut(value: Self.units(0), lockScript: Script.nullData([1, 2]))])
        let chained = Self.spend([OutPoint(txid: first.txid, index: 0)], 2)
        let delta = try Self.connect(Self.block([first, chained]), [Self.outpoint(1): Self.coin(5)])
        // Spent from the view: the undo data; created: net of the in-block spend and the RETURN output.
        #expect(delta.spent.map(\.0) == [Self.outpoint(1)] && delta.spent.map(\.1) == [Self.coin(5)])
        let block = Self.block([first, chained])
        #expect(delta.created.map(\.0) == [OutPoint(txid: block.transactions[0].txid, index: 0), OutPoint(txid: chained.txid, index: 0)])
        #expect(delta.created.map(\.1.isCoinbase) == [true, false] && delta.created.allSatisfy { $0.1.height == Self.height })
        #expect(delta.fees == Self.units(3) && delta.inputCount == 2)
        // ...but not a later transaction's, a RETURN output, or an index past the outputs.
        Self.expectRejected(.txMissingInput, transaction: 1, input: 0) { try Self.connect(Self.block([chained, first]), [Self.outpoint(1): Self.coin(5)]) }
        Self.expectRejected(.txMissingInput, transaction: 2, input: 0) {
            try Self.connect(Self.block([first, Self.spend([OutPoint(txid: first.txid, index: 1)], 0)]), [Self.outpoint(1): Self.coin(5)])
        }
        Self.expectRejected(.txMissingInput, transaction: 2, input: 0) {
            try Self.connect(Self.block([first, Self.spend([OutPoint(txid: first.txid, index: 2)], 0)]), [Self.outpoint(1): Self.coin(5)])
        }
    }

    @Test("tx-double-spend: no outpoint is spent twice in the block (from the view or from the block)")
    func doubleSpend() {
        let coins = [Self.outpoint(1): Self.coin(5), Self.outpoint(2): Self.coin(5)]
        Self.expectAccepted { try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1), Self.spend([Self.outpoint(2)], 1)]), coins) }
        Self.expectRejected(.txDoubleSpend, transaction: 2, input: 1) {
            try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1), Self.spend([Self.outpoint(2), Self.outpoint(1)], 2)]), coins)
        }
        let first = Self.spend([Self.outpoint(1)], 4)
        let inBlock = OutPoint(txid: first.txid, index: 0)
        Self.expectRejected(.txDoubleSpend, transaction: 3, input: 0) {
            try Self.connect(Self.block([first, Self.spend([inBlock], 1), Self.spend([inBlock], 2)]), coins)
        }
    }

    @Test("tx-input-overflow, block-fee-overflow and tx-output-overflow with near-MAX_MONEY coins no chain can hold")
    func amountOverflow() throws {
        // MAX_MONEY less one subsidy: one such fee plus the subsidy fits, two do not.
        let rich = Amount.maxMoney.subtracting(Amount.coins(500)!)!.baseUnits
        let coins = [Self.outpoint(1): Self.coin(rich), Self.outpoint(2): Self.coin(rich)]
        #expect(try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1)]), coins).fees == Self.units(rich - 1))
        Self.expectRejected(.txInputOverflow, transaction: 1, input: 1) {
            try Self.connect(Self.block([Self.spend([Self.outpoint(1), Self.outpoint(2)], 1)]), coins)
        }
        Self.expectRejected(.blockFeeOverflow, transaction: 2) {
            try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 1), Self.spend([Self.outpoint(2)], 1)]), coins)
        }
        // Outputs over MAX_MONEY (a context-free rule too, checked again where the sums are taken).
        var overpaying = Self.spend([Self.outpoint(1)], 1)
        overpaying.outputs = [TxOut(value: .maxMoney, lockScript: Self.anyone), TxOut(value: .maxMoney, lockScript: Self.anyone)]
        Self.expectRejected(.txOutputOverflow, transaction: 1) { try Self.connect(Self.block([overpaying]), coins) }
        var coinbaseOverflow = Self.block([])
        coinbaseOverflow.transactions[0].outputs = overpaying.outputs
        Self.expectRejected(.txOutputOverflow, transaction: 0) { try Self.connect(coinbaseOverflow, coins) }
    }

    @Test("tx-outputs-exceed-inputs: outputs at most the inputs (a zero fee is fine)")
    func outputsExceedInputs() throws {
        let coins = [Self.outpoint(1): Self.coin(5_000)]
        #expect(try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 5_000)]), coins).fees == .zero)
        Self.expectRejected(.txOutputsExceedInputs, transaction: 1) { try Self.connect(Self.block([Self.spend([Self.outpoint(1)], 5_001)]), coins) }
    }

    static let seed = [UInt8](repeating: 7, count: 32)
    static let publicKey = Ed25519.publicKey(seed: seed)
    static let keyLock = StandardScript.payToKeyHash(StandardScript.keyHash(publicKey))

    /// A pay-to-key-hash spend of `outpoint(1)` and the coin it spends, signed by `seed`.
    static func signedSpend() -> (Transaction, [OutPoint: Coin]) {
        let coin = Self.coin(5_000, lock: keyLock)
        var transaction = Self.spend([Self.outpoint(1)], 4_000)
        let sighash = ScriptContext(transaction: transaction, inputIndex: 0, spentOutput: coin.output).sighash
        transaction.witnesses[0] = [Ed25519.sign(message: sighash.bytes, seed: seed), publicKey]
        return (transaction, [Self.outpoint(1): coin])
    }

    @Test("script-*: an input whose script fails is rejected with the script's rule, transaction and input")
    func scriptFailure() throws {
        let (transaction, coins) = Self.signedSpend()
        Self.expectAccepted { try Self.connect(Self.block([transaction]), coins) }
        var wrongKey = transaction
        wrongKey.witnesses[0][1] = Ed25519.publicKey(seed: [UInt8](repeating: 8, count: 32))
        Self.expectRejected(.scriptVerify, transaction: 1, input: 0) { try Self.connect(Self.block([wrongKey]), coins) }
        var noSignature = transaction
        noSignature.witnesses[0][0] = []
        Self.expectRejected(.scriptFalse, transaction: 1, input: 0) { try Self.connect(Self.block([noSignature]), coins) }
        // One witness stack per input: a transaction built without one fails as an empty stack.
        var missingWitness = transaction
        missingWitness.witnesses = []
        Self.expectRejected(.scriptStackUnderflow, transaction: 1) { try Self.connect(Self.block([missingWitness]), coins) }
    }

    @Test("signature checks are collected with their location, not verified: a bad signature passes the rules")
    func signatureChecksCollected() throws {
        let (transaction, coins) = Self.signedSpend()
        let sighash = ScriptContext(transaction: transaction, inputIndex: 0, spentOutput: coins[Self.outpoint(1)]!.output).sighash
        let delta = try Self.connect(Self.block([Self.spend([Self.outpoint(2)], 1), transaction]), coins.merging([Self.outpoint(2): Self.coin(5)]) { $1 })
        #expect(delta.checks == [SignatureCheck(publicKey: Self.publicKey, signature: transaction.witnesses[0][0], message: sighash)])
        #expect(delta.checkLocations.map { [$0.transaction, $0.input] } == [[2, 0]])
        #expect(delta.checkLocations.allSatisfy { $0.blockHash == Self.blockHash && $0.height == Self.height })
        #expect(Ed25519.verify(signature: delta.checks[0].signature, message: sighash.bytes, publicKey: Self.publicKey))
        var forged = transaction
        forged.witnesses[0][0][5] ^= 1
        let forgedDelta = try Self.connect(Self.block([forged]), coins)
        #expect(forgedDelta.checks.map(\.signature) == [forged.witnesses[0][0]])
        #expect(!Ed25519.verify(signature: forgedDelta.checks[0].signature, message: sighash.bytes, publicKey: Self.publicKey))
    }

    @Test("damage is not a rule: a coin above the block's height and a wrong txid count are InconsistentInput; view errors pass through")
    func inconsistentInput() throws {
        let block = Self.block([Self.spend([Self.outpoint(1)], 1)])
        #expect(throws: InconsistentInput("coin \(Self.outpoint(1)) has height \(UInt64.max), above the block at \(Self.height)")) {
            try Self.connect(block, [Self.outpoint(1): Self.coin(5, height: .max)])
        }
        let context = ContextualRules.Context(height: Self.height, medianTimePast: 0, blockHash: .zero, medianTimePastBefore: { _ in 0 })
        #expect(throws: InconsistentInput("1 txids for 2 transactions")) {
            try ContextualRules.connect(block, txids: [block.transactions[0].txid], context: context, parameters: Self.parameters,
                                        view: MemoryView())
        }
        #expect(throws: ViewFailure()) { try Self.connect(block, FailingView()) }
    }
}
