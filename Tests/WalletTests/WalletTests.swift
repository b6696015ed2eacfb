import ChainGen
import ChainParams
import ChainState
import Consensus
import Ed25519
import Foundation
import Primitives
import Testing
@testable import Wallet

/// Mines regtest blocks with chosen coinbase outputs and transactions (ChainGen's sealing).
struct TestMiner {
    let parameters: ConsensusParameters
    var parent: BlockHeader
    var times: [UInt64]

    init(parameters: ConsensusParameters) {
        self.parameters = parameters
        parent = parameters.chain.genesisBlock().header
        times = [parent.time]
    }

    /// The miner positioned on `header` (its ancestors' times matter only for the median, which
    /// the generous spacing keeps far below).
    init(parameters: ConsensusParameters, on header: BlockHeader) {
        self.parameters = parameters
        parent = header
        times = [header.time]
    }

    mutating func block(paying lockScript: [UInt8], transactions: [Transaction] = [], tag: UInt32 = 0) -> Block {
        let height = parent.height + 1
        let coinbase = Transaction.coinbase(height: height, extraNonce: tag,
                                            outputs: [TxOut(value: parameters.subsidy(height: height), lockScript: lockScript)])
        let time = max(HeaderRules.medianTime(times) + 1, parent.time + 150)
        var block = Block(header: BlockHeader(version: HeaderRules.version, height: height, previousHash: parent.hash, merkleRoot: .zero,
                                              stateRoot: .zero, time: time,
                                              bits: parameters.requiredBits(parentHeight: parent.height, parentTime: parent.time), nonce: 0),
                          transactions: [coinbase] + transactions)
        ChainGenerator.seal(&block)
        parent = block.header
        times.append(time)
        if times.count > parameters.medianTimeSpan { times.removeFirst() }
        return block
    }
}

enum WalletFixtures {
    static let regtest = try! ConsensusParameters(ChainParameters.builtIn("regtest"))
    static let passphrase = "correct horse battery staple"

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-wallet-\(UUID().uuidString)").path
    }

    static func chain() throws -> (ChainService, String) {
        let directory = temporaryDirectory()
        return (ChainService(try ChainState(directory: directory + "/chain", parameters: regtest, cacheMiB: 4)), directory)
    }

    /// A P2KH script of a key nobody here holds.
    static func foreignScript(_ seed: UInt8) -> [UInt8] {
        StandardScript.payToKeyHash(StandardScript.keyHash(Ed25519.SigningKey(seed: [UInt8](repeating: seed, count: 32)).publicKey))
    }

    static func wallet(_ chain: ChainService, _ directory: String, name: String = "a") throws -> Wallet {
        let walletDirectory = directory + "/" + name
        try Wallet.create(directory: walletDirectory, network: "regtest", passphrase: passphrase, kdf: .testing)
        return try Wallet.open(directory: walletDirectory, network: "regtest", chain: chain)
    }
}

@Suite struct WalletFileTests {
    @Test func createWritesAnEncryptedPrivateFileAndRefusesToOverwrite() throws {
        let directory = WalletFixtures.temporaryDirectory()
        let summary = try Wallet.create(directory: directory, network: "regtest", passphrase: "pw", kdf: .testing)
        #expect(summary.keypoolSize == 100 && summary.keypoolSizeInternal == 100)
        #expect(summary.unlockedUntil == nil)
        let path = directory + "/wallet.dat"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(Array(bytes.prefix(8)) == Array("RUSTYWLT".utf8))
        #expect(throws: WalletError.alreadyExists(path)) { try Wallet.create(directory: directory, network: "regtest", passphrase: "x", kdf: .testing) }
        #expect(throws: WalletError.corrupt("\(path) belongs to network regtest, not mainnet")) {
            try Wallet.openOffline(directory: directory, network: "mainnet")
        }
    }

    @Test func wrongPassphraseNeverDecrypts() throws {
        let directory = WalletFixtures.temporaryDirectory()
        try Wallet.create(directory: directory, network: "regtest", passphrase: "right", kdf: .testing)
        let wallet = try Wallet.openOffline(directory: directory, network: "regtest")
        let address = try wallet.newAddress()
        for wrong in ["wrong", "", "Right", "right ", "righ"] {
            #expect(throws: WalletError.incorrectPassphrase) { try wallet.unlock(passphrase: wrong, seconds: 60) }
            #expect(throws: WalletError.incorrectPassphrase) { try wallet.exportKey(address, passphrase: wrong) }
            #expect(wallet.isLocked)
        }
        try wallet.unlock(passphrase: "right", seconds: 60)
        #expect(!wallet.isLocked)
        // The exported secret is the address's key.
        let secret = try wallet.exportKey(address, passphrase: "right")
        #expect(StandardScript.keyHash(Ed25519.SigningKey(seed: secret).publicKey) == address.keyHash)
        // Even unlocked, export needs the passphrase.
        #expect(throws: WalletError.incorrectPassphrase) { try wallet.exportKey(address, passphrase: "wrong") }
        wallet.lockNow()
        #expect(wallet.isLocked)

        // Parameters edited in the file fail the tag too (they are associated data).
        var document = try WalletFile.read(path: wallet.path)
        document.kdf.logN += 1
        #expect(throws: WalletError.incorrectPassphrase) { try WalletFile.unseal(document, passphrase: "right") }
        document = try WalletFile.read(path: wallet.path)
        var sealed = HexCoding.decode(document.sealedSeed)!
        sealed[20] ^= 1
        document.sealedSeed = HexCoding.encode(sealed)
        #expect(throws: WalletError.incorrectPassphrase) { try WalletFile.unseal(document, passphrase: "right") }
    }

    @Test func corruptFilesAreRefusedWithTheirFault() throws {
        let directory = WalletFixtures.temporaryDirectory()
        try Wallet.create(directory: directory, network: "regtest", passphrase: "pw", kdf: .testing)
        let path = directory + "/wallet.dat"
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func refused(_ bytes: [UInt8]) -> WalletError? {
            try? Data(bytes).write(to: URL(fileURLWithPath: path))
            do { _ = try Wallet.openOffline(directory: directory, network: "regtest"); return nil } catch { return error }
        }
        #expect(refused(Array("not a wallet".utf8)) == .corrupt("\(path) does not start with RUSTYWLT"))
        var version = good
        version[8] = 2
        #expect(refused(version) == .corrupt("format version 2, this build reads 1"))
        if case .corrupt = refused(Array(good.prefix(40))) {} else { Issue.record("a truncated file must be corrupt") }
        // Indices and scrypt costs from the file are bounded (no overflow, no huge allocation).
        try Data(good).write(to: URL(fileURLWithPath: path))
        var document = try WalletFile.read(path: path)
        document.nextExternal = .max
        try WalletFile.write(document, path: path)
        #expect(throws: WalletError.corrupt("key index out of range")) { try Wallet.openOffline(directory: directory, network: "regtest") }
        document = try WalletFile.read(path: path)
        document.nextExternal = 0
        document.kdf = KDFParameters(logN: 30, r: 8, p: 1)
        #expect(throws: WalletError.corrupt("scrypt parameters out of range: logN 30 r 8 p 1")) { try WalletFile.unseal(document, passphrase: "pw") }
    }

    @Test func unlockExpires() throws {
        let directory = WalletFixtures.temporaryDirectory()
        try Wallet.create(directory: directory, network: "regtest", passphrase: "pw", kdf: .testing)
        let wallet = try Wallet.openOffline(directory: directory, network: "regtest")
        try wallet.unlock(passphrase: "pw", seconds: 0)
        #expect(wallet.isLocked)
    }

    @Test func addressesComeFromThePoolWhileLockedAndPersist() throws {
        let directory = WalletFixtures.temporaryDirectory()
        try Wallet.create(directory: directory, network: "regtest", passphrase: "pw", kdf: .testing)
        let wallet = try Wallet.openOffline(directory: directory, network: "regtest")
        var seen = Set<Address>()
        for _ in 0..<100 { seen.insert(try wallet.newAddress(label: "l")) }
        #expect(seen.count == 100)
        #expect(throws: WalletError.keypoolExhausted) { try wallet.newAddress() }
        try wallet.unlock(passphrase: "pw", seconds: 60)
        let next = try wallet.newAddress()
        #expect(!seen.contains(next))
        let reopened = try Wallet.openOffline(directory: directory, network: "regtest")
        #expect(reopened.summary.keypoolSize == 99)
        #expect(!seen.contains(try reopened.newAddress()) && reopened.owns(next))
    }

    @Test func keysAreDeterministicFromTheSeed() {
        let seed = [UInt8](repeating: 7, count: 32)
        let a = WalletFile.signingKey(seed: seed, internal: false, index: 3).publicKey
        #expect(a == WalletFile.signingKey(seed: seed, internal: false, index: 3).publicKey)
        #expect(a != WalletFile.signingKey(seed: seed, internal: true, index: 3).publicKey)
        #expect(a != WalletFile.signingKey(seed: seed, internal: false, index: 4).publicKey)
    }
}

@Suite struct CoinSelectionTests {
    static let size = Wallet.transactionSize

    @Test func anExactMatchNeedsNoChange() throws {
        let fee = CoinSelection.fee(rate: 1_000, bytes: Self.size(1, false))
        let values: [UInt64] = [5_000_000, 30_000, 100_000_000]
        let selection = try CoinSelection.select(values: values, amount: 30_000 - fee, subtractFee: false, feeRate: 1_000, dust: 546,
                                                 size: Self.size)
        #expect(selection.inputs == [1] && selection.change == 0 && selection.fee == fee)
    }

    @Test func invariantsHoldOnRandomWallets() throws {
        var generator = SeededGenerator(seed: 11)
        for _ in 0..<300 {
            let values = (0..<Int(1 + generator.next() % 12)).map { _ in 1_000 + generator.next() % 10_000_000 }
            let total = values.reduce(0, +)
            let amount = 546 + generator.next() % total
            let rate = 1_000 + generator.next() % 20_000
            let subtract = generator.next() % 4 == 0
            let result = Result { () throws(WalletError) -> CoinSelection in
                try CoinSelection.select(values: values, amount: amount, subtractFee: subtract, feeRate: rate, dust: 546, size: Self.size)
            }
            switch result {
            case .success(let selection):
                let inputs = selection.inputs.reduce(UInt64(0)) { $0 + values[$1] }
                #expect(Set(selection.inputs).count == selection.inputs.count)
                #expect(inputs == selection.recipientValue + selection.fee + selection.change)
                #expect(selection.fee >= CoinSelection.fee(rate: rate, bytes: Self.size(selection.inputs.count, selection.change > 0)))
                #expect(selection.change == 0 || selection.change >= 546)
                #expect(subtract ? selection.recipientValue < amount && selection.recipientValue >= 546 : selection.recipientValue == amount)
            case .failure(.insufficientFunds):
                // Only when even every coin cannot pay amount and fee.
                #expect(total < amount + (subtract ? 0 : CoinSelection.fee(rate: rate, bytes: Self.size(values.count, false))))
            case .failure(.amountTooSmall):
                #expect(subtract)
            case .failure(let other):
                Issue.record("unexpected \(other)")
            }
        }
    }

    @Test func insufficientFundsAndBadAmounts() {
        #expect(throws: WalletError.insufficientFunds) {
            try CoinSelection.select(values: [1_000, 2_000], amount: 2_900, subtractFee: false, feeRate: 1_000, dust: 546, size: Self.size)
        }
        #expect(throws: WalletError.invalidAmount("Amount must be positive")) {
            try CoinSelection.select(values: [1_000], amount: 0, subtractFee: false, feeRate: 1_000, dust: 546, size: Self.size)
        }
        #expect(throws: WalletError.amountTooSmall("Transaction amount too small")) {
            try CoinSelection.select(values: [100_000], amount: 100, subtractFee: false, feeRate: 1_000, dust: 546, size: Self.size)
        }
    }

    @Test func sizeEstimateIsExact() {
        let input = TxIn(previousOutput: OutPoint(txid: .zero, index: 1))
        let output = TxOut(value: Amount(baseUnits: 1)!, lockScript: WalletFixtures.foreignScript(1))
        let transaction = Transaction(version: 2, inputs: [input, input], outputs: [output, output],
                                      witnesses: Array(repeating: [[UInt8](repeating: 1, count: 64), [UInt8](repeating: 2, count: 32)], count: 2))
        #expect(Wallet.transactionSize(inputs: 2, withChange: true) == transaction.encoded.count)
    }
}

@Suite struct WalletChainTests {
    static let subsidy = WalletFixtures.regtest.subsidy(height: 1).baseUnits

    /// Waits (bounded) for the wallet to reach the chain's tip through its tip-event follower.
    static func waitForTip(_ wallet: Wallet, _ chain: ChainService) async throws {
        for _ in 0..<500 {
            if wallet.summary.scannedHash == chain.snapshot.tipHash { return }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        Issue.record("the wallet did not follow the chain to \(chain.snapshot.tipHeight)")
    }

    @Test func scanFindsCoinbasesSendIsAcceptedAndAReorganisationUndoesIt() async throws {
        let (chain, directory) = try WalletFixtures.chain()
        let wallet = try WalletFixtures.wallet(chain, directory)
        wallet.start()
        defer { wallet.stop() }
        let address = try wallet.newAddress(label: "mining")
        var miner = TestMiner(parameters: WalletFixtures.regtest)
        // Heights 1 and 2 pay the wallet, 3...100 someone else.
        try chain.accept(miner.block(paying: address.lockScript))
        try chain.accept(miner.block(paying: address.lockScript))
        for _ in 3...100 { try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1))) }
        try await Self.waitForTip(wallet, chain)

        // Tip 100: the height-1 coinbase may be spent in block 101, the height-2 one not yet.
        #expect(wallet.balances == WalletBalances(trusted: Self.subsidy, untrustedPending: 0, immature: Self.subsidy))
        let history = wallet.transactions(count: 100)
        #expect(history.map(\.category) == [.generate, .immature])
        #expect(history.map(\.blockHeight) == [1, 2] && history.allSatisfy { $0.label == "mining" && $0.address == address })
        #expect(history[0].confirmations == 100)
        #expect(wallet.unspent().map(\.outpoint.txid) == [history[0].txid])
        #expect(wallet.transactions(label: "mining", count: 100) == history && wallet.transactions(label: "other").isEmpty)
        #expect(wallet.transactions(count: 1) == [history[1]] && wallet.transactions(count: 1, skip: 1) == [history[0]])
        #expect(wallet.unspent(addresses: [try wallet.newAddress()]).isEmpty && wallet.unspent(addresses: [address]).count == 1)

        // Locked: no sending.
        let recipient = Address.from(lockScript: WalletFixtures.foreignScript(2), network: "regtest")!
        #expect(throws: WalletError.locked) {
            try wallet.send(to: recipient, amount: .coins(10)!, feeRate: 2_000) { _ in }
        }
        try wallet.unlock(passphrase: WalletFixtures.passphrase, seconds: 600)
        var broadcast: Transaction?
        let sent = try wallet.send(to: recipient, amount: .coins(10)!, feeRate: 2_000, comment: "rent") { broadcast = $0 }
        #expect(broadcast == sent.transaction)
        // One payment of exactly the amount, change to a wallet change key (never the recipient), the fee at the rate.
        let payment = sent.transaction.outputs.filter { $0.lockScript == recipient.lockScript }
        let change = sent.transaction.outputs.filter { $0.lockScript != recipient.lockScript }
        #expect(payment.map(\.value) == [.coins(10)!] && change.count == 1)
        let changeAddress = Address.from(lockScript: change[0].lockScript, network: "regtest")!
        #expect(wallet.owns(changeAddress) && changeAddress != address)
        #expect(sent.fee == CoinSelection.fee(rate: 2_000, bytes: sent.transaction.encoded.count))
        #expect(change[0].value.baseUnits == Self.subsidy - Amount.coins(10)!.baseUnits - sent.fee)
        // Unconfirmed own change is trusted and not selected twice.
        #expect(wallet.balances.trusted == change[0].value.baseUnits)
        #expect(wallet.unspent(minimumConfirmations: 0).map(\.outpoint) == [OutPoint(txid: sent.txid, index: UInt32(sent.transaction.outputs.firstIndex(of: change[0])!))])

        // Mined in block 101: consensus accepts the signatures; the wallet confirms it.
        let forkParent = miner.parent
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: [sent.transaction]))
        try await Self.waitForTip(wallet, chain)
        let sendEntry = try #require(wallet.transactions(count: 100).first { $0.category == .send })
        #expect(sendEntry.amount == -Int64(Amount.coins(10)!.baseUnits) && sendEntry.fee == -Int64(sent.fee))
        #expect(sendEntry.blockHeight == 101 && sendEntry.confirmations == 1 && sendEntry.address == recipient && sendEntry.comment == "rent")
        // Block 101 matured the height-2 coinbase too.
        #expect(wallet.balances == WalletBalances(trusted: change[0].value.baseUnits + Self.subsidy, untrustedPending: 0, immature: 0))

        // A longer branch from 100 without the payment, whose block 101 pays the wallet instead.
        var rival = TestMiner(parameters: WalletFixtures.regtest, on: forkParent)
        try chain.accept(rival.block(paying: address.lockScript, tag: 1))
        try chain.accept(rival.block(paying: WalletFixtures.foreignScript(3), tag: 1))
        #expect(chain.snapshot.tipHash == rival.parent.hash)
        try await Self.waitForTip(wallet, chain)
        // The send is the wallet's own: unconfirmed again (the pool takes it back); the new coinbase is immature.
        let afterReorg = wallet.transactions(count: 100)
        #expect(afterReorg.filter { $0.category == .send }.map(\.confirmations) == [0])
        #expect(afterReorg.filter { $0.category == .immature }.map(\.blockHeight) == [101])
        #expect(wallet.balances == WalletBalances(trusted: change[0].value.baseUnits + Self.subsidy, untrustedPending: 0, immature: Self.subsidy))

        // A restart picks up where the file says, and agrees.
        wallet.stop()
        let reopened = try Wallet.open(directory: directory + "/a", network: "regtest", chain: chain)
        reopened.synchronize()
        #expect(reopened.transactions(count: 100) == afterReorg)
        #expect(reopened.balances == wallet.balances)
    }

    @Test func aReorganisationReturnsAPaymentFromOthersToPending() async throws {
        let (chain, directory) = try WalletFixtures.chain()
        let payer = try WalletFixtures.wallet(chain, directory, name: "payer")
        let payee = try WalletFixtures.wallet(chain, directory, name: "payee")
        var miner = TestMiner(parameters: WalletFixtures.regtest)
        try chain.accept(miner.block(paying: try payer.newAddress().lockScript))
        for _ in 2...100 { try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1))) }
        payer.synchronize()
        payee.synchronize()
        try payer.unlock(passphrase: WalletFixtures.passphrase, seconds: 600)
        let target = try payee.newAddress()
        let sent = try payer.send(to: target, amount: .coins(7)!, subtractFeeFromAmount: true, feeRate: 1_000) { _ in }
        #expect(sent.recipientValue == Amount.coins(7)!.baseUnits - sent.fee)
        let forkParent = miner.parent
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: [sent.transaction]))
        payer.synchronize()
        payee.synchronize()
        #expect(payee.balances.trusted == sent.recipientValue)
        let received = payee.transactions()
        #expect(received.map(\.category) == [.receive] && received[0].amount == Int64(sent.recipientValue) && received[0].address == target)
        #expect(payee.unspent().map(\.output.value.baseUnits) == [sent.recipientValue])

        var rival = TestMiner(parameters: WalletFixtures.regtest, on: forkParent)
        for _ in 0..<2 { try chain.accept(rival.block(paying: WalletFixtures.foreignScript(4), tag: 2)) }
        payee.synchronize()
        payer.synchronize()
        // The payment is back in the pool, not in a block: pending, not spendable.
        #expect(payee.balances == WalletBalances(trusted: 0, untrustedPending: sent.recipientValue, immature: 0))
        #expect(payee.transactions().map(\.confirmations) == [0] && payee.unspent().isEmpty)
        // The payer's send waits unconfirmed; its coin stays spent by it.
        #expect(payer.transactions().filter { $0.category == .send }.map(\.confirmations) == [0])
        #expect(payer.balances.trusted == Self.subsidy - Amount.coins(7)!.baseUnits)

        // The payment confirms on the new branch after all.
        try chain.accept(rival.block(paying: WalletFixtures.foreignScript(4), transactions: [sent.transaction], tag: 2))
        payee.synchronize()
        payer.synchronize()
        #expect(payee.balances.trusted == sent.recipientValue)
        #expect(payer.transactions().filter { $0.category == .send }.map(\.blockHeight) == [103])
    }

    /// A payment back in the pool after a reorganisation, then reversed: a block of the new
    /// branch spends the payer's coin in another transaction, so the payment can never confirm.
    @Test func aReversedPaymentLeavesThePayeesWallet() async throws {
        let (chain, directory) = try WalletFixtures.chain()
        let payer = try WalletFixtures.wallet(chain, directory, name: "payer")
        let payee = try WalletFixtures.wallet(chain, directory, name: "payee")
        var miner = TestMiner(parameters: WalletFixtures.regtest)
        try chain.accept(miner.block(paying: try payer.newAddress().lockScript))
        for _ in 2...100 { try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1))) }
        payer.synchronize()
        payee.synchronize()
        try payer.unlock(passphrase: WalletFixtures.passphrase, seconds: 600)
        let sent = try payer.send(to: try payee.newAddress(), amount: .coins(7)!, subtractFeeFromAmount: true, feeRate: 1_000) { _ in }
        let forkParent = miner.parent
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: [sent.transaction]))
        payee.synchronize()
        #expect(payee.balances.trusted == sent.recipientValue)

        // On the new branch the payment is pending; the payer abandons it and spends the same coin again, to itself.
        var rival = TestMiner(parameters: WalletFixtures.regtest, on: forkParent)
        for _ in 0..<2 { try chain.accept(rival.block(paying: WalletFixtures.foreignScript(4), tag: 2)) }
        payer.synchronize()
        payee.synchronize()
        #expect(payee.balances.untrustedPending == sent.recipientValue)
        try payer.abandon(sent.transaction.txid)
        let doubleSpend = try payer.send(to: try payer.newAddress(), amount: .coins(5)!, subtractFeeFromAmount: false, feeRate: 2_000) { _ in }
        #expect(Set(doubleSpend.transaction.inputs.map(\.previousOutput)) == Set(sent.transaction.inputs.map(\.previousOutput)))
        try chain.accept(rival.block(paying: WalletFixtures.foreignScript(4), transactions: [doubleSpend.transaction], tag: 2))
        payee.synchronize()
        #expect(payee.balances == WalletBalances(trusted: 0, untrustedPending: 0, immature: 0))
        #expect(payee.transactions().isEmpty && payee.unspent().isEmpty)
    }

    @Test func consecutiveSendsUseFreshChangeAndDoNotDoubleSpend() throws {
        let (chain, directory) = try WalletFixtures.chain()
        let wallet = try WalletFixtures.wallet(chain, directory)
        var miner = TestMiner(parameters: WalletFixtures.regtest)
        try chain.accept(miner.block(paying: try wallet.newAddress().lockScript))
        for _ in 2...100 { try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1))) }
        wallet.synchronize()
        try wallet.unlock(passphrase: WalletFixtures.passphrase, seconds: 600)
        let recipient = Address.from(lockScript: WalletFixtures.foreignScript(2), network: "regtest")!
        var sent = [SentTransaction]()
        for _ in 0..<3 { sent.append(try wallet.send(to: recipient, amount: .coins(1)!, feeRate: 1_000) { _ in }) }
        // Each spends the previous one's change, each change key is new.
        let changeScripts = sent.map { $0.transaction.outputs.first { $0.lockScript != recipient.lockScript }!.lockScript }
        #expect(Set(changeScripts).count == 3)
        let spent = sent.flatMap { $0.transaction.inputs.map(\.previousOutput) }
        #expect(Set(spent).count == spent.count)
        #expect(wallet.pendingTransactions == sent.map(\.transaction))
        // Abandoning the middle send drops it and the one spending its change; the first stays.
        let balanceBefore = wallet.balances.trusted
        try wallet.abandon(sent[1].txid)
        #expect(wallet.pendingTransactions == [sent[0].transaction])
        #expect(wallet.balances.trusted == sent[0].change && balanceBefore == sent[2].change)
        #expect(throws: WalletError.invalidParameter("Invalid or non-wallet transaction id")) { try wallet.abandon(sent[2].txid) }
        // Sent again (the pool never saw the abandoned ones), they chain as before.
        sent = [sent[0]]
        for _ in 0..<2 { sent.append(try wallet.send(to: recipient, amount: .coins(1)!, feeRate: 1_000) { _ in }) }
        #expect(wallet.pendingTransactions == sent.map(\.transaction))
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: sent.map(\.transaction)))
        wallet.synchronize()
        #expect(wallet.pendingTransactions.isEmpty)
        #expect(throws: WalletError.invalidParameter("Transaction not eligible for abandonment")) { try wallet.abandon(sent[0].txid) }
        #expect(wallet.transactions().filter { $0.category == .send }.map(\.confirmations) == [1, 1, 1])
        #expect(throws: WalletError.insufficientFunds) { try wallet.send(to: recipient, amount: .coins(1_000)!, feeRate: 1_000) { _ in } }
    }
}
