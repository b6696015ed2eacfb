import ChainGen
import ChainParams
import ChainState
import Consensus
import Foundation
import Mempool
import Primitives
import Testing

/// The pool against a real chain state: acceptance, every class of refusal, parents and
/// children, block connects and reorganisations, and block selection.
@Suite(.serialized)
struct MempoolTests {
    /// 105 blocks: the coinbases of heights 1...6 are mature for the next block (106).
    static let chainLength = 105
    static let coinbaseValue: UInt64 = 50_000_000_000

    @Test("a valid spend is accepted and every query reflects it; test() adds nothing")
    func acceptsValidSpend() throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, now: { 1_000 })
        let fee: UInt64 = 10_000
        let transaction = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.coinbaseValue - fee - 1_000_000), chain.pay(1_000_000)])
        let (txid, wtxid) = transaction.ids

        // test(): the same verdict, nothing added.
        let tested = try #require(pool.test(transaction).entry)
        #expect(tested.fee.baseUnits == fee && pool.count == 0 && !pool.contains(txid: txid))

        let entry = try #require(pool.submit(transaction, source: "test").entry)
        let size = transaction.encoded.count
        #expect(entry.txid == txid && entry.wtxid == wtxid && entry.size == size)
        #expect(entry.fee.baseUnits == fee && entry.feeRate == fee * 1_000 / UInt64(size))
        #expect(entry.time == 1_000 && entry.height == UInt64(Self.chainLength) && entry.depends.isEmpty)
        #expect(entry.spentOutpoints == [chain.coinbase(height: 1).0])
        #expect(pool.count == 1 && pool.bytes == size && pool.totalFee.baseUnits == fee && pool.contains(txid: txid))
        #expect(pool.entry(txid: txid) == entry && pool.entry(wtxid: wtxid) == entry && pool.entries() == [entry])
        #expect(pool.spender(of: chain.coinbase(height: 1).0) == txid)
        let created = try #require(pool.coin(OutPoint(txid: txid, index: 1)))
        #expect(created.output.value.baseUnits == 1_000_000 && created.height == UInt64(Self.chainLength) + 1 && !created.isCoinbase)
        #expect(pool.coin(OutPoint(txid: txid, index: 2)) == nil)
        // The P2P face: announced by wtxid, served, not wanted again.
        #expect(pool.inventory(minimumFeeRate: 0) == [wtxid] && pool.inventory(minimumFeeRate: entry.feeRate + 1).isEmpty)
        #expect(pool.transaction(wtxid: wtxid) == transaction && !pool.wants(wtxid: wtxid) && pool.feeRate(wtxid: wtxid) == entry.feeRate)
        #expect(pool.history(txid: txid).map(\.state) == [.validated, .mempool])
    }

    @Test("every class of refusal is named as bitcoind names it, and recorded")
    func rejections() throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let coin = chain.coinbase(height: 1)
        let good = chain.spend([coin], to: [chain.pay(Self.coinbaseValue - 10_000)])
        #expect(pool.submit(good, source: "test").entry != nil)

        // Already in the pool.
        let again = pool.submit(good, source: "test")
        #expect(again.rule == "txn-already-in-mempool" && again.rejection?.kind == .alreadyInPool)
        // Spends what a pool transaction spends, without paying enough to replace it.
        let conflict = pool.submit(chain.spend([coin], to: [chain.pay(Self.coinbaseValue - 5_000)]), source: "test")
        #expect(conflict.rule == "insufficient fee" && conflict.rejection?.kind == .invalid)
        // An input nobody created.
        let nowhere = (OutPoint(txid: Hash256(bytes: [UInt8](repeating: 9, count: 32))!, index: 0), chain.pay(100_000))
        let missing = pool.submit(chain.spend([nowhere], to: [chain.pay(50_000)]), source: "test")
        #expect(missing.rule == "bad-txns-inputs-missingorspent" && missing.rejection?.kind == .missingInputs)
        #expect(missing.rejection?.isConsensusFailure == false)
        // A coinbase 99 blocks deep.
        let immature = pool.submit(chain.spend([chain.coinbase(height: 7)], to: [chain.pay(Self.coinbaseValue - 10_000)]), source: "test")
        #expect(immature.rule == "bad-txns-premature-spend-of-coinbase")
        // No fee, or too little for its size.
        let free = pool.submit(chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue)]), source: "test")
        #expect(free.rule == "min relay fee not met")
        let cheap = pool.submit(chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 50)]), source: "test")
        #expect(cheap.rule == "min relay fee not met")
        // A signature over something else.
        var forged = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        forged.witnesses[0][0][5] ^= 1
        let badSignature = pool.submit(forged, source: "test")
        #expect(badSignature.rule == "script-signature" && badSignature.rejection?.isConsensusFailure == true)
        // Dust and non-standard outputs.
        let dust = pool.submit(chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 10_000), chain.pay(100)]),
                               source: "test")
        #expect(dust.rule == "dust")
        let bare = pool.submit(chain.spend([chain.coinbase(height: 2)], to: [TxOut(value: Amount(baseUnits: 100_000)!, lockScript: [0x51])]),
                               source: "test")
        #expect(bare.rule == "scriptpubkey")
        // Outputs above inputs: a consensus failure.
        let inflated = pool.submit(chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue + 1)]), source: "test")
        #expect(inflated.rule == "tx-outputs-exceed-inputs" && inflated.rejection?.isConsensusFailure == true)
        // Locked until a later height.
        let locked = pool.submit(chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 10_000)], lockTime: 500,
                                             sequence: 0), source: "test")
        #expect(locked.rule == "non-final")
        // A coinbase outside a block.
        let coinbase = try #require(try chain.chain.block(chain.chain.snapshot.tipHash).map { try Block(decoding: $0) }).transactions[0]
        let loose = pool.submit(coinbase, source: "test")
        #expect(loose.rule == "coinbase" && loose.rejection?.isConsensusFailure == true)
        // Larger than policy allows.
        let strict = Mempool(chain: chain.chain, parameters: chain.parameters, policy: MempoolPolicy(maxTransactionBytes: 100))
        #expect(strict.test(chain.spend([chain.coinbase(height: 3)], to: [chain.pay(Self.coinbaseValue - 10_000)])).rule == "tx-size")
        // Its outputs are in the chain already.
        let mined = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        try chain.mine([mined], fees: Amount(baseUnits: 10_000)!)
        let known = pool.submit(mined, source: "test")
        #expect(known.rule == "txn-already-known" && known.rejection?.kind == .alreadyInChain)

        #expect(pool.count == 1)
        #expect(pool.rejection(txid: forged.txid)?.rejection.rule == "script-signature")
        #expect(pool.history(txid: forged.txid).map(\.state) == [.rejected])
        // A consensus-invalid transaction is not fetched again; one missing inputs may be.
        #expect(!pool.wants(wtxid: forged.wtxid))
        let relayed = [forged, good].map { RelayedTransaction(transaction: $0, peerID: 1, peer: "peer") }
        #expect(pool.accept(relayed).verdicts == [.rejected(rule: "script-signature", penalize: true), .ignored])
    }

    @Test("a child spends its parent's unconfirmed output; the pool links them")
    func parentAndChild() throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let parent = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(20_000_000_000), chain.pay(Self.coinbaseValue - 20_000_000_000 - 10_000)])
        let child = chain.spend([TestChain.output(parent, 0)], to: [chain.pay(20_000_000_000 - 10_000)])
        // The child before its parent: missing inputs.
        #expect(pool.submit(child, source: "test").rejection?.kind == .missingInputs)
        #expect(pool.submit(parent, source: "test").entry != nil)
        let childEntry = try #require(pool.submit(child, source: "test").entry)
        #expect(childEntry.depends == [parent.txid])
        #expect(pool.ancestors(of: child.txid).map(\.txid) == [parent.txid])
        #expect(pool.descendants(of: parent.txid).map(\.txid) == [child.txid])
        #expect(pool.children(of: parent.txid) == [child.txid])
        #expect(pool.spender(of: OutPoint(txid: parent.txid, index: 0)) == child.txid)
        #expect(pool.coin(OutPoint(txid: parent.txid, index: 0)) == nil && pool.coin(OutPoint(txid: parent.txid, index: 1)) != nil)
    }

    @Test("a connected block removes what it confirmed and what conflicts with it, with descendants")
    func blockConnect() async throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        pool.start()
        defer { pool.stop() }
        let confirmed = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        let child = chain.spend([TestChain.output(confirmed, 0)], to: [chain.pay(Self.coinbaseValue - 20_000)])
        let doomed = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        let doomedChild = chain.spend([TestChain.output(doomed, 0)], to: [chain.pay(Self.coinbaseValue - 20_000)])
        let untouched = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        for transaction in [confirmed, child, doomed, doomedChild, untouched] {
            #expect(pool.submit(transaction, source: "test").entry != nil)
        }
        // The block holds `confirmed` and a different spend of `doomed`'s coin.
        let rival = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 30_000)])
        let block = try chain.mine([confirmed, rival], fees: Amount(baseUnits: 40_000)!)
        try await chain.waitUntilSynced(pool)

        #expect(Set(pool.entries().map(\.txid)) == [child.txid, untouched.txid])
        #expect(pool.entry(txid: child.txid)?.depends == [])
        let last = try #require(pool.history(txid: confirmed.txid).last)
        #expect(last.state == .included && last.detail == block.hash.hex)
        #expect(pool.history(txid: doomed.txid).last?.state == .removed && pool.history(txid: doomedChild.txid).last?.state == .removed)
        #expect(pool.spender(of: chain.coinbase(height: 2).0) == nil)
        #expect(pool.bytes == child.encoded.count + untouched.encoded.count && pool.totalFee.baseUnits == 20_000)
    }

    @Test("a reorganisation returns the disconnected blocks' transactions to the pool, re-validated")
    func reorganisation() async throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        pool.start()
        defer { pool.stop() }
        let fork = chain.chain.snapshot.tipHash
        let returning = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        let lost = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        try chain.mine([returning, lost], fees: Amount(baseUnits: 20_000)!)
        let pending = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        #expect(pool.submit(pending, source: "test").entry != nil)
        try await chain.waitUntilSynced(pool)
        #expect(pool.entries().map(\.txid) == [pending.txid])

        // Two blocks on the fork point take over; the first spends `lost`'s coin another way.
        let rival = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 30_000)])
        let first = chain.block([rival], fees: Amount(baseUnits: 30_000)!, on: fork, extraNonce: 1)
        #expect(try chain.chain.accept(first) == .sideBranch)
        let second = chain.block([], on: first.hash, extraNonce: 1)
        #expect(try chain.chain.accept(second) == .connected)
        try await chain.waitUntilSynced(pool)

        #expect(pool.entries().map(\.txid) == [returning.txid, pending.txid])
        #expect(pool.entry(txid: returning.txid)?.height == UInt64(Self.chainLength) + 2)
        #expect(pool.history(txid: returning.txid).map(\.state) == [.disconnected, .mempool])
        #expect(pool.history(txid: returning.txid).last?.detail == Mempool.returnedByReorganisation)
        #expect(pool.history(txid: lost.txid).map(\.state) == [.disconnected, .rejected])
        #expect(pool.history(txid: lost.txid).last?.detail == "bad-txns-inputs-missingorspent")
        #expect(pool.spender(of: chain.coinbase(height: 2).0) == nil)
    }

    @Test("selection puts parents first, ranks by ancestor-package fee rate, and keeps to the byte budget")
    func selection() throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let value = Self.coinbaseValue
        // A cheap parent with a generous child: their package's rate beats `middle`'s.
        let parent = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(value - 1_000)])
        let child = chain.spend([TestChain.output(parent, 0)], to: [chain.pay(value - 1_000 - 100_000)])
        let middle = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(value - 20_000)])
        let low = chain.spend([chain.coinbase(height: 3)], to: [chain.pay(value - 1_000)])
        for transaction in [low, middle, parent, child] { #expect(pool.submit(transaction, source: "test").entry != nil) }

        let all = pool.selectForBlock(maxBytes: 1_000_000).map(\.txid)
        #expect(all == [parent.txid, child.txid, middle.txid, low.txid])
        // Room for one transaction: the parent-child package does not fit, `middle` does.
        let one = pool.selectForBlock(maxBytes: middle.encoded.count).map(\.txid)
        #expect(one == [middle.txid])
        #expect(pool.selectForBlock(maxBytes: 0).isEmpty)
        let selection = pool.selection(maxBytes: 1_000_000)
        #expect(selection.tip == chain.chain.snapshot.tipHash && selection.entries.count == 4)
    }

    @Test("a block of the selection with coinbase = subsidy + fees is accepted; one unit more is not")
    func templateBlock() throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters)
        let parent = chain.spend([chain.coinbase(height: 1)], to: [chain.pay(Self.coinbaseValue - 7_000)])
        let child = chain.spend([TestChain.output(parent, 0)], to: [chain.pay(Self.coinbaseValue - 19_000)])
        let other = chain.spend([chain.coinbase(height: 2)], to: [chain.pay(Self.coinbaseValue - 5_000)])
        for transaction in [parent, child, other] { #expect(pool.submit(transaction, source: "test").entry != nil) }
        let entries = pool.selectForBlock(maxBytes: chain.parameters.maxBlockBytes - 1_000)
        let fees = entries.reduce(Amount.zero) { $0.adding($1.fee)! }
        #expect(fees.baseUnits == 24_000)

        let greedy = chain.block(entries.map(\.transaction), fees: fees.adding(Amount(baseUnits: 1)!)!)
        #expect(throws: (any Error).self) { try chain.chain.accept(greedy) }
        let block = chain.block(entries.map(\.transaction), fees: fees)
        #expect(try chain.chain.accept(block) == .connected)
        #expect(block.transactions[0].outputs[0].value == chain.parameters.subsidy(height: block.header.height).adding(fees))
    }

    @Test("records of rejections are bounded; relayed transactions are ignored while the chain catches up")
    func boundsAndSyncing() throws {
        let chain = try TestChain(blocks: Self.chainLength)
        let pool = Mempool(chain: chain.chain, parameters: chain.parameters, policy: MempoolPolicy(rejectionMemory: 2))
        let refused = (1...3).map { chain.spend([chain.coinbase(height: $0)], to: [chain.pay(Self.coinbaseValue)]) }
        for transaction in refused { #expect(pool.submit(transaction, source: "test").rule == "min relay fee not met") }
        #expect(pool.rejection(txid: refused[0].txid) == nil && pool.history(txid: refused[0].txid).isEmpty)
        #expect(pool.rejection(txid: refused[1].txid) != nil && pool.rejection(txid: refused[2].txid) != nil)
        #expect(pool.wants(wtxid: refused[0].wtxid) && !pool.wants(wtxid: refused[2].wtxid))

        // Seven headers beyond the tip: the node is syncing, relayed transactions wait.
        let valid = chain.spend([chain.coinbase(height: 4)], to: [chain.pay(Self.coinbaseValue - 10_000)])
        var parent = chain.chain.snapshot.tipHash
        for _ in 0..<7 {
            let block = chain.block([], on: parent)
            try chain.chain.acceptHeader(block.header)
            parent = block.hash
        }
        #expect(pool.accept([RelayedTransaction(transaction: valid, peerID: 1, peer: "peer")]).verdicts == [.ignored] && pool.count == 0)
        // Local submissions still go through.
        #expect(pool.submit(valid, source: "rpc").entry != nil)
    }
}
