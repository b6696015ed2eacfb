import ChainState
import Consensus
import Foundation
import Masternodes
import Primitives
import Testing
import TestSupport

/// The collateral rules through `ChainState.accept`, where the coins come from the chain's own
/// UTXO set with the block's outputs added and its spends removed (PROTOCOL 16.3: "after the
/// whole block"), not from a test's coin map.
@Suite(.serialized)
struct MasternodeCollateralTests {
    static let parameters = MasternodeChainTests.parameters
    static let genesis = MasternodeChainTests.genesis

    /// A chain state holding a few masternodes, the blocks, and their history.
    static func setUp(directory: String) throws -> (ChainState, [Block], MasternodeHistory) {
        let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 64)
        var history = try MasternodeHistory(parameters: parameters, genesis: genesis, seed: 0x6D6E_30)
        var chain = try MasternodeChainTests.build(&history, on: [], count: 103, actions: 0)
        while (history.list(after: chain.last!.hash)?.count ?? 0) < 2 {
            chain.append(try history.nextBlock(on: chain.last!.header, actions: 4, only: [.registerInternal, .fundCollateral, .registerExternal]))
        }
        for block in chain { try state.accept(block) }
        return (state, chain, history)
    }

    /// The block after `chain` with `transactions`, committing the list its recomputation gives
    /// (or a zero extension root when the recomputation rejects it).
    static func block(after chain: [Block], _ transactions: [Transaction]) -> Block {
        var block = TestBlocks.next(after: chain.last!.header, parameters: parameters,
                                    coinbaseOutputs: [TxOut(value: Amount(baseUnits: 1)!, lockScript: [0x51])],
                                    transactions: transactions, extensionRoot: .zero)
        if let list = try? TestBlocks.recomputeMasternodes(chain + [block], parameters: MasternodeParameters(parameters.chain)).list {
            TestBlocks.seal(&block, extensionRoot: ExtensionRoot.compute(masternodes: list.computedRoot))
        }
        return block
    }

    /// A transaction paying the collateral to `keys`' collateral key (output 0), change to `change`.
    static func funding(_ keys: TestMasternodeKeys, collateral: Amount, from coin: TestCoin, change: TestKey) -> Transaction {
        TestTransactions.spend([coin], to: [TxOut(value: collateral, lockScript: keys.collateral.lockScript),
                                                   TxOut(value: Amount(baseUnits: coin.output.value.baseUnits - collateral.baseUnits - 1_000)!,
                                                         lockScript: change.lockScript)])
    }

    @Test("mn-collateral-missing: an external collateral spent by a later transaction of the same block; the list and tip are unchanged")
    func collateralSpentLaterInBlock() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, setUpChain, setUpHistory) = try Self.setUp(directory: directory)
        var chain = setUpChain, history = setUpHistory
        var generator = SeededGenerator(seed: 31)
        let keys = TestMasternodeKeys(using: &generator)
        let collateral = state.masternodeParameters.collateral
        let coinFound = history.walletCoin(after: chain.last!.hash, atLeast: Amount(baseUnits: collateral.baseUnits + 10_000)!)
        let coin = try #require(coinFound)
        // The history knows only its own blocks: the fee coin is taken before the funding block.
        let feeCoinFound = history.walletCoin(after: chain.last!.hash, atLeast: Amount(baseUnits: 10_000)!, excluding: [coin.outpoint])
        let feeCoin = try #require(feeCoinFound)
        let fund = Self.funding(keys, collateral: collateral, from: coin, change: history.newWalletKey())
        chain.append(Self.block(after: chain, [fund]))
        try state.accept(chain.last!)
        let outpoint = OutPoint(txid: fund.txid, index: 0)
        let listBefore = state.masternodes, tipBefore = state.tip.hash

        let register = TestTransactions.special(
            keys.registerPayload(collateral: outpoint, service: ServiceAddress(ipv4: (198, 51, 100, 30), port: 9999), payoutScript: [0x51]),
            signer: keys.collateral, spending: [feeCoin],
            to: [TxOut(value: Amount(baseUnits: feeCoin.output.value.baseUnits - 1_000)!, lockScript: history.newWalletKey().lockScript)])
        let collateralCoin = TestCoin(outpoint: outpoint, output: fund.outputs[0], key: keys.collateral)
        let spend = TestTransactions.spend([collateralCoin], to: [TxOut(value: Amount(baseUnits: collateral.baseUnits - 1_000)!, lockScript: [0x51])])
        RuleTests.expectRejected(state, Self.block(after: chain, [register, spend]), .masternodeCollateralMissing, transaction: 1)
        #expect(state.masternodes == listBefore && state.tip.hash == tipBefore)
        // Without the spend the same registration connects: the coin was there before the block.
        let good = Self.block(after: chain, [register])
        #expect(try state.accept(good) == .connected)
        #expect(state.masternodes[register.txid]?.collateral == outpoint)
        try MasternodeChainTests.expectMatches(state, chain + [good])
    }

    @Test("mn-collateral-used and mn-collateral-amount against the chain's coins")
    func collateralUsedAndAmount() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, chain, setUpHistory) = try Self.setUp(directory: directory)
        var history = setUpHistory
        let listBefore = state.masternodes, tipBefore = state.tip.hash
        let entry = state.masternodes.sorted[0]
        let holderKeys = try #require(history.masternodeKeys(owner: entry.ownerKey))
        var generator = SeededGenerator(seed: 32)
        // Fresh owner and operator keys, so only the collateral is in use.
        var keys = TestMasternodeKeys(using: &generator)
        keys.collateral = holderKeys.collateral
        let feeCoinFound = history.walletCoin(after: chain.last!.hash, atLeast: Amount(baseUnits: 20_000)!)
        let feeCoin = try #require(feeCoinFound)
        let change = [TxOut(value: Amount(baseUnits: feeCoin.output.value.baseUnits - 1_000)!, lockScript: history.newWalletKey().lockScript)]
        let used = TestTransactions.special(
            keys.registerPayload(collateral: entry.collateral, service: ServiceAddress(ipv4: (198, 51, 100, 31), port: 9999), payoutScript: [0x51]),
            signer: keys.collateral, spending: [feeCoin], to: change)
        RuleTests.expectRejected(state, Self.block(after: chain, [used]), .masternodeCollateralUsed, transaction: 1)
        #expect(state.masternodes == listBefore && state.tip.hash == tipBefore)

        // A wallet coin of another amount, paid to the key that signs as collateral key.
        let otherFound = history.walletCoin(after: chain.last!.hash, atLeast: Amount(baseUnits: 20_000)!, excluding: [feeCoin.outpoint])
        let other = try #require(otherFound)
        #expect(other.output.value != state.masternodeParameters.collateral)
        keys.collateral = other.key
        let wrongAmount = TestTransactions.special(
            keys.registerPayload(collateral: other.outpoint, service: ServiceAddress(ipv4: (198, 51, 100, 32), port: 9999), payoutScript: [0x51]),
            signer: keys.collateral, spending: [feeCoin], to: change)
        RuleTests.expectRejected(state, Self.block(after: chain, [wrongAmount]), .masternodeCollateralAmount, transaction: 1)
        #expect(state.masternodes == listBefore && state.tip.hash == tipBefore)
    }

    @Test("a registration whose external collateral a later transaction of the same block creates connects (unspent after the whole block)")
    func collateralCreatedLaterInBlock() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (state, setUpChain, setUpHistory) = try Self.setUp(directory: directory)
        var chain = setUpChain, history = setUpHistory
        var generator = SeededGenerator(seed: 33)
        let keys = TestMasternodeKeys(using: &generator)
        let collateral = state.masternodeParameters.collateral
        let coinFound = history.walletCoin(after: chain.last!.hash, atLeast: Amount(baseUnits: collateral.baseUnits + 10_000)!)
        let coin = try #require(coinFound)
        let fund = Self.funding(keys, collateral: collateral, from: coin, change: history.newWalletKey())
        let feeCoinFound = history.walletCoin(after: chain.last!.hash, atLeast: Amount(baseUnits: 10_000)!, excluding: [coin.outpoint])
        let feeCoin = try #require(feeCoinFound)
        let outpoint = OutPoint(txid: fund.txid, index: 0)
        let register = TestTransactions.special(
            keys.registerPayload(collateral: outpoint, service: ServiceAddress(ipv4: (198, 51, 100, 33), port: 9999), payoutScript: [0x51]),
            signer: keys.collateral, spending: [feeCoin],
            to: [TxOut(value: Amount(baseUnits: feeCoin.output.value.baseUnits - 1_000)!, lockScript: history.newWalletKey().lockScript)])
        let block = Self.block(after: chain, [register, fund])
        #expect(try state.accept(block) == .connected)
        #expect(state.masternodes[register.txid]?.collateral == outpoint)
        chain.append(block)
        try MasternodeChainTests.expectMatches(state, chain)
    }
}
