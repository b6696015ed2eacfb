import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
import TestSupport

/// One rejection test per consensus rule: a valid next block, altered to break exactly that
/// rule, re-sealed (roots and PoW) unless the rule is about them, is rejected naming it.
/// The contextual rules are also tested alone, without storage, in
/// Tests/ConsensusTests/ContextualRuleTests.swift.
@Suite(.serialized)
struct RuleTests {
    static func expectRejected(_ state: ChainState, _ block: Block, _ rule: RuleName, transaction: Int? = nil, input: Int? = nil,
                               encodedSize: Int? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let tipBefore = state.tip.hash
        do {
            try state.accept(block, encodedSize: encodedSize)
            Issue.record("block accepted, expected \(rule.rawValue)", sourceLocation: sourceLocation)
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
        Self.expectRejected(state, badPoW, .headerPow)
        Self.expectRejected(state, Self.mined(next) { $0.header.bits = 0x2100_FFFF }, .headerBits)
        let harder = CompactTarget(target: try next.header.compactTarget.target() >> 1).bits
        Self.expectRejected(state, Self.mined(next) { $0.header.bits = harder }, .headerBitsAsert)
        Self.expectRejected(state, Self.mined(next) { $0.header.time = state.medianTimePast(state.tip) }, .headerTimeTooOld)
        Self.expectRejected(state, Self.mined(next) { $0.header.height += 1 }, .headerHeight)
        Self.expectRejected(state, Self.mined(next) { $0.header.version = 0 }, .headerVersion)
        let savedNow = state.now
        state.now = { next.header.time - 7201 }
        Self.expectRejected(state, next, .headerTimeTooNew)
        state.now = savedNow
        #expect(parentTime < next.header.time)

        // Block structure and commitments.
        // The context-free bound is the ceiling governance can reach (section 18.6 checks the limit in force).
        Self.expectRejected(state, next, .blockSize, encodedSize: state.parameters.maxBlockBytesCeiling + 1)
        Self.expectRejected(state, Self.mined(next) { $0.header.merkleRoot = Hash256(bytes: [UInt8](repeating: 1, count: 32))! }, .blockMerkleRoot)
        Self.expectRejected(state, Self.mined(next) { $0.transactions[1].witnesses[0].append([9]) }, .blockStateRoot)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions.swapAt(0, 1) }, .blockFirstNotCoinbase)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions.append(Transaction.coinbase(height: 999, extraNonce: 1, outputs: coinbase.outputs)) },
                            .blockExtraCoinbase)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions.append($0.transactions[1]) }, .blockDuplicateTxid)
        Self.expectRejected(state, Self.mined(next) { $0.transactions = [] }, .blockNoTransactions)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[0].outputs[0].value = Amount(baseUnits: coinbase.outputs[0].value.baseUnits + 1)! },
                            .coinbaseValue, transaction: 0)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[0].lockTime += 1 }, .coinbaseHeight, transaction: 0)

        // Transactions.
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].inputs = []; $0.transactions[1].witnesses = [] }, .txNoInputs, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].outputs = [] }, .txNoOutputs, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].outputs = [TxOut(value: Amount.maxMoney, lockScript: []), TxOut(value: Amount.maxMoney, lockScript: [])]
        }, .txOutputOverflow, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].inputs.append($0.transactions[1].inputs[0]); $0.transactions[1].witnesses.append([])
        }, .txDuplicateInput, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].inputs.append(TxIn(previousOutput: .null)); $0.transactions[1].witnesses.append([]) },
                            .txNullPrevout, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].inputs[0].previousOutput = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 7, count: 32))!, index: 0)
        }, .txMissingInput, transaction: 1, input: 0)
        Self.expectRejected(state, Self.sealed(next) {
            var copy = $0.transactions[1]
            copy.outputs[0].value = Amount(baseUnits: 1)!
            $0.transactions.append(copy)
        }, .txDoubleSpend, transaction: next.transactions.count, input: 0)
        let immature = OutPoint(txid: try state.loadTip().transactions[0].txid, index: 0)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].inputs.append(TxIn(previousOutput: immature)); $0.transactions[1].witnesses.append([])
        }, .txImmatureCoinbase, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].outputs[0].value = Amount(baseUnits: $0.transactions[1].outputs[0].value.baseUnits + 10_000_000_000)!
        }, .txOutputsExceedInputs, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) {
            $0.transactions[1].lockTime = next.header.height + 10
            for i in $0.transactions[1].inputs.indices { $0.transactions[1].inputs[i].sequence = 0 }
        }, .txLockTime, transaction: 1)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].inputs[0].sequence = 5000 }, .txSequenceLock, transaction: 1, input: 0)

        // Scripts and signatures.
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].witnesses[0] = [] }, .scriptStackUnderflow, transaction: 1, input: 0)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[1].witnesses[0][0][5] ^= 0x01 }, .scriptSignature, transaction: 1, input: 0)
        Self.expectRejected(state, Self.sealed(next) { $0.transactions[0].witnesses[0] = [[UInt8](repeating: 0xC0, count: 101)] },
                            .txCoinbaseWitnessSize, transaction: 0)
        #expect(throws: Never.self, "100 bytes in any number of items is the limit") {
            _ = try ContextFreeRules.check(Self.sealed(next) { $0.transactions[0].witnesses[0] = [[UInt8](repeating: 1, count: 60), [UInt8](repeating: 2, count: 40)] },
                                           encodedSize: 1000, parameters: Fixtures.regtest)
        }

        // A block that failed a contextual rule is remembered: offered again it is
        // block-known-invalid, and a child of it is block-invalid-parent.
        let missing = Self.sealed(next) {
            $0.transactions[1].inputs[0].previousOutput = OutPoint(txid: Hash256(bytes: [UInt8](repeating: 8, count: 32))!, index: 0)
        }
        Self.expectRejected(state, missing, .txMissingInput, transaction: 1, input: 0)
        Self.expectRejected(state, missing, .blockKnownInvalid)
        let childHeight = missing.header.height + 1
        var child = Block(header: BlockHeader(version: HeaderRules.version, height: childHeight, previousHash: missing.hash, merkleRoot: .zero,
                                              stateRoot: .zero, time: missing.header.time + 150,
                                              bits: Fixtures.regtest.requiredBits(parentHeight: missing.header.height, parentTime: missing.header.time),
                                              nonce: 0),
                          transactions: [Transaction.coinbase(height: childHeight, extraNonce: 0,
                                                              outputs: [TxOut(value: Fixtures.regtest.subsidy(height: childHeight), lockScript: [0x51])])])
        ChainGenerator.seal(&child)
        Self.expectRejected(state, child, .blockInvalidParent)

        // After all that, the untouched block is still accepted.
        #expect(try state.accept(next) == .connected)
        #expect(try state.utxoSummary().digest == generator.utxoDigest().digest)
    }
}
