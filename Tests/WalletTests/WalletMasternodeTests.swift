import ChainParams
import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives
import Testing
@testable import Wallet

/// The wallet's masternode transactions, checked against the masternode rules themselves
/// (`MasternodeRules.change` on an in-memory list and coin map), so signatures, inputs hashes
/// and collateral are judged exactly as a block would judge them.
@Suite struct WalletMasternodeTests {
    static let parameters = try! MasternodeParameters(WalletFixtures.regtest.chain)

    /// A wallet with one matured 500-coin coinbase, unlocked, and the chain it follows.
    static func fundedWallet() throws -> (Wallet, ChainService, TestMiner) {
        let (chain, directory) = try WalletFixtures.chain()
        let wallet = try WalletFixtures.wallet(chain, directory)
        var miner = TestMiner(parameters: WalletFixtures.regtest)
        try chain.accept(miner.block(paying: try wallet.newAddress().lockScript))
        for _ in 2...101 { try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1))) }
        wallet.synchronize()
        try wallet.unlock(passphrase: WalletFixtures.passphrase, seconds: 600)
        return (wallet, chain, miner)
    }

    static func register(_ wallet: Wallet, collateral: OutPoint?, keys: OperatorKeys, port: UInt16) throws -> MasternodeTransaction {
        try wallet.registerMasternode(collateral: collateral, collateralAmount: parameters.collateral,
                                      service: ServiceAddress(ipv4: (10, 0, 0, 1), port: port),
                                      payoutScript: WalletFixtures.foreignScript(7), operatorKey: keys.operatorKey,
                                      operatorEncryptionKey: keys.encryptionKey, feeRate: 1_000) { _ in }
    }

    @Test func externalAndInternalRegistrationsPassTheRulesAndTheirCollateralStaysPut() throws {
        var (wallet, chain, miner) = try Self.fundedWallet()
        // The collateral: exactly the network's amount to a fresh key of the wallet, locked.
        let (funding, collateral) = try wallet.createCollateral(amount: Self.parameters.collateral, feeRate: 1_000) { _ in }
        let collateralOutput = funding.transaction.outputs[Int(collateral.index)]
        #expect(collateralOutput.value == Self.parameters.collateral)
        #expect(wallet.owns(Address.from(lockScript: collateralOutput.lockScript, network: "regtest")!))
        #expect(wallet.masternodeCollaterals == [collateral])
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: [funding.transaction]))
        wallet.synchronize()
        let coins: [OutPoint: Coin] = [collateral: Coin(output: collateralOutput, height: 102, isCoinbase: false)]

        // External collateral: the payload names the coin, signed by its key; the coin is not spent.
        let operatorA = OperatorKeys.generate()
        let external = try Self.register(wallet, collateral: collateral, keys: operatorA, port: 1)
        #expect(external.transaction.specialType == .masternodeRegister)
        #expect(!external.transaction.inputs.contains { $0.previousOutput == collateral })
        let payload = try MasternodeRegisterPayload.decode(payload: external.transaction.payload)
        #expect(payload.collateral == collateral && payload.ownerKey == external.ownerKey)
        #expect(payload.inputsHash == SpecialPayloadCodec.inputsHash(of: external.transaction))
        #expect(payload.signatureVerifies(publicKey: payload.collateralKey))
        #expect(!payload.signatureVerifies(publicKey: payload.ownerKey))
        var list = MasternodeList()
        let entry = try #require(try MasternodeRules.change(for: external.transaction, txid: external.txid, height: 103, list: list,
                                                            parameters: Self.parameters, coin: { coins[$0] }))
        #expect(entry.collateral == collateral && entry.operatorKey == operatorA.operatorKey && external.collateral == collateral)
        var undo = MasternodeListUndo()
        list.set(entry, undo: &undo)
        #expect(wallet.holdsOwnerKey(entry.ownerKey))

        // Internal collateral: output 0 of the registration itself, named (zero txid, 0).
        let operatorB = OperatorKeys.generate()
        let funded = try Self.register(wallet, collateral: nil, keys: operatorB, port: 2)
        let fundedPayload = try MasternodeRegisterPayload.decode(payload: funded.transaction.payload)
        #expect(fundedPayload.collateral == OutPoint(txid: .zero, index: 0))
        #expect(funded.transaction.outputs[0].value == Self.parameters.collateral)
        #expect(funded.transaction.outputs[0].lockScript == StandardScript.payToKeyHash(StandardScript.keyHash(fundedPayload.collateralKey)))
        let second = try #require(try MasternodeRules.change(for: funded.transaction, txid: funded.txid, height: 103, list: list,
                                                             parameters: Self.parameters, coin: { coins[$0] }))
        #expect(second.collateral == OutPoint(txid: funded.txid, index: 0) && funded.collateral == second.collateral)
        #expect(second.ownerKey != entry.ownerKey)
        #expect(wallet.masternodeCollaterals == [collateral, second.collateral])

        // Ordinary sends never spend a collateral.
        let recipient = Address.from(lockScript: WalletFixtures.foreignScript(2), network: "regtest")!
        for _ in 0..<3 {
            let sent = try wallet.send(to: recipient, amount: .coins(100)!, feeRate: 1_000) { _ in }
            #expect(!sent.transaction.inputs.contains { wallet.masternodeCollaterals.contains($0.previousOutput) })
        }
        // The same collateral twice is refused by the rules (the list already holds it).
        let again = try Self.register(wallet, collateral: collateral, keys: OperatorKeys.generate(), port: 3)
        #expect(throws: Rejection.self) {
            try MasternodeRules.change(for: again.transaction, txid: again.txid, height: 103, list: list, parameters: Self.parameters,
                                       coin: { coins[$0] })
        }
        // A coin of another amount is no collateral.
        #expect(throws: WalletError.self) {
            try Self.register(wallet, collateral: funding.transaction.inputs[0].previousOutput, keys: OperatorKeys.generate(), port: 4)
        }
    }

    @Test func ownerAndOperatorUpdatesAreSignedByTheRightKeys() throws {
        let (wallet, _, _) = try Self.fundedWallet()
        let operatorKeys = OperatorKeys.generate()
        let registration = try Self.register(wallet, collateral: nil, keys: operatorKeys, port: 9)
        var list = MasternodeList(), undo = MasternodeListUndo()
        let entry = try #require(try MasternodeRules.change(for: registration.transaction, txid: registration.txid, height: 102,
                                                            list: list, parameters: Self.parameters, coin: { _ in nil }))
        list.set(entry, undo: &undo)
        func judged(_ sent: MasternodeTransaction) throws -> MasternodeEntry? {
            try MasternodeRules.change(for: sent.transaction, txid: sent.txid, height: 103, list: list, parameters: Self.parameters, coin: { _ in nil })
        }

        // Update registrar: the wallet's owner key signs; new operator and payout.
        let newOperator = OperatorKeys.generate()
        let registrar = try wallet.updateMasternodeRegistrar(entry, operatorKey: newOperator.operatorKey,
                                                             operatorEncryptionKey: newOperator.encryptionKey,
                                                             payoutScript: WalletFixtures.foreignScript(8), feeRate: 1_000) { _ in }
        let registrarPayload = try MasternodeUpdateRegistrarPayload.decode(payload: registrar.transaction.payload)
        #expect(registrarPayload.signatureVerifies(publicKey: entry.ownerKey))
        #expect(registrarPayload.inputsHash == SpecialPayloadCodec.inputsHash(of: registrar.transaction))
        #expect(try judged(registrar)?.operatorKey == newOperator.operatorKey)
        // Without the owner key the wallet refuses rather than sign with something else.
        var foreign = entry
        foreign.ownerKey = [UInt8](repeating: 3, count: 32)
        #expect(throws: WalletError.self) {
            try wallet.updateMasternodeRegistrar(foreign, operatorKey: newOperator.operatorKey, operatorEncryptionKey: newOperator.encryptionKey,
                                                 payoutScript: WalletFixtures.foreignScript(8), feeRate: 1_000) { _ in }
        }

        // Update service and revoke: the operator keys sign, the wallet pays.
        let service = try wallet.updateMasternodeService(entry.proTxHash, service: ServiceAddress("10.1.2.3:29373")!,
                                                         operatorKeys: operatorKeys, feeRate: 1_000) { _ in }
        #expect(try judged(service)?.service == ServiceAddress("10.1.2.3:29373")!)
        let revoke = try wallet.revokeMasternode(entry.proTxHash, reason: 2, operatorKeys: operatorKeys, feeRate: 1_000) { _ in }
        let revoked = try #require(try judged(revoke))
        #expect(revoked.isRevoked && revoked.revocationReason == 2)
        // Signed by another operator: the rules refuse it by name.
        let impostor = try wallet.revokeMasternode(entry.proTxHash, reason: 0, operatorKeys: OperatorKeys.generate(), feeRate: 1_000) { _ in }
        #expect(throws: Rejection(.specialSignature, "mn-revoke is not signed by the operator key")) { try judged(impostor) }
        #expect(throws: WalletError.self) {
            try wallet.revokeMasternode(entry.proTxHash, reason: 9, operatorKeys: operatorKeys, feeRate: 1_000) { _ in }
        }

        // Locked: nothing is signed.
        wallet.lockNow()
        #expect(throws: WalletError.locked) {
            try wallet.revokeMasternode(entry.proTxHash, reason: 0, operatorKeys: operatorKeys, feeRate: 1_000) { _ in }
        }
    }
}
