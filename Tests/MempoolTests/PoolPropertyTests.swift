import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Mempool
import Primitives
import TestSupport
import Testing

/// Random sequences of submissions (single and batched), chains of spends, double spends,
/// replacements and blocks, from seeded generators: after every step the pool holds no two
/// spends of one outpoint, keeps the package limits, spends only coins that exist, and its
/// block selection connects as a valid block.
@Suite(.serialized)
struct PoolPropertyTests {
    @Test("random submissions, double spends, replacements and blocks keep the pool's invariants", arguments: [1, 2, 3] as [UInt64])
    func randomHistories(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        let chain = try TestChain(blocks: 105)
        var confirmed = try chain.fanOut(height: 1, count: 40) + chain.fanOut(height: 2, count: 40)
        var policy = MempoolPolicy()
        policy.maxAncestors = 4
        policy.maxDescendants = 5
        policy.maxReplacementEvictions = 6
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, policy: policy)
        pool.start()
        defer { pool.stop() }
        try await chain.waitUntilSynced(pool)

        /// A coin to spend: mostly confirmed, sometimes an unconfirmed pool output, sometimes
        /// one already spent in the pool (a double spend).
        func pickCoin() -> (OutPoint, TxOut)? {
            let entries = pool.entries()
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4 where !entries.isEmpty:
                let entry = entries.randomElement(using: &random)!
                let index = Int.random(in: 0..<entry.transaction.outputs.count, using: &random)
                return TestChain.output(entry.transaction, index)
            case 4..<6 where !entries.isEmpty:
                let entry = entries.randomElement(using: &random)!
                let outpoint = entry.spentOutpoints.randomElement(using: &random)!
                if let coin = confirmed.first(where: { $0.0 == outpoint }) { return coin }
                guard let creator = pool.entry(txid: outpoint.txid) else { return nil }
                return (outpoint, creator.transaction.outputs[Int(outpoint.index)])
            default:
                return confirmed.randomElement(using: &random)
            }
        }
        func randomTransaction() -> Transaction? {
            guard let coin = pickCoin() else { return nil }
            let fee = UInt64.random(in: 200...60_000, using: &random)
            guard coin.1.value.baseUnits > fee + 10_000 else { return nil }
            return chain.payment(coin, fee: fee, outputs: Int.random(in: 1...3, using: &random))
        }

        // What the run exercised, by outcome (accepted, replaced, or the reject reason).
        var outcomes = [String: Int]()
        var accepted = [Hash256]()
        func tally(_ results: [MempoolResult]) {
            for result in results {
                switch result {
                case .accepted(let entry):
                    outcomes["accepted", default: 0] += 1
                    accepted.append(entry.txid)
                case .rejected(let rejection):
                    outcomes[rejection.rule, default: 0] += 1
                }
            }
        }

        for step in 0..<60 {
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                if let transaction = randomTransaction() { tally([pool.submit(transaction, source: "test")]) }
            case 4..<8:
                // A batch whose later transactions may spend or double-spend earlier ones.
                var batch = [Transaction]()
                for _ in 0..<Int.random(in: 2...8, using: &random) {
                    if let last = batch.last, Bool.random(using: &random) {
                        batch.append(chain.payment(TestChain.output(last, 0), fee: UInt64.random(in: 200...60_000, using: &random)))
                    } else if let transaction = randomTransaction() {
                        batch.append(transaction)
                    }
                }
                let results = pool.submit(batch: batch, source: "test")
                #expect(results.count == batch.count)
                tally(results)
            default:
                // Mine the selection (sometimes only part of it, sometimes with a rival spend of a pooled coin).
                let budget = Bool.random(using: &random) ? 1_000_000 : Int.random(in: 0...2_000, using: &random)
                var transactions = pool.selectForBlock(maxBytes: budget).map(\.transaction)
                if Int.random(in: 0..<3, using: &random) == 0,
                   let victim = confirmed.first(where: { coin in pool.spender(of: coin.0) != nil && !transactions.contains { $0.inputs.contains { $0.previousOutput == coin.0 } } }) {
                    transactions.append(chain.payment(victim, fee: 1_000))
                }
                let fees = try Self.fees(of: transactions, chain: chain, pool: pool)
                let block = try chain.mine(transactions, fees: fees)
                try await chain.waitUntilSynced(pool)
                let spent = Set(block.transactions.flatMap { $0.inputs.map(\.previousOutput) })
                confirmed.removeAll { spent.contains($0.0) }
                for transaction in block.transactions.dropFirst() {
                    confirmed += transaction.outputs.indices.map { TestChain.output(transaction, $0) }
                }
            }
            try Self.checkInvariants(pool, chain: chain, policy: policy, step: step)
        }
        outcomes["replaced"] = accepted.filter { pool.history(txid: $0).contains { $0.state == .replaced } }.count
        // The run exercised what it claims to (the seeds are fixed, so this is stable).
        #expect(outcomes["accepted", default: 0] >= 20 && outcomes["replaced", default: 0] >= 1, "\(outcomes)")
        #expect(outcomes["insufficient fee", default: 0] >= 1 && outcomes["too-long-mempool-chain", default: 0] >= 1, "\(outcomes)")
        // The final selection connects as a block too.
        let last = pool.selectForBlock(maxBytes: chain.parameters.maxBlockBytes - 1_000).map(\.transaction)
        try chain.mine(last, fees: try Self.fees(of: last, chain: chain, pool: pool))
    }

    /// The fees a block of `transactions` (parents first) collects: inputs from the chain or
    /// from earlier transactions of the list, less outputs.
    static func fees(of transactions: [Transaction], chain: TestChain, pool: Mempool) throws -> Amount {
        var created = [OutPoint: UInt64]()
        var total: UInt64 = 0
        for transaction in transactions {
            var inputs: UInt64 = 0
            for input in transaction.inputs {
                if let value = created[input.previousOutput] {
                    inputs += value
                } else {
                    inputs += try #require(try chain.chain.coin(input.previousOutput)).output.value.baseUnits
                }
            }
            let outputs = transaction.outputs.reduce(0) { $0 + $1.value.baseUnits }
            total += inputs - outputs
            for (index, output) in transaction.outputs.enumerated() {
                created[OutPoint(txid: transaction.txid, index: UInt32(index))] = output.value.baseUnits
            }
        }
        return Amount(baseUnits: total)!
    }

    static func checkInvariants(_ pool: Mempool, chain: TestChain, policy: MempoolPolicy, step: Int) throws {
        let entries = pool.entries()
        var spent = Set<OutPoint>()
        for entry in entries {
            for outpoint in entry.spentOutpoints {
                #expect(spent.insert(outpoint).inserted, "step \(step): \(outpoint) spent twice in the pool")
                // Every input is a chain coin or a pool output.
                let inPool = pool.entry(txid: outpoint.txid).map { Int(outpoint.index) < $0.transaction.outputs.count } ?? false
                #expect(try inPool || chain.chain.coin(outpoint) != nil, "step \(step): \(outpoint) does not exist")
            }
            let ancestors = pool.ancestors(of: entry.txid)
            #expect(ancestors.count + 1 <= policy.maxAncestors, "step \(step): \(entry.txid.hex) has \(ancestors.count) ancestors")
            #expect(ancestors.reduce(entry.size) { $0 + $1.size } <= policy.maxAncestorBytes)
            let descendants = pool.descendants(of: entry.txid)
            #expect(descendants.count + 1 <= policy.maxDescendants, "step \(step): \(entry.txid.hex) has \(descendants.count) descendants")
            #expect(descendants.reduce(entry.size) { $0 + $1.size } <= policy.maxDescendantBytes)
        }
        #expect(pool.bytes == entries.reduce(0) { $0 + $1.size })
    }
}
