import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

/// One rejection test per consensus rule: a valid next block, altered to break exactly that
/// rule, re-sealed (roots and PoW) unless the rule is about them, is rejected naming it.
@Suite(.serialized)
struct RuleTests {
    static func expectRejected(_ state: ChainState, _ block: Block, _ rule: String, transaction: Int? = nil, input: Int? = nil,
                               encodedSize: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let tipBefore = state.tip.hash
        do {
            try state.accept(block, encodedSize: encodedSize)
            Issue.record("block accepted, expected \(rule)", sourceLocation: sourceLocation)
        } catch ChainStateError.rejected(let rejection, let height, let hash) {
            #expect(rejection.rule == rule, "\(rejection)", sourceLocation: sourceLocation)
            #expect(height == block.header.height && hash == block.hash, sourceLocation: sourceLocation)
            if let transaction { #expect(rejection.transaction == transaction, "\(rejection)", sourceLocation: sourceLocation) }
            if let input { #expect(rejection.input == input, "\(rejection)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
        #expect(state.tip.hash == tipBefore, "the chain must not move", sourceLocation: sourceLocation)
    }

    static func sealed(_ block: Block, _ change: (inout Block) -> Void) -> Block {
        var copy = block
        change(&copy)
        ChainGenerator.seal(&copy)
        return copy
    }

    /// Re-mines a header without recomputing its commitments.
    static func mined(_ block: Block, _ change: (inout Block) -> Void) -> Block {
        var copy = block
        change(&copy)
        copy.header.nonce = ChainGenerator.mine(copy.header)
        return copy
    }

    @Test("every consensus rule rejects a block that breaks it, names it, and leaves the chain unchanged")
    func everyRule() throws {
        let (state, generatorAtTip, directory) = try Fixtures.chain(blocks: 110, seed: 5, transactions: 6)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var generator = generatorAtTip
        let next = generator.nextBlock()
        #expect(next.transactions.count > 2)
        let parentTime = state.tip.header.time
        let coinbase = next.transactions[0]

        // Header.
        var badPoW = next
        while true {
            badPoW.header.nonce &+= 1
            let target = try badPoW.header.compactTarget.target()
            if !ProofOfWork.meets(badPoW.header.hash, target: target) { break }
        }
        Self.expectRejected(state, badPoW, "header-pow")
        Self.expectRejected(state, Self.mined(next) { $0.header.bits = 0x2100_FFFF }, "header-bits")
        let harder = CompactTarget(target: try next.header.compactTarget.target() >> 1).bits
        Self.expectRejected(state, Self.mined(next) { $0.header.bits = harder }, "header-bits-asert")
        Self.expectRejected(state, Self.mined(next) { $0.header.time = state.medianTimePast(state.tip) }, "header-time-too-old")
        Self.expectRejected(state, Self.mined(next) { $0.header.height += 1 }, "header-height")
        Self.expectRejected(state, Self.mined(next) { $0.header.version = 0 }, "header-version")
        let savedNow = state.now
        state.now = { next.header.time - 7201 }
        Self.expectRejected(state, next, "header-time-too-new")
        state.now = savedNow
        #expect(parentTime < next.header.time)

        // Block structure and commitments.
        Self.expectRejected(state, next, "block-size", encodedSize: 4_000_001)
        Self.expectRejected(state, Self.mined(next) { $0.header.merkleRoot = Hash256(bytes: [UInt8](repeating: 1, count: 32))! }, "block-merkle-root")
        Self.expectRejected(state, Self.mined(next) { $0.transactions[1].witnesses[0].append([9]) }, "block-state-root")
        Self.expectRejected(state, Self.sealed(next) { $0.transactions.swapAt(0, 1) }, "block-first-not-coinbase")
        Self.expectRejected(state, Self.sealed(next) { $0.transactions.append(Transaction.coinbase(height: 999, extraNonce: 1, outputs: coinbase.outputs)) },
                            "block-extra-coinbase")
        Self.expectRejected(state, Self.sealed(next) { $0.transactions.append($0.transactions[1]) }, "block-duplicate-txid")
        Self.expectRejected(state, Self.mined(next) { $0.transactions = [] }, "block-no-transactions")
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[0].outputs[0].value = Amount(baseUnits: coinbase.outputs[0].value.baseUnits + 1)! },
                            "coinbase-value", transaction: 0)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[0].lockTime += 1 }, "coinbase-height", transaction: 0)

        // Transactions.
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].inputs = []; $0.transactions[1].witnesses = [] }, "tx-no-inputs", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].outputs = [] }, "tx-no-outputs", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].outputs = [TxOut(value: Amount.maxMoney, lockScript: []), TxOut(value: Amount.maxMoney, lockScript: [])]
        }, "tx-output-overflow", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].inputs.append($0.transactions[1].inputs[0]); $0.transactions[1].witnesses.append([])
        }, "tx-duplicate-input", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].inputs.append(TxIn(previousOutput: .null)); $0.transactions[1].witnesses.append([]) },
                            "tx-null-prevout", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].inputs[0].previousOutput = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 7, count: 32))!, index: 0)
        }, "tx-missing-input", transaction: 1, input: 0)
        Self.expectRejected(state, Self.sealed(next) {
            var copy = $0.transactions[1]
            copy.outputs[0].value = Amount(baseUnits: 1)!
            $0.transactions.append(copy)
        }, "tx-double-spend", transaction: next.transactions.count, input: 0)
        let immature = OutPoint(txid: try state.loadTip().transactions[0].txid, index: 0)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].inputs.append(TxIn(previousOutput: immature)); $0.transactions[1].witnesses.append([])
        }, "tx-immature-coinbase", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].outputs[0].value = Amount(baseUnits: $0.transactions[1].outputs[0].value.baseUnits + 10_000_000_000)!
        }, "tx-outputs-exceed-inputs", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].lockTime = next.header.height + 10
            for i in $0.transactions[1].inputs.indices { $0.transactions[1].inputs[i].sequence = 0 }
        }, "tx-lock-time", transaction: 1)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].inputs[0].sequence = 5000 }, "tx-sequence-lock", transaction: 1, input: 0)

        // Scripts and signatures.
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].witnesses[0] = [] }, "script-stack-underflow", transaction: 1, input: 0)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].witnesses[0][0][5] ^= 0x01 }, "script-signature", transaction: 1, input: 0)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[0].witnesses[0] = [[UInt8](repeating: 0xC0, count: 101)] },
                            "tx-coinbase-witness-size", transaction: 0)
        #expect(throws: Never.self, "100 bytes in any number of items is the limit") {
            _ = try ContextFreeRules.check(Self.sealed(next) { $0.transactions[0].witnesses[0] = [[UInt8](repeating: 1, count: 60), [UInt8](repeating: 2, count: 40)] },
                                           encodedSize: 1000, parameters: Fixtures.regtest)
        }

        // A block that failed a contextual rule is remembered: offered again it is
        // block-known-invalid, and a child of it is block-invalid-parent.
        let missing = Self.sealed(next) {
            $0.transactions[1].inputs[0].previousOutput = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 8, count: 32))!, index: 0)
        }
        Self.expectRejected(state, missing, "tx-missing-input", transaction: 1, input: 0)
        Self.expectRejected(state, missing, "block-known-invalid")
        let childHeight = missing.header.height + 1
        var child = Block(header: BlockHeader(version: HeaderRules.version, height: childHeight, previousHash: missing.hash, merkleRoot: .zero,
                                              stateRoot: .zero, time: missing.header.time + 150,
                                              bits: Fixtures.regtest.requiredBits(parentHeight: missing.header.height, parentTime: missing.header.time),
                                              nonce: 0),
                          transactions: [Transaction.coinbase(height: childHeight, extraNonce: 0,
                                                              outputs: [TxOut(value: Fixtures.regtest.subsidy(height: childHeight), lockScript: [0x51])])])
        ChainGenerator.seal(&child)
        Self.expectRejected(state, child, "block-invalid-parent")

        // After all that, the untouched block is still accepted.
        #expect(try state.accept(next) == .connected)
        #expect(try state.utxoSummary().digest == generator.utxoDigest().digest)
    }

    /// Rules no chain can reach with real coins (the supply stays far below MAX_MONEY), so
    /// they run against `BlockConnector` with a UTXO set that holds impossible coins.
    @Test("tx-input-overflow and block-fee-overflow against a UTXO set of near-MAX_MONEY coins; a coin above the block's height is a corrupt database")
    func amountOverflowRules() throws {
        let anyone: [UInt8] = [0x51] // OP_1: spendable with an empty witness
        func outpoint(_ byte: UInt8) -> OutPoint { OutPoint(txid: Hash256(bytes: [UInt8](repeating: byte, count: 32))!, index: 0) }
        // MAX_MONEY less one subsidy: one such fee plus the subsidy still fits, two do not.
        let rich = Amount.maxMoney.subtracting(Amount.coins(500)!)!
        let richCoin = Coin(output: TxOut(value: rich, lockScript: anyone), height: 1, isCoinbase: false)
        let height: UInt64 = 10
        func spend(_ outpoints: [OutPoint], output value: Amount) -> Transaction {
            Transaction(version: 1, inputs: outpoints.map { TxIn(previousOutput: $0) }, outputs: [TxOut(value: value, lockScript: anyone)])
        }
        func connect(_ transactions: [Transaction], coinHeight: UInt64 = 1) throws -> BlockDelta {
            let coinbase = Transaction.coinbase(height: height, extraNonce: 0, outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: anyone)])
            let block = Block(header: BlockHeader(version: 1, height: height, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero,
                                                  time: 0, bits: 0, nonce: 0), transactions: [coinbase] + transactions)
            var coin = richCoin
            coin.height = coinHeight
            let context = BlockConnector.Context(height: height, medianTimePast: 0, blockHash: .zero, medianTimePastBefore: { _ in 0 })
            return try BlockConnector.connect(block, txids: block.transactions.map(\.txid), context: context, parameters: Fixtures.regtest) { _ in coin }
        }
        func expectRule(_ rule: String, transaction: Int, input: Int? = nil, _ body: () throws -> BlockDelta,
                        sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try body()
                Issue.record("accepted, expected \(rule)", sourceLocation: sourceLocation)
            } catch let rejection as Rejection {
                #expect(rejection.rule == rule && rejection.transaction == transaction && rejection.input == input, "\(rejection)",
                        sourceLocation: sourceLocation)
            } catch {
                Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
            }
        }
        // One rich input is fine; two overflow at the second input.
        #expect(try connect([spend([outpoint(1)], output: Amount(baseUnits: 1)!)]).fees.baseUnits == rich.baseUnits - 1)
        expectRule("tx-input-overflow", transaction: 1, input: 1) { try connect([spend([outpoint(1), outpoint(2)], output: Amount(baseUnits: 1)!)]) }
        // Two transactions each paying a fee above MAX_MONEY / 2: the block's fee total overflows.
        expectRule("block-fee-overflow", transaction: 2) {
            try connect([spend([outpoint(1)], output: Amount(baseUnits: 1)!), spend([outpoint(2)], output: Amount(baseUnits: 1)!)])
        }
        // A stored coin from a height above the block's is damage, reported, never a trap
        // (the maturity check once subtracted the heights unchecked).
        do {
            _ = try connect([spend([outpoint(1)], output: Amount(baseUnits: 1)!)], coinHeight: .max)
            Issue.record("a coin from height 2^64 - 1 was accepted")
        } catch ChainStateError.corruptDatabase(let detail) {
            #expect(detail.contains("height 18446744073709551615"), "\(detail)")
        }
    }

    @Test("relative locks near 2^64: coin height + n and MTP + 512 n that pass 2^64 - 1 never unlock (they once wrapped)")
    func relativeLockOverflow() throws {
        let anyone: [UInt8] = [0x51]
        let height = UInt64.max - 1
        func connect(sequence: UInt32, coinHeight: UInt64, mtpBefore: UInt64) throws -> BlockDelta {
            let coinbase = Transaction.coinbase(height: height, extraNonce: 0, outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: anyone)])
            let spend = Transaction(version: 2, inputs: [TxIn(previousOutput: OutPoint(txid: Hash256(bytes: [UInt8](repeating: 4, count: 32))!, index: 0),
                                                              sequence: sequence)],
                                    outputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: anyone)])
            let block = Block(header: BlockHeader(version: 1, height: height, previousHash: .zero, merkleRoot: .zero, stateRoot: .zero,
                                                  time: 0, bits: 0, nonce: 0), transactions: [coinbase, spend])
            let coin = Coin(output: TxOut(value: Amount(baseUnits: 10)!, lockScript: anyone), height: coinHeight, isCoinbase: false)
            let context = BlockConnector.Context(height: height, medianTimePast: .max, blockHash: .zero, medianTimePastBefore: { _ in mtpBefore })
            return try BlockConnector.connect(block, txids: block.transactions.map(\.txid), context: context, parameters: Fixtures.regtest) { _ in coin }
        }
        func expectLocked(_ sequence: UInt32, coinHeight: UInt64, mtpBefore: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: Rejection("tx-sequence-lock", transaction: 1, input: 0), sourceLocation: sourceLocation) {
                do { _ = try connect(sequence: sequence, coinHeight: coinHeight, mtpBefore: mtpBefore) } catch var rejection as Rejection {
                    rejection.detail = ""
                    throw rejection
                }
            }
        }
        // 0xFFFF blocks after a coin at height 2^64 - 3: past 2^64 - 1, so never reached.
        expectLocked(0xFFFF, coinHeight: height - 1, mtpBefore: 0)
        // Two blocks after it is reached at the block's height.
        #expect(throws: Never.self) { _ = try connect(sequence: 1, coinHeight: height - 1, mtpBefore: 0) }
        // Time-based: the MTP before the coin near 2^64 plus 512 n overflows.
        expectLocked(RelativeLock.typeFlag | 0xFFFF, coinHeight: 5, mtpBefore: .max - 100)
        #expect(throws: Never.self) { _ = try connect(sequence: RelativeLock.typeFlag | 0, coinHeight: 5, mtpBefore: .max - 100) }
    }

    @Test("header rules directly: previous hash and the median of the last 11")
    func headerRules() throws {
        let parameters = Fixtures.regtest
        let genesis = parameters.chain.genesisBlock().header
        var header = genesis
        header.height = 1
        header.previousHash = genesis.hash
        header.bits = parameters.requiredBits(parentHeight: 0, parentTime: genesis.time)
        header.time = genesis.time + 1
        #expect(throws: Never.self) {
            try HeaderRules.check(header, parentHash: genesis.hash, parentHeight: 0, parentTime: genesis.time,
                                  recentTimes: [genesis.time], now: genesis.time + 100, parameters: parameters)
        }
        #expect(throws: Rejection("header-prev-hash")) {
            try HeaderRules.check(header, parentHash: .zero, parentHeight: 0, parentTime: genesis.time,
                                  recentTimes: [genesis.time], now: genesis.time + 100, parameters: parameters)
        }
        #expect(HeaderRules.medianTime([5, 1, 9, 3, 7, 2, 8, 4, 6, 11, 10]) == 6)
        // A clock near 2^64: now + 7,200 s saturates instead of wrapping below the header time.
        #expect(throws: Never.self) {
            try HeaderRules.check(header, parentHash: genesis.hash, parentHeight: 0, parentTime: genesis.time,
                                  recentTimes: [genesis.time], now: .max - 10, parameters: parameters)
        }
    }
}
