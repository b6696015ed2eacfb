import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Masternodes
import Mempool
import Primitives
import Testing

/// PROTOCOL section 16.7: special transactions in the pool.
@Suite(.serialized)
struct MempoolSpecialTests {
    static let collateral = try! MasternodeParameters(ChainParameters.builtIn("regtest")).collateral
    static let fee: UInt64 = 20_000

    /// Keys and service of would-be masternode `n` (seeds 4n+1 ... 4n+3, encryption key 32 x (4n+4)).
    struct Node {
        let collateralSeed, ownerSeed, operatorSeed: [UInt8]
        let encryptionKey: [UInt8]
        let service: ServiceAddress
        init(_ n: UInt8) {
            collateralSeed = [UInt8](repeating: 4 * n + 1, count: 32)
            ownerSeed = [UInt8](repeating: 4 * n + 2, count: 32)
            operatorSeed = [UInt8](repeating: 4 * n + 3, count: 32)
            encryptionKey = [UInt8](repeating: 4 * n + 4, count: 32)
            service = ServiceAddress(ipv4: (10, 0, 0, n), port: 19999)
        }

        func payload(collateral: OutPoint = OutPoint(txid: .zero, index: 0), collateralKey: [UInt8]? = nil) -> MasternodeRegisterPayload {
            MasternodeRegisterPayload(collateral: collateral, collateralKey: collateralKey ?? Ed25519.publicKey(seed: collateralSeed),
                                      ownerKey: Ed25519.publicKey(seed: ownerSeed), operatorKey: Ed25519.publicKey(seed: operatorSeed),
                                      operatorEncryptionKey: encryptionKey, service: service,
                                      payoutScript: StandardScript.payToKeyHash(StandardScript.keyHash(Ed25519.publicKey(seed: ownerSeed))))
        }
    }

    static func setUp() throws -> (TestChain, Mempool, [(OutPoint, TxOut)]) {
        let chain = try TestChain(blocks: 105)
        let coins = try chain.fanOut(height: 1, count: 10)
        return (chain, Mempool(chain: chain.chain, parameters: chain.parameters), coins)
    }

    /// A registration of `node` funded by `coin`: its collateral is its own output 0 unless
    /// `payload` names another; change back to the chain's key.
    static func register(_ node: Node, _ chain: TestChain, spending coin: (OutPoint, TxOut), payload: MasternodeRegisterPayload? = nil,
                         signer: [UInt8]? = nil, collateralValue: Amount = collateral) -> Transaction {
        let payload = payload ?? node.payload()
        let ownCollateral = payload.collateral.txid == .zero
        var outputs = [chain.pay(coin.1.value.baseUnits - fee - (ownCollateral ? collateralValue.baseUnits : 0))]
        if ownCollateral {
            outputs.insert(TxOut(value: collateralValue, lockScript: StandardScript.payToKeyHash(StandardScript.keyHash(payload.collateralKey))), at: 0)
        }
        return special(payload, chain, spending: [coin], outputs: outputs, signer: signer ?? node.collateralSeed)
    }

    /// `payload` bound to the inputs `coins` (paying the chain's key), signed by `signer`, witnesses signed.
    static func special<P: SpecialPayload>(_ payload: P, _ chain: TestChain, spending coins: [(OutPoint, TxOut)], outputs: [TxOut],
                                           signer: [UInt8]) -> Transaction {
        var payload = payload
        let inputs = coins.map { TxIn(previousOutput: $0.0) }
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: payload.transaction(inputs: inputs, outputs: outputs))
        payload.sign(seed: signer)
        var transaction = payload.transaction(inputs: inputs, outputs: outputs)
        let txid = transaction.txid
        transaction.witnesses = coins.indices.map { index in
            let sighash = ScriptContext(transaction: transaction, txid: txid, inputIndex: index, spentOutput: coins[index].1).sighash
            return [chain.key.sign(message: sighash.bytes), chain.key.publicKey]
        }
        return transaction
    }

    static let conflict = MempoolRejection.masternodeConflictRule

    @Test("a registration enters the pool; a second claim on its collateral, keys or service is refused")
    func claims() throws {
        let (chain, pool, coins) = try Self.setUp()
        let first = Node(1)
        let registration = Self.register(first, chain, spending: coins[0])
        #expect(pool.submit(registration, source: "test").entry != nil)
        let second = Node(2)
        let edits: [(String, (inout MasternodeRegisterPayload) -> Void)] = [
            ("owner", { $0.ownerKey = Ed25519.publicKey(seed: first.ownerSeed) }),
            ("operator", { $0.operatorKey = Ed25519.publicKey(seed: first.operatorSeed) }),
            ("encryption", { $0.operatorEncryptionKey = first.encryptionKey }),
            ("service", { $0.service = first.service }),
        ]
        for (index, (what, edit)) in edits.enumerated() {
            var payload = second.payload()
            edit(&payload)
            let result = pool.submit(Self.register(second, chain, spending: coins[1 + index], payload: payload), source: "test")
            #expect(result.rule == Self.conflict, "\(what): \(result)")
            #expect(result.rejection?.isConsensusFailure == false)
        }
        // Its collateral (output 0) may not be spent while it waits.
        let spend = chain.spend([TestChain.output(registration, 0)], to: [chain.pay(Self.collateral.baseUnits - Self.fee)])
        #expect(pool.submit(spend, source: "test").rule == Self.conflict)
        #expect(pool.submit(Self.register(second, chain, spending: coins[6]), source: "test").entry != nil)
        #expect(pool.entries().count == 2)
    }

    @Test("two claims on one resource in one batch: the first is taken, the second refused")
    func batchConflict() throws {
        let (chain, pool, coins) = try Self.setUp()
        var payload = Node(4).payload()
        payload.service = Node(3).service
        let results = pool.submit(batch: [Self.register(Node(3), chain, spending: coins[0]), Self.register(Node(4), chain, spending: coins[1], payload: payload)],
                                  source: "test")
        #expect(results[0].entry != nil)
        #expect(results[1].rule == Self.conflict)
    }

    @Test("the masternode rules against the chain's list: amount, signature, encoding, unknown masternodes")
    func rules() throws {
        let (chain, pool, coins) = try Self.setUp()
        let node = Node(1)
        let wrongAmount = Self.register(node, chain, spending: coins[0], collateralValue: Amount(baseUnits: Self.collateral.baseUnits + 1)!)
        #expect(pool.submit(wrongAmount, source: "test").rule == RuleName.masternodeCollateralAmount.rawValue)
        let wrongSigner = Self.register(node, chain, spending: coins[0], signer: node.ownerSeed)
        #expect(pool.submit(wrongSigner, source: "test").rule == RuleName.specialSignature.rawValue)
        var truncated = Self.register(node, chain, spending: coins[0])
        truncated.payload.removeLast()
        let malformed = pool.submit(truncated, source: "test")
        #expect(malformed.rule == RuleName.specialPayload.rawValue && malformed.rejection?.isConsensusFailure == true)
        let update = Self.special(MasternodeUpdateServicePayload(proTxHash: wrongAmount.txid, service: node.service), chain, spending: [coins[1]],
                                  outputs: [chain.pay(coins[1].1.value.baseUnits - Self.fee)], signer: node.operatorSeed)
        let unknown = pool.submit(update, source: "test")
        #expect(unknown.rule == RuleName.masternodeUnknown.rawValue && unknown.rejection?.isConsensusFailure == false)
        let revoke = Self.special(MasternodeRevokePayload(proTxHash: wrongAmount.txid, reason: 1), chain, spending: [coins[1]],
                                  outputs: [chain.pay(coins[1].1.value.baseUnits - Self.fee)], signer: node.operatorSeed)
        #expect(pool.submit(revoke, source: "test").rule == RuleName.masternodeUnknown.rawValue)
        #expect(pool.entries().isEmpty)
    }

    @Test("an external collateral: unspent in the pool's view, not spent by the registration, not spent while it waits")
    func externalCollateral() throws {
        let (chain, pool, coins) = try Self.setUp()
        // A confirmed output of exactly the collateral, paid to the chain's key.
        let funding = chain.spend([coins[0]], to: [chain.pay(Self.collateral.baseUnits), chain.pay(coins[0].1.value.baseUnits - Self.collateral.baseUnits - Self.fee)])
        try chain.mine([funding], fees: Amount(baseUnits: Self.fee)!)
        let collateral = TestChain.output(funding, 0)
        let node = Node(1)
        let payload = node.payload(collateral: collateral.0, collateralKey: chain.key.publicKey)
        let chainSeed = [UInt8](repeating: 7, count: 32)
        // Spending the collateral itself: a block would find it gone.
        let selfSpending = Self.special(payload, chain, spending: [collateral, coins[1]],
                                        outputs: [chain.pay(collateral.1.value.baseUnits + coins[1].1.value.baseUnits - Self.fee)], signer: chainSeed)
        #expect(pool.submit(selfSpending, source: "test").rule == RuleName.masternodeCollateralMissing.rawValue)
        // Spent by a pool transaction first: refused.
        let spend = chain.payment(collateral, fee: Self.fee)
        #expect(pool.submit(spend, source: "test").entry != nil)
        let registration = Self.register(node, chain, spending: coins[2], payload: payload, signer: chainSeed)
        #expect(pool.submit(registration, source: "test").rule == Self.conflict)
    }

    @Test("special transactions neither replace nor are replaced")
    func noReplacement() throws {
        let (chain, pool, coins) = try Self.setUp()
        let registration = Self.register(Node(1), chain, spending: coins[0])
        #expect(pool.submit(registration, source: "test").entry != nil)
        let outbidding = chain.payment(coins[0], fee: 10 * Self.fee)
        #expect(pool.submit(outbidding, source: "test").rule == "txn-mempool-conflict")
        let ordinary = chain.payment(coins[1], fee: Self.fee / 2)
        #expect(pool.submit(ordinary, source: "test").entry != nil)
        #expect(pool.submit(Self.register(Node(2), chain, spending: coins[1]), source: "test").rule == "txn-mempool-conflict")
        #expect(Set(pool.entries().map(\.txid)) == [registration.txid, ordinary.txid])
    }

    @Test("after a block, a registration whose collateral the block spent leaves the pool")
    func evictedAfterBlock() async throws {
        let (chain, pool, coins) = try Self.setUp()
        pool.start()
        defer { pool.stop() }
        let funding = chain.spend([coins[0]], to: [chain.pay(Self.collateral.baseUnits), chain.pay(coins[0].1.value.baseUnits - Self.collateral.baseUnits - Self.fee)])
        try chain.mine([funding], fees: Amount(baseUnits: Self.fee)!)
        try await chain.waitUntilSynced(pool)
        let collateral = TestChain.output(funding, 0)
        let registration = Self.register(Node(1), chain, spending: coins[1], payload: Node(1).payload(collateral: collateral.0, collateralKey: chain.key.publicKey),
                                          signer: [UInt8](repeating: 7, count: 32))
        let bystander = Self.register(Node(2), chain, spending: coins[2])
        for transaction in [registration, bystander] { #expect(pool.submit(transaction, source: "test").entry != nil) }
        // A block (not from this pool) spends the collateral.
        try chain.mine([chain.payment(collateral, fee: Self.fee)], fees: Amount(baseUnits: Self.fee)!)
        try await chain.waitUntilSynced(pool)
        #expect(pool.entries().map(\.txid) == [bystander.txid])
        let last = try #require(pool.history(txid: registration.txid).last)
        #expect(last.state == .removed && last.detail == RuleName.masternodeCollateralMissing.rawValue)
        // The freed claims: a registration of the same node with its own collateral is taken.
        #expect(pool.submit(Self.register(Node(1), chain, spending: coins[3]), source: "test").entry != nil)
    }
}
