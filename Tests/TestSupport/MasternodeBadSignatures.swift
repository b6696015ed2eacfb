// Blocks whose one special transaction carries a payload signature by the wrong key, for
// the tests that a block connection rejects it with special-signature on every path (the
// signature is verified in the block's batch, after the list has taken the change).

import Consensus
import Masternodes
import Primitives

public struct BadPayloadSignatureError: Error, CustomStringConvertible {
    public var description: String
}

extension MasternodeHistory {
    /// A block on `parent` whose only transaction besides the coinbase is a valid `action`
    /// with its payload signed again by an unrelated key and its inputs signed again, so the
    /// payload signature is the only thing wrong. Sealed with the extension root of the list
    /// with the change applied (the signature unchecked: what a header built for it commits
    /// to) or, with `parentRoot`, of the parent's list.
    public mutating func blockWithBadPayloadSignature(on parent: BlockHeader, _ action: Action,
                                                      parentRoot: Bool = false) throws -> (block: Block, extensionRoot: Hash256) {
        guard let state = after[parent.hash] else { throw BadPayloadSignatureError(description: "parent \(parent.hash.hex) not built here") }
        for _ in 0..<32 {
            var block = try nextBlock(on: parent, actions: 1, only: [action])
            guard block.transactions.count == 2, block.transactions[1].isSpecial else { continue }
            let wrongKey = TestKey(using: &random)
            let original = block.transactions[1]
            let coins = try original.inputs.map { input in
                guard let coin = state.coins[input.previousOutput], let key = walletKey(coin.output.lockScript) else {
                    throw BadPayloadSignatureError(description: "no wallet coin for \(input.previousOutput)")
                }
                return TestCoin(outpoint: input.previousOutput, output: coin.output, key: key)
            }
            let resigned: Transaction
            switch original.specialType {
            case .masternodeRegister: resigned = try Self.resign(MasternodeRegisterPayload.self, original, seed: wrongKey.seed)
            case .masternodeUpdateService: resigned = try Self.resign(MasternodeUpdateServicePayload.self, original, seed: wrongKey.seed)
            case .masternodeUpdateRegistrar: resigned = try Self.resign(MasternodeUpdateRegistrarPayload.self, original, seed: wrongKey.seed)
            case .masternodeRevoke: resigned = try Self.resign(MasternodeRevokePayload.self, original, seed: wrongKey.seed)
            case .quorumCommitment, .governanceProposal, .governanceVote, nil: continue  // history blocks carry none of these
            }
            block.transactions[1] = TestTransactions.signed(resigned, spending: coins)
            var list = state.list
            if !parentRoot {
                var after = state.coins
                let txids = block.transactions.map(\.txid)
                TestBlocks.applyCoins(block, txids: txids, to: &after)
                let final = after
                let (_, signatures) = try MasternodeRules.applyDeferringSignatures(block, txids: txids, height: block.header.height, to: &list,
                                                                                   parameters: masternodeParameters, coin: { final[$0] })
                guard signatures.firstFailure() == 0 else { throw BadPayloadSignatureError(description: "the re-signed payload verifies") }
            }
            let extensionRoot = ExtensionRoot.compute(masternodes: list.root())
            TestBlocks.seal(&block, extensionRoot: extensionRoot)
            return (block, extensionRoot)
        }
        throw BadPayloadSignatureError(description: "no valid \(action) on \(parent.hash.hex) in 32 tries")
    }

    static func resign<P: SpecialPayload>(_ type: P.Type, _ transaction: Transaction, seed: [UInt8]) throws -> Transaction {
        var payload = try P.decode(payload: transaction.payload)
        payload.sign(seed: seed)
        return payload.transaction(inputs: transaction.inputs, outputs: transaction.outputs, lockTime: transaction.lockTime)
    }
}
