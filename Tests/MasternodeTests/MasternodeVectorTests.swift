import Consensus
import Ed25519
import Masternodes
import Primitives
import TestSupport
import Testing

/// PROTOCOL section 16.8: vectors computed outside this code (Tests/Scripts/masternode_vectors.py:
/// BLAKE3 from its paper, Ed25519 and X25519 from OpenSSL), checked against the Swift encoders.
struct MasternodeVectorTests {
    static func key(_ byte: UInt8) -> (seed: [UInt8], publicKey: [UInt8]) {
        let seed = [UInt8](repeating: byte, count: 32)
        return (seed, Ed25519.publicKey(seed: seed))
    }

    static func hash(_ hex: String) -> Hash256 { Hash256(hex: hex)! }
    static func repeated(_ byte: UInt8) -> Hash256 { Hash256(bytes: [UInt8](repeating: byte, count: 32))! }

    /// Section 10's pay-to-key-hash script `P` (RFC 8032 test 1's key).
    static let scriptP = StandardScript.payToKeyHash(StandardScript.keyHash(hexBytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")))
    static let encryptionKey = hexBytes("ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b")
    static let newEncryptionKey = hexBytes("f5b2d6e60f9477e310c2982daaa6c9136c108a1777c5947e448fa37d68174557")
    static let serviceV6 = ServiceAddress("[2001:db8::1]:19999")!

    static func signed<P: SpecialPayload>(_ payload: P, input: UInt8, seed: [UInt8]) -> (P, Transaction) {
        var payload = payload
        let inputs = [TxIn(previousOutput: OutPoint(txid: repeated(input), index: 0))]
        let outputs = [TxOut(value: Amount(baseUnits: 100_000)!, lockScript: scriptP)]
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: payload.transaction(inputs: inputs, outputs: outputs))
        payload.sign(seed: seed)
        return (payload, payload.transaction(inputs: inputs, outputs: outputs))
    }

    static func registration() -> (MasternodeRegisterPayload, Transaction) {
        signed(MasternodeRegisterPayload(collateral: OutPoint(txid: repeated(0xC0), index: 1), collateralKey: key(1).publicKey,
                                         ownerKey: key(2).publicKey, operatorKey: key(3).publicKey, operatorEncryptionKey: encryptionKey,
                                         service: ServiceAddress("10.0.0.1:9999")!, payoutScript: scriptP),
               input: 0xF0, seed: key(1).seed)
    }

    @Test("domain keys")
    func domainKeys() {
        #expect(DomainKeys.key(purpose: "special payload") == hexBytes("174cc3ba533785711fdff8b353a287e7b4603450db57b65dec107dbc20b1642b"))
        #expect(DomainKeys.key(purpose: "special inputs") == hexBytes("ff4218f349d26f92113630558032d81a8df12abfec51711fe76a83e4983b8572"))
        #expect(DomainKeys.key(purpose: "masternode entry") == hexBytes("ca722a021c54a0bb480ec877f4fd2a06c95201425d7e6d79c1e7b46984242b87"))
        #expect(DomainKeys.key(purpose: "extension root") == hexBytes("2637465c9094ef22b8a5a94487f41956dddea378f5a8d488a17bc0a864d0faea"))
    }

    @Test("mn-register: inputs hash, signing hash, payload, transaction and txid")
    func register() throws {
        let (payload, transaction) = Self.registration()
        #expect(payload.inputsHash == Self.hash("0c0502c5c74e3a1ff8fa337512f3560c1dc82c7df8361e52e1561eb3f238644d"))
        #expect(payload.signingHash == Self.hash("624fb273444d948f34fc16bc2f0a3ccdc193fb7bb34a48627d4395900c5d37d7"))
        #expect(payload.encoded == hexBytes("0100c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0010000008a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b00000000000000000000ffff0a000001270f2576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac0c0502c5c74e3a1ff8fa337512f3560c1dc82c7df8361e52e1561eb3f238644d88680b314fc868bd10b3eefc49d7f5b53c4e5340c1f365e5e07b39521dde422d0fe0eb5f02c109f0bc2d4e5d9d363e11b0c17f10bc72497714a816dee0f69405"))
        #expect(transaction.encoded == hexBytes("0100010001f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f000000000ffffffff01a0860100000000002576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac0000000000000000fd3e010100c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0010000008a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b00000000000000000000ffff0a000001270f2576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac0c0502c5c74e3a1ff8fa337512f3560c1dc82c7df8361e52e1561eb3f238644d88680b314fc868bd10b3eefc49d7f5b53c4e5340c1f365e5e07b39521dde422d0fe0eb5f02c109f0bc2d4e5d9d363e11b0c17f10bc72497714a816dee0f6940500"))
        #expect(transaction.txid == Self.hash("77601211222aa923e39a88dda3382e000ea84d20c55692179a63f894ecb3ee2a"))
        #expect(try Transaction(decoding: transaction.encoded) == transaction)
        #expect(try MasternodeRegisterPayload.decode(payload: transaction.payload) == payload)
    }

    @Test("mn-update-service, mn-update-registrar and mn-revoke: signing hashes, payloads and txids")
    func updates() throws {
        let pro = Self.hash("77601211222aa923e39a88dda3382e000ea84d20c55692179a63f894ecb3ee2a")
        let (service, serviceTx) = Self.signed(MasternodeUpdateServicePayload(proTxHash: pro, service: Self.serviceV6), input: 0xF1, seed: Self.key(3).seed)
        #expect(service.signingHash == Self.hash("2c81731308fd74d767f4d4ba4f87f8b9055cd8e73abab112820765011f6c2398"))
        #expect(service.encoded == hexBytes("010077601211222aa923e39a88dda3382e000ea84d20c55692179a63f894ecb3ee2a20010db80000000000000000000000014e1f7a060af1aac9ca8529c0c73d61c1e622196779573a877fd37a9b1736eab0a538abe125196f7236509e879f9551a4560e2885d57737775c238ed4db1e9281f5b4cbd3b701f5de8678d007495545f4e05a5f1629601d2d6d2f3fa4ee7a81694902"))
        #expect(serviceTx.txid == Self.hash("eee0ffcc8a93a2aaf0f5ef1ed0d5b67f908fb9f7e91c54f2d9508525e637dfbf"))
        let ownerPayout = StandardScript.payToKeyHash(StandardScript.keyHash(Self.key(2).publicKey))
        let (registrar, registrarTx) = Self.signed(MasternodeUpdateRegistrarPayload(proTxHash: pro, operatorKey: Self.key(5).publicKey,
                                                                                     operatorEncryptionKey: Self.newEncryptionKey, payoutScript: ownerPayout),
                                                   input: 0xF2, seed: Self.key(2).seed)
        #expect(registrar.signingHash == Self.hash("510318fc97f4edb6ae0adfd3f7033347e1aaa839493db1c435a9a30fac964d34"))
        #expect(registrar.encoded == hexBytes("010077601211222aa923e39a88dda3382e000ea84d20c55692179a63f894ecb3ee2a6e7a1cdd29b0b78fd13af4c5598feff4ef2a97166e3ca6f2e4fbfccd80505bf1f5b2d6e60f9477e310c2982daaa6c9136c108a1777c5947e448fa37d681745572576a0201eed29b1654fbca94617004d7969dfc4652b1f30a7a8b771c34800155483380b88ac94ba2bd74a59e6b5349d5865ac0c1380a88968e9ee2804ffe0b2512831c73bfe8a9722286003d3aa4254aca982b33a1b0eb0a0886f3db923385124969a8b1c0763fa7d2dbaf131960bdad7c71db4152369ebd51d07da92540c7779b969666c0d"))
        #expect(registrarTx.txid == Self.hash("0c458c4a4af1b9f783fcbc4492c35ecdfd450b871cfda9f9673ea106323aa0c1"))
        let (revoke, revokeTx) = Self.signed(MasternodeRevokePayload(proTxHash: pro, reason: 1), input: 0xF3, seed: Self.key(3).seed)
        #expect(revoke.signingHash == Self.hash("8a4aa8ae45e4441cad310e1b8358057a19e30cc44d8a3da5dca0567c506d1d78"))
        #expect(revoke.encoded == hexBytes("010077601211222aa923e39a88dda3382e000ea84d20c55692179a63f894ecb3ee2a0100fd7e1510fee5df13759f5ee63b93b5283a68e133681145ad8099b833218f6a7cf8e531480401ab7684e43091337edc4c43d731d942378ee4ca5ae17672e098f47b7c78cc13f49af075ca3e4d12215aac84ebe9939acad43789cf8fc33e264d0e"))
        #expect(revokeTx.txid == Self.hash("dbb4778ca5e1afae71c807e7c0649cccbed344638cbaeb21d4b915946475cfbc"))
    }

    @Test("list entries, the root of a three-entry list, the extension root and the state root")
    func listRoots() throws {
        let (_, transaction) = Self.registration()
        var list = MasternodeList()
        var undo = MasternodeListUndo()
        let written = try MasternodeRules.change(
            for: transaction, txid: transaction.txid, height: 101, list: list,
            parameters: MasternodeParameters(collateral: Amount(baseUnits: 10 * Amount.unitsPerCoin)!, registrationMaturity: 2, listHistoryBlocks: 8,
                                             penaltyMax: 100, penaltyMissedCommitment: 66, penaltyInvalidSignature: 30, penaltyDecayPerBlock: 1),
            coin: { _ in Coin(output: TxOut(value: Amount(baseUnits: 10 * Amount.unitsPerCoin)!,
                                            lockScript: StandardScript.payToKeyHash(StandardScript.keyHash(Self.key(1).publicKey))),
                              height: 1, isCoinbase: false) })
        let entry = try #require(written)
        #expect(entry.encoded == hexBytes("77601211222aa923e39a88dda3382e000ea84d20c55692179a63f894ecb3ee2ac0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0010000008139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1ac01b2209e86354fb853237b5de0f4fab13c7fcbf433a61c019369617fecf10b00000000000000000000ffff0a000001270f2576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac65000000000000006500000000000000000000006500000000000000ffffffffffffffff0000"))
        #expect(entry.leafHash == Self.hash("863df11ea750ab87365657e99dd2becf7ffa821e72b70125486b87684085fcaa"))
        let second = MasternodeEntry(proTxHash: Self.repeated(0x11), collateral: OutPoint(txid: Self.repeated(0xC1), index: 0),
                                     ownerKey: [UInt8](repeating: 0x21, count: 32), operatorKey: [UInt8](repeating: 0x31, count: 32),
                                     operatorEncryptionKey: [UInt8](repeating: 0x41, count: 32), service: ServiceAddress("10.0.0.2:9999")!,
                                     payoutScript: Self.scriptP, registeredHeight: 5, updatedHeight: 7, penalty: 40, penaltyHeight: 6)
        let third = MasternodeEntry(proTxHash: Self.repeated(0xEE), collateral: OutPoint(txid: Self.repeated(0xC2), index: 2),
                                    ownerKey: [UInt8](repeating: 0x22, count: 32), operatorKey: MasternodeEntry.clearedKey,
                                    operatorEncryptionKey: [UInt8](repeating: 0x42, count: 32), service: ServiceAddress("[2001:db8::1]:1")!,
                                    payoutScript: Self.scriptP, registeredHeight: 9, updatedHeight: 12, penalty: 0, penaltyHeight: 9,
                                    bannedHeight: 12, revocationReason: 3)
        #expect(second.leafHash == Self.hash("9cfee9995caa98a101481715c2820a2ed031f9103d4d348c5ac5122ce141f478"))
        #expect(third.leafHash == Self.hash("57d197f83728069a1e4eafc08df47bba6e770455292105d79e8dfd1443f27cb2"))
        for item in [third, entry, second] { list.set(item, undo: &undo) }
        let root = list.root()
        #expect(root == Self.hash("0ea7ce7a995ebbc9246943f9d079bad80dc68d54620178971f9d682328b71f74"))
        let extensionRoot = ExtensionRoot.compute(masternodes: root)
        #expect(extensionRoot == Self.hash("5a16e1984cc028d325ff4b4092f3d6f0ea943fd69277fbed4ed3b3d7b0c636f0"))
        #expect(ExtensionRoot.compute(masternodes: .zero) == .zero)
        #expect(DomainKeys.stateRoot(witnessRoot: Self.hash("fa4c3fd1433deb86923ba317de1fdac395479fa43be20508a4449ceb99e5f4a7"), extensionRoot: extensionRoot)
                == Self.hash("ae34b709e1cb4a1e0a77d3b2dbce5105ea886b4094356c817b1cddf80f0c4532"))
    }

    @Test("a type-0 transaction built with a payload drops it: same encoding, same value as without")
    func ordinaryTransactionHasNoPayload() {
        let input = TxIn(previousOutput: OutPoint(txid: .zero, index: 3))
        let output = TxOut(value: Amount(baseUnits: 5)!, lockScript: [0x51])
        let withPayload = Transaction(inputs: [input], outputs: [output], payload: [1, 2, 3])
        let without = Transaction(inputs: [input], outputs: [output])
        #expect(withPayload.payload.isEmpty && withPayload == without && withPayload.encoded == without.encoded)
        #expect(Transaction(special: .masternodeRevoke, payload: [1, 2, 3], inputs: [input], outputs: [output]).payload == [1, 2, 3])
    }
}
