// A generator of random masternode histories: chains of valid blocks whose transactions
// register masternodes (collateral inside the registration or an earlier output), update
// their service and keys, revoke and revive them, and spend their collaterals. It keeps the
// state after every block it built (by hash), so a branch can start from any of them.

import Consensus
import Masternodes
import Primitives

public struct MasternodeHistory {
    public let parameters: ConsensusParameters
    public let masternodeParameters: MasternodeParameters
    public var random: SeededGenerator
    /// The masternode list and UTXO set after each block built (and genesis).
    public private(set) var after: [Hash256: (list: MasternodeList, coins: [OutPoint: Coin])] = [:]
    /// Keys of every wallet output, by lock script.
    private var wallet: [[UInt8]: TestKey] = [:]
    /// Keys of every masternode registered or prepared, by collateral key.
    private var masternodeKeys: [[UInt8]: TestMasternodeKeys] = [:]
    /// Operator keys by public key (update-registrar names new ones).
    private var operators: [[UInt8]: TestKey] = [:]
    private var nextPort: UInt16 = 1
    public static let fee = Amount(baseUnits: 1_000)!
    /// A coin that pays a fee and leaves change.
    static let feeCoinValue = Amount(baseUnits: 1_001)!

    public init(parameters: ConsensusParameters, genesis: BlockHeader, seed: UInt64) throws {
        self.parameters = parameters
        masternodeParameters = try MasternodeParameters(parameters.chain)
        random = SeededGenerator(seed: seed)
        after[genesis.hash] = (MasternodeList(), [:])
    }

    public enum Action: CaseIterable, Sendable {
        case fundCollateral, registerInternal, registerExternal, updateService, updateRegistrar, revoke, spendCollateral
    }

    /// The next block on `parent` (built by this history, or genesis) with up to `actions`
    /// random masternode actions; every action it holds is valid.
    public mutating func nextBlock(on parent: BlockHeader, actions: Int, only: [Action] = Action.allCases) throws -> Block {
        guard let state = after[parent.hash] else { throw HistoryBuildError("block \(parent.hash.hex) was not built by this history") }
        let height = parent.height + 1
        var blockCoins = state.coins
        var list = state.list
        var undo = MasternodeListUndo()
        var transactions = [Transaction]()
        var used = Set<OutPoint>()
        for _ in 0..<actions {
            guard let action = only.randomElement(using: &random),
                  let transaction = make(action, height: height, list: list, coins: blockCoins, used: &used) else { continue }
            // Kept only if valid where it stands (the coins as they would be after it).
            var trial = blockCoins
            let txid = transaction.txid
            TestBlocks.applyCoins(transaction, txid: txid, height: height, isCoinbase: false, to: &trial)
            var trialList = list
            var trialUndo = undo
            do {
                try MasternodeRules.apply(transaction, txid: txid, height: height, to: &trialList, undo: &trialUndo,
                                          parameters: masternodeParameters, coin: { trial[$0] })
            } catch is Rejection {
                continue
            }
            list = trialList
            undo = trialUndo
            blockCoins = trial
            transactions.append(transaction)
        }
        let fees = Amount(baseUnits: Self.fee.baseUnits * UInt64(transactions.count))!
        let payout = newWalletKey()
        let reward = parameters.subsidy(height: height).adding(fees)!
        var block = TestBlocks.next(after: parent, parameters: parameters, coinbaseOutputs: [TxOut(value: reward, lockScript: payout.lockScript)],
                                    transactions: transactions, extensionRoot: .zero)
        // The list after the whole block (collateral lookups see the block's final coins).
        var coins = state.coins
        let txids = block.transactions.map(\.txid)
        TestBlocks.applyCoins(block, txids: txids, to: &coins)
        var final = state.list
        _ = try MasternodeRules.apply(block, txids: txids, height: height, to: &final, parameters: masternodeParameters, coin: { coins[$0] })
        TestBlocks.seal(&block, extensionRoot: ExtensionRoot.compute(masternodes: final.root()))
        after[block.hash] = (final, coins)
        return block
    }

    /// A mature wallet coin unspent after block `hash` worth at least `value`, outside `excluding`
    /// (for transactions a test builds itself).
    public mutating func walletCoin(after hash: Hash256, atLeast value: Amount, excluding: Set<OutPoint> = []) -> TestCoin? {
        guard let state = after[hash], let height = state.coins.values.map(\.height).max() else { return nil }
        var used = excluding
        return walletCoin(atLeast: value, height: height + 1, coins: state.coins, list: state.list, used: &used)
    }

    /// The wallet key paying to `lockScript`.
    public func walletKey(_ lockScript: [UInt8]) -> TestKey? { wallet[lockScript] }

    /// A fresh key whose outputs count as the wallet's.
    public mutating func newWalletKey() -> TestKey {
        let key = TestKey(using: &random)
        wallet[key.lockScript] = key
        return key
    }

    /// The secret of an operator key this history made.
    public func operatorKey(_ publicKey: [UInt8]) -> TestKey? { operators[publicKey] }

    /// The keys of the masternode whose owner key is `ownerKey`.
    public func masternodeKeys(owner ownerKey: [UInt8]) -> TestMasternodeKeys? {
        masternodeKeys.values.first { $0.owner.publicKey == ownerKey }
    }

    /// The masternode list after a block this history built.
    public func list(after hash: Hash256) -> MasternodeList? { after[hash]?.list }

    private mutating func newService() -> ServiceAddress {
        nextPort &+= 1
        return ServiceAddress(ipv4: (10, UInt8(nextPort >> 8), UInt8(nextPort & 0xFF), 1), port: 9999)
    }

    /// A spendable wallet coin worth at least `value` (not a collateral), marked used.
    private mutating func walletCoin(atLeast value: Amount, height: UInt64, coins: [OutPoint: Coin], list: MasternodeList,
                                     used: inout Set<OutPoint>) -> TestCoin? {
        let candidates = coins.filter { outpoint, coin in
            !used.contains(outpoint) && wallet[coin.output.lockScript] != nil && coin.output.value.baseUnits >= value.baseUnits
                && (!coin.isCoinbase || height - coin.height >= parameters.coinbaseMaturity) && list.byCollateral(outpoint) == nil
        }
        // Sorted first: dictionary order is not reproducible.
        guard let (outpoint, coin) = candidates.sorted(by: { $0.key.storageOrder.lexicographicallyPrecedes($1.key.storageOrder) }).randomElement(using: &random),
              let key = wallet[coin.output.lockScript] else { return nil }
        used.insert(outpoint)
        return TestCoin(outpoint: outpoint, output: coin.output, key: key)
    }

    private func change(_ coin: TestCoin, minus spent: Amount, to key: TestKey) -> [TxOut] {
        let left = coin.output.value.baseUnits - spent.baseUnits - Self.fee.baseUnits
        return left > 0 ? [TxOut(value: Amount(baseUnits: left)!, lockScript: key.lockScript)] : []
    }

    private mutating func make(_ action: Action, height: UInt64, list: MasternodeList, coins: [OutPoint: Coin],
                               used: inout Set<OutPoint>) -> Transaction? {
        let collateral = masternodeParameters.collateral
        let needed = Amount(baseUnits: collateral.baseUnits + Self.fee.baseUnits + 1)!
        let entries = list.sorted
        switch action {
        case .fundCollateral:
            guard let coin = walletCoin(atLeast: needed, height: height, coins: coins, list: list, used: &used) else { return nil }
            let keys = TestMasternodeKeys(using: &random)
            masternodeKeys[keys.collateral.publicKey] = keys
            return TestTransactions.spend([coin], to: [TxOut(value: collateral, lockScript: keys.collateral.lockScript)]
                                          + change(coin, minus: collateral, to: newWalletKey()))
        case .registerInternal:
            guard let coin = walletCoin(atLeast: needed, height: height, coins: coins, list: list, used: &used) else { return nil }
            let keys = TestMasternodeKeys(using: &random)
            masternodeKeys[keys.collateral.publicKey] = keys
            operators[keys.operatorKey.publicKey] = keys.operatorKey
            let payload = keys.registerPayload(collateral: OutPoint(txid: .zero, index: 0), service: newService(),
                                               payoutScript: newWalletKey().lockScript)
            return TestTransactions.special(payload, signer: keys.collateral, spending: [coin],
                                            to: [TxOut(value: collateral, lockScript: keys.collateral.lockScript)]
                                                + change(coin, minus: collateral, to: newWalletKey()))
        case .registerExternal:
            let prepared = coins.filter { outpoint, coin in
                coin.output.value == collateral && list.byCollateral(outpoint) == nil && !used.contains(outpoint)
                    && masternodeKeys.values.contains { $0.collateral.lockScript == coin.output.lockScript }
            }.keys.sorted { $0.storageOrder.lexicographicallyPrecedes($1.storageOrder) }
            guard let outpoint = prepared.randomElement(using: &random), let coin = coins[outpoint],
                  let keys = masternodeKeys.values.first(where: { $0.collateral.lockScript == coin.output.lockScript }),
                  let feeCoin = walletCoin(atLeast: Self.feeCoinValue, height: height, coins: coins, list: list, used: &used) else { return nil }
            used.insert(outpoint)
            operators[keys.operatorKey.publicKey] = keys.operatorKey
            let payload = keys.registerPayload(collateral: outpoint, service: newService(), payoutScript: newWalletKey().lockScript)
            return TestTransactions.special(payload, signer: keys.collateral, spending: [feeCoin], to: change(feeCoin, minus: .zero, to: newWalletKey()))
        case .updateService:
            guard let entry = entries.filter({ !$0.isRevoked }).randomElement(using: &random), let key = operators[entry.operatorKey],
                  let feeCoin = walletCoin(atLeast: Self.feeCoinValue, height: height, coins: coins, list: list, used: &used) else { return nil }
            let payload = MasternodeUpdateServicePayload(proTxHash: entry.proTxHash, service: newService())
            return TestTransactions.special(payload, signer: key, spending: [feeCoin], to: change(feeCoin, minus: .zero, to: newWalletKey()))
        case .updateRegistrar:
            guard let entry = entries.randomElement(using: &random),
                  let keys = masternodeKeys.values.first(where: { $0.owner.publicKey == entry.ownerKey }),
                  let feeCoin = walletCoin(atLeast: Self.feeCoinValue, height: height, coins: coins, list: list, used: &used) else { return nil }
            let newOperator = TestKey(using: &random)
            operators[newOperator.publicKey] = newOperator
            let encryption = (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }
            let payload = MasternodeUpdateRegistrarPayload(proTxHash: entry.proTxHash, operatorKey: newOperator.publicKey,
                                                           operatorEncryptionKey: encryption, payoutScript: newWalletKey().lockScript)
            return TestTransactions.special(payload, signer: keys.owner, spending: [feeCoin], to: change(feeCoin, minus: .zero, to: newWalletKey()))
        case .revoke:
            guard let entry = entries.filter({ !$0.isBanned }).randomElement(using: &random), let key = operators[entry.operatorKey],
                  let feeCoin = walletCoin(atLeast: Self.feeCoinValue, height: height, coins: coins, list: list, used: &used) else { return nil }
            let payload = MasternodeRevokePayload(proTxHash: entry.proTxHash, reason: UInt16.random(in: 0...MasternodeRevokePayload.maxReason, using: &random))
            return TestTransactions.special(payload, signer: key, spending: [feeCoin], to: change(feeCoin, minus: .zero, to: newWalletKey()))
        case .spendCollateral:
            // Registered in an earlier block: a registration's collateral must be unspent after its block.
            guard let entry = entries.filter({ !used.contains($0.collateral) && $0.registeredHeight < height }).randomElement(using: &random),
                  let coin = coins[entry.collateral],
                  let keys = masternodeKeys.values.first(where: { $0.collateral.lockScript == coin.output.lockScript }) else { return nil }
            used.insert(entry.collateral)
            let input = TestCoin(outpoint: entry.collateral, output: coin.output, key: keys.collateral)
            return TestTransactions.spend([input], to: change(input, minus: .zero, to: newWalletKey()))
        }
    }
}

public struct HistoryBuildError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension OutPoint {
    /// A total order for reproducible choices among outpoints.
    var storageOrder: [UInt8] { txid.bytes + [UInt8(index >> 24), UInt8(truncatingIfNeeded: index >> 16), UInt8(truncatingIfNeeded: index >> 8), UInt8(truncatingIfNeeded: index)] }
}
