import ChainState
import Consensus
import Foundation
import Masternodes
import Mining
import Primitives
import Testing
import TestSupport

/// Block templates apply their transactions to a copy of the tip's masternode list: a special
/// transaction the rules reject there is left out with its descendants (and their fees), and
/// the header commits to the list after the block, so the mined block connects.
@Suite(.serialized)
struct MasternodeTemplateTests {
    @Test("a template drops a special transaction that fails on the tip's list (and its child), commits the extension root, and its block connects")
    func templateDropsAndCommits() throws {
        let directory = Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let parameters = Fixtures.regtest
        let state = try ChainState(directory: directory, parameters: parameters, cacheMiB: 64)
        let genesis = parameters.chain.genesisBlock().header
        var history = try MasternodeHistory(parameters: parameters, genesis: genesis, seed: 0x6D6E_1B)
        var parent = genesis
        for index in 0..<110 {
            let block = try history.nextBlock(on: parent, actions: index < 101 ? 0 : 4, only: [.registerInternal, .fundCollateral, .registerExternal])
            try state.accept(block)
            parent = block.header
        }
        let entries = state.masternodes.sorted
        #expect(entries.count >= 3)
        guard entries.count >= 3, let operatorA = history.operatorKey(entries[0].operatorKey), let operatorB = history.operatorKey(entries[1].operatorKey),
              let operatorC = history.operatorKey(entries[2].operatorKey) else { return }

        var excluded = Set<OutPoint>()
        func feeCoin() throws -> TestCoin {
            let found = history.walletCoin(after: state.tip.hash, atLeast: Amount(baseUnits: 100_000)!, excluding: excluded)
            let coin = try #require(found)
            excluded.insert(coin.outpoint)
            return coin
        }
        func change(_ coin: TestCoin) -> [TxOut] {
            [TxOut(value: Amount(baseUnits: coin.output.value.baseUnits - MasternodeHistory.fee.baseUnits)!, lockScript: history.newWalletKey().lockScript)]
        }
        let service = ServiceAddress(ipv4: (198, 51, 100, 7), port: 9999)
        let coinA = try feeCoin(), coinB = try feeCoin(), coinC = try feeCoin()
        let updateA = TestTransactions.special(MasternodeUpdateServicePayload(proTxHash: entries[0].proTxHash, service: service),
                                               signer: operatorA, spending: [coinA], to: change(coinA))
        // The same service for another masternode: mn-duplicate-service once A's update applied.
        let updateB = TestTransactions.special(MasternodeUpdateServicePayload(proTxHash: entries[1].proTxHash, service: service),
                                               signer: operatorB, spending: [coinB], to: change(coinB))
        let childCoin = TestCoin(outpoint: OutPoint(txid: updateB.txid, index: 0), output: updateB.outputs[0],
                                 key: try #require(history.walletKey(updateB.outputs[0].lockScript)))
        let child = TestTransactions.spend([childCoin], to: change(childCoin))
        let revokeC = TestTransactions.special(MasternodeRevokePayload(proTxHash: entries[2].proTxHash, reason: 1),
                                               signer: operatorC, spending: [coinC], to: change(coinC))
        let transactions = [updateA, updateB, child, revokeC]
        var template = try TemplateBuilder.make(on: state, payout: [0x51], now: state.tip.header.time + 150, transactions: transactions,
                                                ids: transactions.map(\.ids), fees: Amount(baseUnits: 4 * MasternodeHistory.fee.baseUnits)!)
        #expect(template.dropped == [updateB.txid, child.txid])
        #expect(template.transactions.dropFirst().map(\.txid) == [updateA.txid, revokeC.txid])
        #expect(template.fees == Amount(baseUnits: 2 * MasternodeHistory.fee.baseUnits)!)
        var expected = state.masternodes
        var undo = MasternodeListUndo()
        for transaction in [updateA, revokeC] {
            try MasternodeRules.apply(transaction, txid: transaction.txid, height: state.tip.height + 1, to: &expected, undo: &undo,
                                      parameters: state.masternodeParameters, coin: { _ in nil })
        }
        #expect(template.extensionRoot == ExtensionRoot.compute(masternodes: expected.root()))
        #expect(template.extensionRoot != .zero)

        // A new extra nonce keeps the commitment; the mined block connects.
        template.rollExtraNonce()
        var header = template.header
        TestBlocks.mine(&header)
        #expect(try state.accept(template.block(nonce: header.nonce)) == .connected)
        #expect(state.masternodes == expected)
        #expect(state.masternodes[entries[0].proTxHash]?.service == service && state.masternodes[entries[2].proTxHash]?.isRevoked == true)
    }

    @Test("without masternodes a template's state root is the witness root's alone, as before")
    func templateWithoutMasternodes() throws {
        let (state, _, directory) = try Fixtures.chain(blocks: 3, seed: 21, transactions: 2)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let template = try TemplateBuilder.make(on: state, payout: [0x51], now: state.tip.header.time + 150)
        #expect(template.extensionRoot == .zero && template.dropped.isEmpty)
        #expect(template.header.stateRoot == template.block(nonce: 0).computeStateRoot())
    }
}
