import Consensus
import Masternodes
import Primitives
import TestSupport
import Testing

/// `MasternodeRules.applyDeferringSignatures` (the chain state's block path): every rule but
/// the payload signature is checked as `apply` checks it; each signature is recorded with the
/// key the list named at that point of the block, and judging the records gives the verdict
/// and the transaction index that verifying at once gives.
struct MasternodeDeferredSignatureTests {
    let a = TestNode(0), b = TestNode(1), c = TestNode(2)

    /// Applies `transactions` as one block both ways, on copies of `chain`'s list, and checks
    /// the two agree: the same rejection (rule and transaction) or the same list.
    @discardableResult
    func expectSameVerdict(_ chain: TestChain, _ transactions: [Transaction],
                           sourceLocation: SourceLocation = #_sourceLocation) throws -> Rejection? {
        let block = Fixture.block(transactions, height: chain.height + 1)
        let txids = block.transactions.map(\.txid)
        var coins = chain.coins
        TestBlocks.applyCoins(block, txids: txids, to: &coins)
        let after = coins
        var immediateList = chain.list
        var immediate: Rejection?
        do {
            _ = try MasternodeRules.apply(block, txids: txids, height: chain.height + 1, to: &immediateList,
                                          parameters: Fixture.parameters, coin: { after[$0] })
        } catch let rejection as Rejection { immediate = rejection }

        var deferredList = chain.list
        let deferred: Rejection?
        do {
            let (undo, signatures) = try MasternodeRules.applyDeferringSignatures(block, txids: txids, height: chain.height + 1, to: &deferredList,
                                                                                    parameters: Fixture.parameters, coin: { after[$0] })
            deferred = signatures.firstFailure().map { signatures.rejection(at: $0) }
            if deferred != nil { deferredList.revert(undo) }
        } catch let rejection as Rejection { deferred = rejection }
        #expect(deferred?.rule == immediate?.rule && deferred?.transaction == immediate?.transaction,
                "deferred \(String(describing: deferred)), immediate \(String(describing: immediate))", sourceLocation: sourceLocation)
        #expect(deferredList == (deferred == nil ? immediateList : chain.list), "a rejection leaves the list as it was", sourceLocation: sourceLocation)
        return deferred
    }

    @Test("a wrong payload signature of each type is recorded, not thrown, and judged special-signature at its transaction")
    func eachTypeRejectedAtItsTransaction() throws {
        var chain = TestChain()
        let registration = Fixture.register(a)
        try chain.connect([registration])
        let id = registration.txid
        let moved = ServiceAddress(ipv4: (10, 1, 1, 1), port: 9999)
        let valid = Fixture.register(b)
        let wrongSigned = [
            Fixture.register(c, signer: c.ownerKey.seed),
            Fixture.updateService(id, moved, signer: a.ownerKey, funding: c.funding),
            Fixture.updateRegistrar(id, operatorKey: TestKey(150).publicKey, encryptionKey: [UInt8](repeating: 151, count: 32),
                                    signer: a.operatorKey, funding: c.funding),
            Fixture.revoke(id, signer: a.ownerKey, funding: c.funding),
        ]
        for transaction in wrongSigned {
            // After a valid registration, so the failing record is not the first one.
            let rejection = try expectSameVerdict(chain, [valid, transaction])
            #expect(rejection?.rule == .specialSignature && rejection?.transaction == 2)
        }
    }

    @Test("keys come from the list as the block left it so far: a new operator signs in the same block, the old one no longer does")
    func keysFollowTheBlock() throws {
        var chain = TestChain()
        let registration = Fixture.register(a)
        try chain.connect([registration])
        let id = registration.txid
        let newOperator = TestKey(150)
        let handover = Fixture.updateRegistrar(id, operatorKey: newOperator.publicKey, encryptionKey: [UInt8](repeating: 151, count: 32),
                                               signer: a.ownerKey, funding: b.funding)
        let moved = ServiceAddress(ipv4: (10, 1, 1, 1), port: 9999)
        #expect(try expectSameVerdict(chain, [handover, Fixture.updateService(id, moved, signer: newOperator, funding: c.funding)]) == nil)
        let stale = try expectSameVerdict(chain, [handover, Fixture.updateService(id, moved, signer: a.operatorKey, funding: c.funding)])
        #expect(stale?.rule == .specialSignature && stale?.transaction == 2)
        // A valid block: one record per special transaction, all verifying.
        let block = Fixture.block([handover, Fixture.revoke(id, signer: newOperator, funding: c.funding)], height: chain.height + 1)
        var list = chain.list
        let coins = chain.coins
        let (_, signatures) = try MasternodeRules.applyDeferringSignatures(block, txids: block.transactions.map(\.txid), height: chain.height + 1,
                                                                           to: &list, parameters: Fixture.parameters, coin: { coins[$0] })
        #expect(signatures.count == 2 && signatures.transactions == [1, 2] && signatures.firstFailure() == nil)
        #expect(signatures.checks.map(\.publicKey) == [a.ownerKey.publicKey, newOperator.publicKey])
    }

    @Test("other rules still throw at once on the deferred path, with the list reverted")
    func otherRulesThrow() throws {
        var chain = TestChain()
        try chain.connect([Fixture.register(a)])
        let block = Fixture.block([Fixture.register(b), Fixture.register(c) { $0.service = a.service }], height: chain.height + 1)
        var list = chain.list
        let coins = chain.coins
        #expect(throws: Rejection.self) {
            _ = try MasternodeRules.applyDeferringSignatures(block, txids: block.transactions.map(\.txid), height: chain.height + 1,
                                                             to: &list, parameters: Fixture.parameters, coin: { coins[$0] })
        }
        #expect(list == chain.list)
        let rejection = try expectSameVerdict(chain, Array(block.transactions.dropFirst()))
        #expect(rejection?.rule == .masternodeDuplicateService && rejection?.transaction == 2)
    }
}
