import ChainState
import Consensus
import Ed25519
import Masternodes
import Mempool
import Primitives
import TestSupport
import Testing

/// PROTOCOL section 16.7: authority precedence between pool special transactions, a
/// registration's pool collateral as its parent, and the re-check after a block.
@Suite(.serialized)
struct MempoolSpecialAuthorityTests {
    typealias Node = MempoolSpecialTests.Node
    typealias Confirmed = MempoolSpecialConfirmedTests

    @Test("the owner's update-registrar evicts the operator's pending update; the operator cannot evict it back; a collateral spend evicts both")
    func authorityPrecedence() throws {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        let node = Node(1)
        let registration = MempoolSpecialTests.register(node, chain, spending: coins[0])
        try Confirmed.mine([registration], chain)
        let id = registration.txid
        let update = Confirmed.update(id, ServiceAddress(ipv4: (10, 9, 9, 9), port: 19999), operatorSeed: node.operatorSeed, chain, spending: coins[1])
        #expect(pool.submit(update, source: "test").entry != nil)
        // A child of the operator's update goes with it.
        let child = chain.payment(TestChain.output(update, 0), fee: MempoolSpecialTests.fee)
        #expect(pool.submit(child, source: "test").entry != nil)

        let newOperator = Node(5)
        let registrar = Confirmed.updateRegistrar(id, operatorSeed: newOperator.operatorSeed, encryptionKey: newOperator.encryptionKey,
                                                  ownerSeed: node.ownerSeed, chain, spending: coins[2])
        #expect(pool.submit(registrar, source: "test").entry != nil)
        #expect(pool.entries().map(\.txid) == [registrar.txid])
        for evicted in [update.txid, child.txid] {
            let last = try #require(pool.history(txid: evicted).last)
            #expect(last.state == .removed && last.detail == "\(Mempool.overriddenReason) \(registrar.txid.hex)")
        }
        // The operator's revoke is weaker than the pending owner update: refused.
        let revoke = Confirmed.revoke(id, operatorSeed: node.operatorSeed, chain, spending: coins[3])
        #expect(pool.submit(revoke, source: "test").rule == MempoolSpecialTests.conflict)
        // A second owner update is not stronger either.
        let second = Confirmed.updateRegistrar(id, operatorSeed: Node(6).operatorSeed, encryptionKey: Node(6).encryptionKey,
                                               ownerSeed: node.ownerSeed, chain, spending: coins[4])
        #expect(pool.submit(second, source: "test").rule == MempoolSpecialTests.conflict)
        // The collateral key outranks the owner.
        let spend = Confirmed.spendCollateral(of: registration, seed: node.collateralSeed, chain)
        #expect(pool.submit(spend, source: "test").entry != nil)
        #expect(pool.entries().map(\.txid) == [spend.txid])
        // With the collateral spent in the pool, a new update of the masternode is refused.
        let late = Confirmed.update(id, node.service, operatorSeed: node.operatorSeed, chain, spending: coins[5])
        #expect(pool.submit(late, source: "test").rule == MempoolSpecialTests.conflict)
    }

    @Test("a spend of a pool registration's external collateral evicts the registration")
    func spendEvictsRegistration() throws {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        let funding = chain.spend([coins[0]], to: [chain.pay(MempoolSpecialTests.collateral.baseUnits),
                                                    chain.pay(coins[0].1.value.baseUnits - MempoolSpecialTests.collateral.baseUnits - MempoolSpecialTests.fee)])
        try chain.mine([funding], fees: Amount(baseUnits: MempoolSpecialTests.fee)!)
        let collateral = TestChain.output(funding, 0)
        let registration = MempoolSpecialTests.register(Node(1), chain, spending: coins[1],
                                                        payload: Node(1).payload(collateral: collateral.0, collateralKey: chain.key.publicKey),
                                                        signer: [UInt8](repeating: 7, count: 32))
        #expect(pool.submit(registration, source: "test").entry != nil)
        let spend = chain.payment(collateral, fee: MempoolSpecialTests.fee)
        #expect(pool.submit(spend, source: "test").entry != nil)
        #expect(pool.entries().map(\.txid) == [spend.txid])
    }

    @Test("a registration whose collateral a pool transaction creates depends on it: packaged after it, and the parent cannot be replaced")
    func poolCollateralIsParent() throws {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        let funding = chain.spend([coins[0]], to: [chain.pay(MempoolSpecialTests.collateral.baseUnits),
                                                    chain.pay(coins[0].1.value.baseUnits - MempoolSpecialTests.collateral.baseUnits - MempoolSpecialTests.fee)])
        #expect(pool.submit(funding, source: "test").entry != nil)
        let collateral = TestChain.output(funding, 0)
        let registration = MempoolSpecialTests.register(Node(1), chain, spending: coins[1],
                                                        payload: Node(1).payload(collateral: collateral.0, collateralKey: chain.key.publicKey),
                                                        signer: [UInt8](repeating: 7, count: 32))
        let admitted = try #require(pool.submit(registration, source: "test").entry)
        #expect(admitted.depends == [funding.txid], "the registration spends only a confirmed coin, yet depends on its collateral's creator")
        // Replacing the parent would evict a special transaction: refused.
        let outbidding = chain.payment(coins[0], fee: 10 * MempoolSpecialTests.fee)
        #expect(pool.submit(outbidding, source: "test").rule == "txn-mempool-conflict")
        #expect(Set(pool.entries().map(\.txid)) == [funding.txid, registration.txid])
    }

    @Test("a block changing the operator key evicts the pool's update signed by the old key; an untouched masternode's update stays")
    func operatorChangedByBlock() async throws {
        let (chain, pool, coins) = try MempoolSpecialTests.setUp()
        pool.start()
        defer { pool.stop() }
        let node = Node(1), other = Node(2)
        let registration = MempoolSpecialTests.register(node, chain, spending: coins[0])
        let otherRegistration = MempoolSpecialTests.register(other, chain, spending: coins[1])
        try Confirmed.mine([registration, otherRegistration], chain)
        try await chain.waitUntilSynced(pool)
        let update = Confirmed.update(registration.txid, ServiceAddress(ipv4: (10, 9, 9, 9), port: 19999), operatorSeed: node.operatorSeed, chain,
                                      spending: coins[2])
        let bystander = Confirmed.update(otherRegistration.txid, ServiceAddress(ipv4: (10, 9, 9, 8), port: 19999), operatorSeed: other.operatorSeed,
                                         chain, spending: coins[3])
        for transaction in [update, bystander] { #expect(pool.submit(transaction, source: "test").entry != nil) }
        // A block (not from this pool) names a new operator.
        let registrar = Confirmed.updateRegistrar(registration.txid, operatorSeed: Node(5).operatorSeed, encryptionKey: Node(5).encryptionKey,
                                                  ownerSeed: node.ownerSeed, chain, spending: coins[4])
        try Confirmed.mine([registrar], chain)
        try await chain.waitUntilSynced(pool)
        #expect(pool.entries().map(\.txid) == [bystander.txid])
        let last = try #require(pool.history(txid: update.txid).last)
        #expect(last.state == .removed && last.detail == RuleName.specialSignature.rawValue)
    }
}
