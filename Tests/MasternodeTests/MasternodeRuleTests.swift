import Consensus
import Masternodes
import Primitives
import Testing

/// Every special-transaction rule of PROTOCOL section 16.3, accepted and rejected, through
/// `MasternodeRules.apply` (blocks) and `MasternodeRules.change` (the mempool's check).
struct MasternodeRuleTests {
    let a = TestNode(0), b = TestNode(1), c = TestNode(2)

    /// A chain where `a` is registered (its registration is the returned id).
    func chainWithA() throws -> (TestChain, Hash256) {
        var chain = TestChain()
        let registration = Fixture.register(a)
        try chain.connect([registration])
        return (chain, registration.txid)
    }

    // MARK: Register

    @Test("a registration with an external collateral enters the list with its keys, service and payout")
    func registerAccepted() throws {
        let (chain, id) = try chainWithA()
        let entry = try #require(chain.list[id])
        #expect(entry.collateral == a.collateral && entry.ownerKey == a.ownerKey.publicKey && entry.operatorKey == a.operatorKey.publicKey)
        #expect(entry.operatorEncryptionKey == a.encryptionKey && entry.service == a.service && entry.payoutScript == Fixture.payout)
        #expect(entry.registeredHeight == 101 && entry.penalty == 0 && !entry.isBanned)
    }

    @Test("a registration may lock an output of its own transaction; the entry names the real outpoint")
    func registerOwnCollateral() throws {
        var chain = TestChain()
        let registration = Fixture.registerWithOwnCollateral(b)
        try chain.connect([registration])
        #expect(chain.list[registration.txid]?.collateral == OutPoint(txid: registration.txid, index: 0))
    }

    @Test("collateral amount, existence, script and reuse")
    func collateralRules() throws {
        var chain = TestChain()
        let amounts = [Fixture.parameters.collateral.baseUnits - 1, Fixture.parameters.collateral.baseUnits + 1]
        for units in amounts {
            chain.coins[a.collateral] = Coin(output: Fixture.output(Amount(baseUnits: units)!, to: a.collateralKey.payToKeyHash), height: 1, isCoinbase: false)
            expectRejected(.masternodeCollateralAmount) { try chain.connect([Fixture.register(a)]) }
        }
        chain.coins[a.collateral] = Coin(output: Fixture.output(to: b.collateralKey.payToKeyHash), height: 1, isCoinbase: false)
        expectRejected(.masternodeCollateralScript) { try chain.connect([Fixture.register(a)]) }
        chain.coins[a.collateral] = nil
        expectRejected(.masternodeCollateralMissing) { try chain.connect([Fixture.register(a)]) }
        // An output index past the registration's own outputs.
        let pastEnd = Fixture.register(a) { $0.collateral = OutPoint(txid: .zero, index: 5) }
        expectRejected(.masternodeCollateralMissing) { _ = try chain.check(pastEnd) }

        // Already the collateral of a registered masternode: b registers, then a copy of b's
        // registration from other inputs names the same collateral.
        try chain.connect([Fixture.register(b)])
        var payload = Fixture.registerPayload(c)
        payload.collateral = b.collateral
        payload.collateralKey = b.collateralKey.publicKey
        let again = Fixture.special(payload, inputs: [c.funding], signer: b.collateralKey.seed)
        expectRejected(.masternodeCollateralUsed) { _ = try chain.check(again) }
    }

    @Test("a collateral spent in the same block (after the block it is gone) is missing; spent by the registration itself too")
    func collateralSpentInBlock() throws {
        var chain = TestChain()
        let registration = Fixture.register(a)
        let spend = Transaction(inputs: [TxIn(previousOutput: a.collateral)], outputs: [Fixture.output(to: Fixture.payout)])
        expectRejected(.masternodeCollateralMissing) { try chain.connect([registration, spend]) }
        #expect(chain.list.isEmpty)
        let selfSpending = Fixture.special(Fixture.registerPayload(a), inputs: [a.collateral], signer: a.collateralKey.seed)
        expectRejected(.masternodeCollateralMissing) { try chain.connect([selfSpending]) }
    }

    @Test("register is signed by the collateral key only")
    func registerSignature() throws {
        var chain = TestChain()
        for wrong in [a.ownerKey.seed, a.operatorKey.seed, b.collateralKey.seed] {
            expectRejected(.specialSignature) { try chain.connect([Fixture.register(a, signer: wrong)]) }
        }
        // Someone else's coins: b's key signs a registration of a's collateral under b's key hash.
        let stolen = Fixture.register(a, signer: b.collateralKey.seed) { $0.collateralKey = b.collateralKey.publicKey }
        expectRejected(.masternodeCollateralScript) { try chain.connect([stolen]) }
        try chain.connect([Fixture.register(a)])
    }

    @Test("owner, operator and encryption keys and the service are unique in the list")
    func uniqueness() throws {
        var (chain, _) = try chainWithA()
        let duplicates: [(RuleName, (inout MasternodeRegisterPayload) -> Void)] = [
            (.masternodeDuplicateKey, { $0.ownerKey = self.a.ownerKey.publicKey }),
            (.masternodeDuplicateKey, { $0.operatorKey = self.a.operatorKey.publicKey }),
            (.masternodeDuplicateKey, { $0.operatorEncryptionKey = self.a.encryptionKey }),
            (.masternodeDuplicateService, { $0.service = self.a.service }),
        ]
        for (rule, edit) in duplicates {
            expectRejected(rule) { try chain.connect([Fixture.register(b, edit: edit)]) }
        }
        // Two registrations in one block: the second sees the first.
        let first = Fixture.register(b)
        let second = Fixture.register(c) { $0.service = self.b.service }
        expectRejected(.masternodeDuplicateService) { try chain.connect([first, second]) }
        #expect(chain.list.count == 1, "a rejected block leaves the list as it was")
        try chain.connect([first, Fixture.register(c)])
        #expect(chain.list.count == 3)
    }

    @Test("service address and payout script shapes")
    func serviceAndPayout() throws {
        var chain = TestChain()
        for bad in [ServiceAddress(ipv4: (0, 0, 0, 0), port: 9999), ServiceAddress(ipv4: (10, 0, 0, 1), port: 0),
                    ServiceAddress(address: [UInt8](repeating: 0, count: 16), port: 1)] {
            expectRejected(.masternodeService) { try chain.connect([Fixture.register(a) { $0.service = bad }]) }
        }
        expectRejected(.masternodePayoutScript) { try chain.connect([Fixture.register(a) { $0.payoutScript = [] }]) }
        expectRejected(.masternodePayoutScript) { try chain.connect([Fixture.register(a) { $0.payoutScript = [Script.opReturn, 1, 2] }]) }
        expectRejected(.specialPayload) { try chain.connect([Fixture.register(a) { $0.operatorKey = MasternodeEntry.clearedKey }]) }
        expectRejected(.specialPayload) { try chain.connect([Fixture.register(a) { $0.operatorEncryptionKey = MasternodeEntry.clearedKey }]) }
        let v6 = try #require(ServiceAddress("[2001:db8::7]:19999"))
        try chain.connect([Fixture.register(a) { $0.service = v6 }])
    }

    // MARK: Encoding

    @Test("bad payload encodings: truncated, trailing bytes, wrong version, bad revoke reason, wrong type")
    func payloadEncoding() throws {
        let (chain, id) = try chainWithA()
        let good = Fixture.register(b)
        func withPayload(_ payload: [UInt8], of transaction: Transaction) -> Transaction {
            var copy = transaction
            copy.payload = payload
            return copy
        }
        expectRejected(.specialPayload) { _ = try chain.check(withPayload(Array(good.payload.dropLast()), of: good)) }
        expectRejected(.specialPayload) { _ = try chain.check(withPayload(good.payload + [0], of: good)) }
        expectRejected(.specialPayload) { _ = try chain.check(withPayload([2, 0] + Array(good.payload.dropFirst(2)), of: good)) }
        expectRejected(.specialPayload) { _ = try chain.check(withPayload([], of: good)) }
        let revoke = Fixture.revoke(id, reason: 1, signer: a.operatorKey, funding: b.funding)
        var badReason = revoke.payload
        badReason[34] = 4 // version (2) + pro_tx_hash (32): the reason's low byte
        expectRejected(.specialPayload) { _ = try chain.check(withPayload(badReason, of: revoke)) }
        // A revoke payload under the update-service type.
        var mistyped = revoke
        mistyped.version = UInt32(SpecialTransactionType.masternodeUpdateService.rawValue) << 16 | 1
        expectRejected(.specialPayload) { _ = try chain.check(mistyped) }
        // The payload is bound to the inputs: moved to other inputs it fails.
        var moved = good
        moved.inputs = [TxIn(previousOutput: c.funding)]
        moved.witnesses = [[]]
        expectRejected(.specialInputsHash) { _ = try chain.check(moved) }
    }

    @Test("unknown special types and special coinbases break the context-free rule")
    func specialType() throws {
        let unknown = Transaction(version: 99 << 16 | 1, inputs: [TxIn(previousOutput: a.funding)], outputs: [Fixture.output(to: Fixture.payout)],
                                  payload: [1])
        expectRejected(.txSpecialType) { try TransactionRules.checkContextFree(unknown, isCoinbase: false) }
        expectRejected(.txSpecialType) { _ = try TestChain().check(unknown) }
        var coinbase = Fixture.block([], height: 1).transactions[0]
        coinbase.version = UInt32(SpecialTransactionType.masternodeRegister.rawValue) << 16 | 1
        expectRejected(.txSpecialType) { try TransactionRules.checkContextFree(coinbase, isCoinbase: true) }
        try TransactionRules.checkContextFree(Fixture.register(a), isCoinbase: false)
    }

    // MARK: Updates and revocation

    @Test("update service: operator-signed, known masternode, unique routable service")
    func updateService() throws {
        var (chain, id) = try chainWithA()
        let moved = ServiceAddress(ipv4: (10, 1, 1, 1), port: 9999)
        expectRejected(.specialSignature) { try chain.connect([Fixture.updateService(id, moved, signer: a.ownerKey, funding: b.funding)]) }
        expectRejected(.masternodeUnknown) { try chain.connect([Fixture.updateService(c.funding.txid, moved, signer: a.operatorKey, funding: b.funding)]) }
        expectRejected(.masternodeService) {
            try chain.connect([Fixture.updateService(id, ServiceAddress(ipv4: (10, 1, 1, 1), port: 0), signer: a.operatorKey, funding: b.funding)])
        }
        try chain.connect([Fixture.register(b)])
        expectRejected(.masternodeDuplicateService) { try chain.connect([Fixture.updateService(id, b.service, signer: a.operatorKey, funding: c.funding)]) }
        try chain.connect([Fixture.updateService(id, moved, signer: a.operatorKey, funding: c.funding)])
        #expect(chain.list[id]?.service == moved && chain.list[id]?.updatedHeight == chain.height)
        #expect(chain.list.byService(a.service) == nil, "the old service is free again")
    }

    @Test("update registrar: owner-signed; new operator keys and payout; unique keys")
    func updateRegistrar() throws {
        var (chain, id) = try chainWithA()
        try chain.connect([Fixture.register(b)])
        let newOperator = TestKey(150), newEncryption = [UInt8](repeating: 151, count: 32), newPayout = TestKey(152).payToKeyHash
        expectRejected(.specialSignature) {
            try chain.connect([Fixture.updateRegistrar(id, operatorKey: newOperator.publicKey, encryptionKey: newEncryption, signer: a.operatorKey, funding: c.funding)])
        }
        expectRejected(.masternodeDuplicateKey) {
            try chain.connect([Fixture.updateRegistrar(id, operatorKey: b.operatorKey.publicKey, encryptionKey: newEncryption, signer: a.ownerKey, funding: c.funding)])
        }
        expectRejected(.masternodeDuplicateKey) {
            try chain.connect([Fixture.updateRegistrar(id, operatorKey: newOperator.publicKey, encryptionKey: b.encryptionKey, signer: a.ownerKey, funding: c.funding)])
        }
        expectRejected(.masternodePayoutScript) {
            try chain.connect([Fixture.updateRegistrar(id, operatorKey: newOperator.publicKey, encryptionKey: newEncryption, payout: [], signer: a.ownerKey, funding: c.funding)])
        }
        expectRejected(.masternodeUnknown) {
            try chain.connect([Fixture.updateRegistrar(c.funding.txid, operatorKey: newOperator.publicKey, encryptionKey: newEncryption, signer: a.ownerKey, funding: c.funding)])
        }
        try chain.connect([Fixture.updateRegistrar(id, operatorKey: newOperator.publicKey, encryptionKey: newEncryption, payout: newPayout,
                                                   signer: a.ownerKey, funding: c.funding)])
        let entry = try #require(chain.list[id])
        #expect(entry.operatorKey == newOperator.publicKey && entry.operatorEncryptionKey == newEncryption && entry.payoutScript == newPayout)
        #expect(chain.list.byOperatorKey(a.operatorKey.publicKey) == nil)
        // The old operator key no longer signs for it.
        expectRejected(.specialSignature) { try chain.connect([Fixture.updateService(id, a.service, signer: a.operatorKey, funding: a.funding)]) }
    }

    @Test("revoke: operator-signed, once; the revoked masternode needs a new operator, then a service update revives it")
    func revokeAndRevive() throws {
        var (chain, id) = try chainWithA()
        expectRejected(.specialSignature) { try chain.connect([Fixture.revoke(id, signer: a.ownerKey, funding: b.funding)]) }
        expectRejected(.masternodeUnknown) { try chain.connect([Fixture.revoke(b.funding.txid, signer: a.operatorKey, funding: b.funding)]) }
        try chain.connect([Fixture.revoke(id, reason: 2, signer: a.operatorKey, funding: b.funding)])
        var entry = try #require(chain.list[id])
        #expect(entry.isRevoked && entry.isBanned && entry.revocationReason == 2)
        #expect(!entry.isValid(at: chain.height + 10, maturity: Fixture.parameters.registrationMaturity))
        expectRejected(.masternodeBanned) { try chain.connect([Fixture.revoke(id, signer: a.operatorKey, funding: c.funding)]) }
        expectRejected(.masternodeBanned) { try chain.connect([Fixture.updateService(id, a.service, signer: a.operatorKey, funding: c.funding)]) }
        // The owner names a new operator; the old one's key is free for others.
        let newOperator = TestKey(160)
        try chain.connect([Fixture.updateRegistrar(id, operatorKey: newOperator.publicKey, encryptionKey: [UInt8](repeating: 161, count: 32),
                                                   signer: a.ownerKey, funding: c.funding)])
        entry = try #require(chain.list[id])
        #expect(!entry.isRevoked && entry.isBanned, "still banned until the new operator updates the service")
        try chain.connect([Fixture.updateService(id, a.service, signer: newOperator, funding: TestNode(3).funding)])
        entry = try #require(chain.list[id])
        #expect(!entry.isBanned && entry.revocationReason == 0 && entry.penalty == 0)
        #expect(entry.isValid(at: chain.height, maturity: Fixture.parameters.registrationMaturity))
    }

    @Test("a banned masternode's owner must name a new operator; payout alone is refused")
    func updateRegistrarOfBanned() throws {
        var (chain, id) = try chainWithA()
        var undo = MasternodeListUndo()
        ProofOfService.penalize(id, points: Fixture.parameters.penaltyMax + 1, height: chain.height, list: &chain.list, undo: &undo,
                                parameters: Fixture.parameters)
        #expect(chain.list[id]?.isBanned == true)
        expectRejected(.masternodeBanned) {
            try chain.connect([Fixture.updateRegistrar(id, operatorKey: a.operatorKey.publicKey, encryptionKey: a.encryptionKey,
                                                       payout: TestKey(170).payToKeyHash, signer: a.ownerKey, funding: b.funding)])
        }
        expectRejected(.masternodeBanned) { try chain.connect([Fixture.revoke(id, signer: a.operatorKey, funding: b.funding)]) }
        // The operator itself revives it with a service update (PoSe ban, key unchanged).
        try chain.connect([Fixture.updateService(id, a.service, signer: a.operatorKey, funding: b.funding)])
        #expect(chain.list[id]?.isBanned == false && chain.list[id]?.penalty == 0)
    }

    @Test("spending the collateral removes the masternode; updates of it in the same transaction find it gone")
    func collateralSpendRemoves() throws {
        var (chain, id) = try chainWithA()
        let spendAndUpdate = Fixture.updateService(id, ServiceAddress(ipv4: (10, 9, 9, 9), port: 1), signer: a.operatorKey, funding: a.collateral)
        expectRejected(.masternodeUnknown) { try chain.connect([spendAndUpdate]) }
        #expect(chain.list[id] != nil)
        let spend = Transaction(inputs: [TxIn(previousOutput: a.collateral)], outputs: [Fixture.output(to: Fixture.payout)])
        try chain.connect([spend])
        #expect(chain.list.isEmpty && chain.list.computedRoot == .zero)
        // Its keys and service are free: the same node registers again with a new collateral.
        try chain.connect([Fixture.registerWithOwnCollateral(a)])
        #expect(chain.list.count == 1)
    }
}
