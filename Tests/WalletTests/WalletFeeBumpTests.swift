import ChainGen
import ChainState
import Consensus
import Foundation
import Primitives
import Testing
@testable import Wallet

/// bumpfee's wallet side: the replacement keeps inputs and payment, pays the higher fee out
/// of the change, is signed validly; the replaced send leaves the balance and the history
/// links the two; a block confirming either settles it.
@Suite struct WalletFeeBumpTests {
    static let subsidy = WalletFixtures.regtest.subsidy(height: 1).baseUnits

    /// A wallet holding one mature coinbase (height 1 of 101 blocks), unlocked, and a send of 10 coins at 2,000 per kB.
    static func walletWithSend() throws -> (ChainService, Wallet, TestMiner, SentTransaction, Address) {
        let (chain, directory) = try WalletFixtures.chain()
        let wallet = try WalletFixtures.wallet(chain, directory)
        let address = try wallet.newAddress()
        var miner = TestMiner(parameters: WalletFixtures.regtest)
        try chain.accept(miner.block(paying: address.lockScript))
        for _ in 2...101 { try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1))) }
        wallet.synchronize()
        try wallet.unlock(passphrase: WalletFixtures.passphrase, seconds: 600)
        let recipient = Address.from(lockScript: WalletFixtures.foreignScript(2), network: "regtest")!
        let sent = try wallet.send(to: recipient, amount: .coins(10)!, feeRate: 2_000) { _ in }
        return (chain, wallet, miner, sent, recipient)
    }

    @Test func aBumpPaysMoreFromTheChangeAndTheOldSendLeavesTheBalance() throws {
        let (chain, wallet, _, sent, recipient) = try Self.walletWithSend()
        let size = sent.transaction.encoded.count
        // Default: the old fee plus the incremental relay fee for its size.
        var broadcast: Transaction?
        let bump = try wallet.bumpFee(sent.txid, feeRate: nil, defaultFeeRate: 0, incrementalFeeRate: 1_000) { broadcast = $0 }
        let replacement = bump.replacement.transaction
        #expect(broadcast == replacement)
        #expect(bump.originalFee == sent.fee)
        #expect(bump.replacement.fee == sent.fee + CoinSelection.fee(rate: 1_000, bytes: size))
        #expect(replacement.encoded.count == size)
        #expect(replacement.inputs == sent.transaction.inputs)
        #expect(replacement.outputs.filter { $0.lockScript == recipient.lockScript }.map(\.value) == [.coins(10)!])
        let newChange = try #require(replacement.outputs.first { $0.lockScript != recipient.lockScript })
        #expect(newChange.value.baseUnits == Self.subsidy - Amount.coins(10)!.baseUnits - bump.replacement.fee)
        // Only the replacement's change counts; the replaced send's change is gone.
        #expect(wallet.balances.trusted == newChange.value.baseUnits)
        #expect(wallet.unspent(minimumConfirmations: 0).map(\.outpoint.txid) == [bump.replacement.txid])
        #expect(wallet.pendingTransactions == [replacement])
        // Both stay in the history, linked (same second: their order is by txid).
        let history = wallet.transactions(count: 100).filter { $0.category == .send }
        #expect(Set(history.map(\.txid)) == [sent.txid, bump.replacement.txid] && history.count == 2)
        #expect(history.first { $0.txid == sent.txid }?.replacedBy == bump.replacement.txid)
        #expect(history.first { $0.txid == bump.replacement.txid }?.replaces == sent.txid)
        #expect(wallet.transaction(sent.txid)?.trusted == false && wallet.transaction(bump.replacement.txid)?.trusted == true)

        // The replacement is signed validly: a block takes it.
        var miner = TestMiner(parameters: WalletFixtures.regtest, on: chain.snapshot.tipHeader)
        #expect(try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: [replacement])) == .connected)
        wallet.synchronize()
        #expect(wallet.transaction(bump.replacement.txid)?.confirmations == 1)
        // The replaced send stays in the history, still replaced, outside the balance.
        #expect(wallet.transaction(sent.txid)?.replacedBy == bump.replacement.txid)
        #expect(wallet.balances.trusted == newChange.value.baseUnits)
    }

    @Test func refusalsNameTheirCause() throws {
        let (chain, wallet, _, sent, _) = try Self.walletWithSend()
        let minimum = sent.fee + CoinSelection.fee(rate: 1_000, bytes: sent.transaction.encoded.count)
        // An explicit rate paying less than the pool's replacement rule asks.
        #expect(throws: WalletError.self) {
            try wallet.bumpFee(sent.txid, feeRate: 2_000, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in }
        }
        // A rate the change cannot pay.
        #expect(throws: WalletError.invalidParameter("Change output is too small to bump the fee")) {
            try wallet.bumpFee(sent.txid, feeRate: 1_000_000_000_000, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in }
        }
        #expect(throws: WalletError.invalidParameter("Invalid or non-wallet transaction id")) {
            try wallet.bumpFee(Hash256(bytes: [UInt8](repeating: 9, count: 32))!, feeRate: nil, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in }
        }
        // A broadcast that fails records nothing.
        struct Refused: Error {}
        #expect(throws: Refused.self) {
            try wallet.bumpFee(sent.txid, feeRate: nil, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in throw Refused() }
        }
        #expect(wallet.transaction(sent.txid)?.replacedBy == nil)
        // A higher default (the estimator's) wins over the minimum.
        let bump = try wallet.bumpFee(sent.txid, feeRate: nil, defaultFeeRate: 10_000, incrementalFeeRate: 1_000) { _ in }
        #expect(bump.replacement.fee == max(minimum, CoinSelection.fee(rate: 10_000, bytes: sent.transaction.encoded.count)))
        #expect(throws: WalletError.self) {
            try wallet.bumpFee(sent.txid, feeRate: nil, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in }
        }
        // Once mined, no bump.
        var miner = TestMiner(parameters: WalletFixtures.regtest, on: chain.snapshot.tipHeader)
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: [bump.replacement.transaction]))
        wallet.synchronize()
        #expect(throws: WalletError.invalidParameter("Transaction has been mined, or is conflicted with a mined transaction")) {
            try wallet.bumpFee(bump.replacement.txid, feeRate: nil, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in }
        }
        // Locked: no bump.
        wallet.lockNow()
        #expect(throws: WalletError.locked) {
            try wallet.bumpFee(bump.replacement.txid, feeRate: nil, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in }
        }
    }

    @Test func aBlockMiningTheReplacedSendRevivesItAndDropsTheReplacement() throws {
        let (chain, wallet, _, sent, _) = try Self.walletWithSend()
        let bump = try wallet.bumpFee(sent.txid, feeRate: nil, defaultFeeRate: 0, incrementalFeeRate: 1_000) { _ in }
        var miner = TestMiner(parameters: WalletFixtures.regtest, on: chain.snapshot.tipHeader)
        try chain.accept(miner.block(paying: WalletFixtures.foreignScript(1), transactions: [sent.transaction]))
        wallet.synchronize()
        #expect(wallet.transaction(bump.replacement.txid) == nil)
        let original = try #require(wallet.transaction(sent.txid))
        #expect(original.confirmations == 1 && original.replacedBy == nil)
        #expect(wallet.balances.trusted == sent.change)
    }
}
