import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Mempool
import Primitives
import Testing

/// Batched acceptance: in-batch parents, one signature batch with bad signatures named,
/// chunks, conflicts inside a batch, entry times, and concurrent single submissions joining
/// one batch.
@Suite(.serialized)
struct BatchAcceptanceTests {
    @Test("a bad signature mid-batch refuses that transaction (naming the input) and its in-batch child; the rest enter")
    func badSignatureInBatch() throws {
        let chain = try TestChain(blocks: 105)
        let coins = try chain.fanOut(height: 1, count: 8)
        let verifier = RecordingVerifier()
        chain.chain.withWriter { $0.signatureVerifier = verifier }
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { 5_000 })

        let first = chain.payment(coins[0], fee: 10_000)
        var forged = chain.spend([coins[1], coins[2]], to: [chain.pay(coins[1].1.value.baseUnits * 2 - 20_000)])
        forged.witnesses[1][0][7] ^= 1
        let childOfForged = chain.payment(TestChain.output(forged, 0), fee: 10_000)
        let independent = chain.payment(coins[3], fee: 10_000)
        let childOfFirst = chain.payment(TestChain.output(first, 0), fee: 10_000)
        let batch = [first, forged, childOfForged, independent, childOfFirst]

        let results = pool.submit(batch: batch, source: "test")
        #expect(results.count == 5)
        #expect(results[0].entry?.txid == first.txid)
        #expect(results[1].rule == "script-signature" && results[1].rejection?.detail == "input 1: signature does not verify")
        #expect(results[1].rejection?.isConsensusFailure == true)
        #expect(results[2].rejection?.kind == .missingInputs && results[2].rule == "bad-txns-inputs-missingorspent")
        #expect(results[3].entry?.txid == independent.txid)
        #expect(results[4].entry?.depends == [first.txid])
        #expect(Set(pool.entries().map(\.txid)) == [first.txid, independent.txid, childOfFirst.txid])
        // Every signature of the batch went to the verifier as one batch.
        #expect(verifier.batchSizes == [6])
        #expect(pool.history(txid: forged.txid).map(\.state) == [.rejected])
        #expect(pool.history(txid: childOfFirst.txid).map(\.state) == [.validated, .mempool])
        #expect(pool.entry(txid: first.txid)?.time == 5_000)
        #expect(!pool.wants(wtxid: forged.wtxid) && pool.rejection(txid: forged.txid)?.rejection.rule == "script-signature")
    }

    @Test("a child before its parent in a batch misses its input; a parent and child in order both enter")
    func orderWithinBatch() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let parent = chain.payment(chain.coinbase(height: 1), fee: 10_000, outputs: 2)
        let child = chain.payment(TestChain.output(parent, 1), fee: 10_000)
        let reversed = pool.submit(batch: [child, parent], source: "test")
        #expect(reversed[0].rejection?.kind == .missingInputs && reversed[1].entry != nil)
        let again = pool.submit(batch: [parent, child], source: "test")
        #expect(again[0].rejection?.kind == .alreadyInPool && again[1].entry?.depends == [parent.txid])
        #expect(pool.count == 2)
    }

    @Test("a batch larger than a chunk: a child in a later chunk finds its parent; entry times are kept")
    func chunksAndEntryTimes() throws {
        let chain = try TestChain(blocks: 105)
        var coins = [(OutPoint, TxOut)]()
        for height in 1...6 { coins += try chain.fanOut(height: height, count: 200) }
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { 1_000_000 })
        var batch = coins.prefix(1_100).map { chain.payment($0, fee: 2_000) }
        // Children of the first transactions, placed after the first chunk's end.
        batch += batch.prefix(5).map { chain.payment(TestChain.output($0, 0), fee: 2_000) }
        let times = batch.indices.map { UInt64(900_000 + $0) }
        let results = pool.submit(batch: batch, source: "mempool.dat", entryTimes: times)
        #expect(results.allSatisfy { $0.entry != nil })
        #expect(pool.count == batch.count)
        #expect(pool.entry(txid: batch[1_102].txid)?.depends == [batch[2].txid])
        #expect(pool.entry(txid: batch[1_103].txid)?.time == 901_103)
    }

    @Test("a double spend inside a batch is judged against the first once that one entered: a replacement or refused")
    func conflictsInsideBatch() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let coin = chain.coinbase(height: 1), other = chain.coinbase(height: 2)
        let original = chain.payment(coin, fee: 10_000)
        let better = chain.payment(coin, fee: 50_000)
        let worse = chain.payment(other, fee: 10_000)
        let cheaper = chain.payment(other, fee: 5_000)
        let same = chain.payment(coin, fee: 50_000)
        let results = pool.submit(batch: [original, better, worse, cheaper, same], source: "test")
        #expect(results[0].entry != nil && results[1].entry != nil && results[2].entry != nil)
        #expect(results[3].rule == "insufficient fee")
        #expect(results[4].rejection?.kind == .alreadyInPool)
        #expect(Set(pool.entries().map(\.txid)) == [better.txid, worse.txid])
        let replaced = try #require(pool.history(txid: original.txid).last)
        #expect(replaced.state == .replaced && replaced.detail == better.txid.hex)
    }

    @Test("concurrent single submissions are all answered, each with its own verdict")
    func concurrentSubmissions() async throws {
        let chain = try TestChain(blocks: 105)
        let coins = try chain.fanOut(height: 1, count: 60)
        let verifier = RecordingVerifier()
        chain.chain.withWriter { $0.signatureVerifier = verifier }
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let payments = coins.map { chain.payment($0, fee: 10_000) }
        var forged = chain.payment(chain.coinbase(height: 2), fee: 10_000)
        forged.witnesses[0][0][9] ^= 1
        // Each payment twice (one of the two is already in the pool), and one forgery.
        let submissions = payments + payments + [forged]
        let results = await withTaskGroup(of: (Int, MempoolResult).self) { group in
            for (index, transaction) in submissions.enumerated() {
                group.addTask { (index, pool.submit(transaction, source: "rpc")) }
            }
            var results = [MempoolResult?](repeating: nil, count: submissions.count)
            for await (index, result) in group { results[index] = result }
            return results
        }
        for (index, payment) in payments.enumerated() {
            let pair = [results[index], results[index + payments.count]]
            #expect(pair.compactMap { $0?.entry?.txid } == [payment.txid])
            #expect(pair.compactMap { $0?.rejection?.kind } == [.alreadyInPool])
        }
        #expect(results.last??.rule == "script-signature")
        #expect(pool.count == payments.count)
        // Every signature was verified exactly once, however the submissions were grouped.
        #expect(verifier.batchSizes.reduce(0, +) == payments.count + 1)
    }

    @Test("test() judges a replacement as submit would and changes nothing")
    func testChangesNothing() throws {
        let chain = try TestChain(blocks: 105)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let coin = chain.coinbase(height: 1)
        let original = chain.payment(coin, fee: 10_000)
        #expect(pool.submit(original, source: "test").entry != nil)
        let replacement = chain.payment(coin, fee: 30_000)
        #expect(pool.test(replacement).entry?.txid == replacement.txid)
        #expect(pool.test(chain.payment(coin, fee: 10_001)).rule == "insufficient fee")
        #expect(pool.entries().map(\.txid) == [original.txid] && pool.history(txid: replacement.txid).isEmpty)
    }
}

/// A verifier that records the size of every batch it is given.
final class RecordingVerifier: SignatureBatchVerifier, @unchecked Sendable {
    private let lock = NSLock()
    private var sizes: [Int] = []

    var name: String { "recording" }
    var batchSizes: [Int] { lock.withLock { sizes } }

    func verify(_ batch: SignatureBatch) throws -> [Bool] {
        lock.withLock { sizes.append(batch.count) }
        return Ed25519.verifyBatch(batch)
    }
}

extension TestChain {
    /// Mines a block whose one transaction splits the coinbase of `height` into `count`
    /// equal confirmed outputs (spendable at once, unlike coinbases); returns them.
    func fanOut(height: Int, count: Int) throws -> [(OutPoint, TxOut)] {
        let coin = coinbase(height: height)
        let value = coin.1.value.baseUnits / UInt64(count)
        let split = spend([coin], to: Array(repeating: pay(value), count: count))
        try mine([split], fees: Amount(baseUnits: coin.1.value.baseUnits - value * UInt64(count))!)
        return (0..<count).map { TestChain.output(split, $0) }
    }

    /// `coin` paid back to the key in `outputs` equal outputs, less `fee`.
    func payment(_ coin: (OutPoint, TxOut), fee: UInt64, outputs: Int = 1) -> Transaction {
        let value = (coin.1.value.baseUnits - fee) / UInt64(outputs)
        var paid = Array(repeating: pay(value), count: outputs)
        // The remainder of the division goes to the first output, so the fee is exact.
        paid[0] = pay(coin.1.value.baseUnits - fee - value * UInt64(outputs - 1))
        return spend([coin], to: paid)
    }
}
