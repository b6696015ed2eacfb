import ChainState
import Consensus
import Ed25519
import Masternodes
import Mempool
import Primitives
import TestSupport
import Testing

/// PROTOCOL section 16.7 against a list with confirmed masternodes: updates, claims on a
/// confirmed masternode, and eviction when a block changes the list under the pool.
@Suite(.serialized)
struct MempoolSpecialConfirmedTests {
    typealias Node = MempoolSpecialTests.Node

    /// Mines `transactions` in a block whose state root commits to the list after it
    /// (collaterals here are outputs of their own registrations: no coin lookups).
    static func mine(_ transactions: [Transaction], _ chain: TestChain) throws {
        var block = chain.block(transactions)
        var list = chain.chain.snapshot.masternodes
        let parameters = try chain.chain.withWriter { $0.masternodeParameters }
        _ = try MasternodeRules.apply(block, txids: block.transactions.map(\.txid), height: block.header.height, to: &list,
                                      parameters: parameters, coin: { _ in nil })
        TestBlocks.seal(&block, extensionRoot: ExtensionRoot.compute(masternodes: list.root()))
        #expect(try chain.chain.accept(block) == .connected)
    }

    static func update(_ id: Hash256, _ service: ServiceAddress, operatorSeed: [UInt8], _ chain: TestChain, spending coin: (OutPoint, TxOut)) -> Transaction {
        MempoolSpecialTests.special(MasternodeUpdateServicePayload(proTxHash: id, service: service), chain, spending: [coin],
                                    outputs: [chain.pay(coin.1.value.baseUnits - MempoolSpecialTests.fee)], signer: operatorSeed)
    }

    static func revoke(_ id: Hash256, operatorSeed: [UInt8], _ chain: TestChain, spending coin: (OutPoint, TxOut)) -> Transaction {
        MempoolSpecialTests.special(MasternodeRevokePayload(proTxHash: id, reason: 1), chain, spending: [coin],
                                    outputs: [chain.pay(coin.1.value.baseUnits - MempoolSpecialTests.fee)], signer: operatorSeed)
    }

    @Test("a confirmed masternode: one pool update at a time, its collateral not spent meanwhile, its service not taken")
    func confirmed() throws {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        let node = Node(1)
        let registration = MempoolSpecialTests.register(node, chain, spending: coins[0])
        try Self.mine([registration], chain)
        let id = registration.txid
        #expect(chain.chain.snapshot.masternodes[id] != nil)

        let moved = ServiceAddress(ipv4: (10, 9, 9, 9), port: 19999)
        let wrongKey = Self.update(id, moved, operatorSeed: node.ownerSeed, chain, spending: coins[1])
        #expect(pool.submit(wrongKey, source: "test").rule == RuleName.specialSignature.rawValue)
        let update = Self.update(id, moved, operatorSeed: node.operatorSeed, chain, spending: coins[1])
        #expect(pool.submit(update, source: "test").entry != nil)
        #expect(pool.submit(Self.revoke(id, operatorSeed: node.operatorSeed, chain, spending: coins[2]), source: "test").rule
                == MempoolSpecialTests.conflict)
        // Another registration naming the confirmed service.
        var payload = Node(2).payload()
        payload.service = node.service
        let taken = pool.submit(MempoolSpecialTests.register(Node(2), chain, spending: coins[3], payload: payload), source: "test")
        #expect(taken.rule == RuleName.masternodeDuplicateService.rawValue)
        #expect(pool.entries().map(\.txid) == [update.txid])
        // The confirmed collateral, signed by its key: the collateral key outranks the
        // operator, so the spend enters and the pending update leaves.
        let spend = Self.spendCollateral(of: registration, seed: node.collateralSeed, chain)
        #expect(pool.submit(spend, source: "test").entry != nil)
        #expect(pool.entries().map(\.txid) == [spend.txid])
        let last = try #require(pool.history(txid: update.txid).last)
        #expect(last.state == .removed && last.detail == "\(Mempool.overriddenReason) \(spend.txid.hex)")
    }

    /// A spend of output 0 of `registration` (its own collateral), signed by `seed`.
    static func spendCollateral(of registration: Transaction, seed: [UInt8], _ chain: TestChain) -> Transaction {
        let collateral = TestChain.output(registration, 0)
        var spend = Transaction(inputs: [TxIn(previousOutput: collateral.0)], outputs: [chain.pay(collateral.1.value.baseUnits - MempoolSpecialTests.fee)])
        let sighash = ScriptContext(transaction: spend, txid: spend.txid, inputIndex: 0, spentOutput: collateral.1).sighash
        spend.witnesses = [[Ed25519.sign(message: sighash.bytes, seed: seed), Ed25519.publicKey(seed: seed)]]
        return spend
    }

    static func updateRegistrar(_ id: Hash256, operatorSeed: [UInt8], encryptionKey: [UInt8], ownerSeed: [UInt8], _ chain: TestChain,
                                spending coin: (OutPoint, TxOut)) -> Transaction {
        let payload = MasternodeUpdateRegistrarPayload(proTxHash: id, operatorKey: Ed25519.publicKey(seed: operatorSeed),
                                                       operatorEncryptionKey: encryptionKey, payoutScript: chain.lockScript)
        return MempoolSpecialTests.special(payload, chain, spending: [coin], outputs: [chain.pay(coin.1.value.baseUnits - MempoolSpecialTests.fee)],
                                           signer: ownerSeed)
    }

    @Test("a block revoking a masternode evicts the pool's update of it")
    func evictedByBlock() async throws {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        pool.start()
        defer { pool.stop() }
        let node = Node(1)
        let registration = MempoolSpecialTests.register(node, chain, spending: coins[0])
        try Self.mine([registration], chain)
        try await chain.waitUntilSynced(pool)
        let update = Self.update(registration.txid, ServiceAddress(ipv4: (10, 9, 9, 9), port: 19999), operatorSeed: node.operatorSeed, chain,
                                 spending: coins[1])
        #expect(pool.submit(update, source: "test").entry != nil)
        try Self.mine([Self.revoke(registration.txid, operatorSeed: node.operatorSeed, chain, spending: coins[2])], chain)
        try await chain.waitUntilSynced(pool)
        #expect(pool.entries().isEmpty)
        let last = try #require(pool.history(txid: update.txid).last)
        #expect(last.state == .removed && last.detail == RuleName.masternodeBanned.rawValue)
    }
}
