import Consensus
import Ed25519
import Foundation
import JSONRPC
import Masternodes
import Primitives
import Wallet

/// What a test needs to register a masternode on a regtest node: its keys (known to the
/// test), and the signed `mn-register` transaction spending a coinbase output the test's
/// funding key owns (collateral: output 0 of the same transaction).
struct TestMasternode {
    let name: String
    let collateralSeed: [UInt8]
    let ownerSeed: [UInt8]
    let operatorKeys: OperatorKeys
    var proTxHash: Hash256?

    init(name: String, index: UInt8) {
        self.name = name
        collateralSeed = [UInt8](repeating: 0x40 &+ index, count: 32)
        ownerSeed = [UInt8](repeating: 0x60 &+ index, count: 32)
        operatorKeys = try! OperatorKeys(operatorSeed: [UInt8](repeating: 0x80 &+ index, count: 32), // Fixed 32-byte seeds.
                                         encryptionSecret: [UInt8](repeating: 0xA0 &+ index, count: 32))
    }

    /// The signed registration: `coin` (a P2KH output of `funding`) pays the collateral and a change output.
    func registration(spending coin: OutPoint, _ spent: TxOut, funding: FundingKey, collateral: Amount, service: ServiceAddress) throws -> Transaction {
        let collateralKey = Ed25519.publicKey(seed: collateralSeed)
        let fee: UInt64 = 100_000
        guard spent.value.baseUnits > collateral.baseUnits + fee,
              let change = Amount(baseUnits: spent.value.baseUnits - collateral.baseUnits - fee) else {
            throw NetworkTestError("coin of \(spent.value.baseUnits) base units cannot pay a collateral of \(collateral.baseUnits)")
        }
        var payload = MasternodeRegisterPayload(collateral: OutPoint(txid: .zero, index: 0), collateralKey: collateralKey,
                                                ownerKey: Ed25519.publicKey(seed: ownerSeed), operatorKey: operatorKeys.operatorKey,
                                                operatorEncryptionKey: operatorKeys.encryptionKey, service: service,
                                                payoutScript: funding.lockScript)
        let outputs = [TxOut(value: collateral, lockScript: StandardScript.payToKeyHash(StandardScript.keyHash(collateralKey))),
                       TxOut(value: change, lockScript: funding.lockScript)]
        let inputs = [TxIn(previousOutput: coin, sequence: TxIn.finalSequence)]
        payload.inputsHash = SpecialPayloadCodec.inputsHash(of: payload.transaction(inputs: inputs, outputs: outputs))
        payload.sign(seed: collateralSeed)
        return funding.signed(payload.transaction(inputs: inputs, outputs: outputs), spent: spent)
    }
}

/// The key the test mines to and pays registrations from.
struct FundingKey {
    let seed = [UInt8](repeating: 0x17, count: 32)
    var publicKey: [UInt8] { Ed25519.publicKey(seed: seed) }
    var lockScript: [UInt8] { StandardScript.payToKeyHash(StandardScript.keyHash(publicKey)) }
    var address: String { Address(keyHash: StandardScript.keyHash(publicKey), network: "regtest").text }

    /// `transaction` with its input 0 (spending `spent`, an output to this key) signed.
    func signed(_ transaction: Transaction, spent: TxOut) -> Transaction {
        var signed = transaction
        let sighash = Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: spent)
        signed.witnesses[0] = [Ed25519.sign(message: sighash.bytes, seed: seed), publicKey]
        return signed
    }
}

extension TestNode {
    /// Output 0 of the coinbase of the block at `height` (getblock verbosity 0, decoded here).
    func coinbaseOutput(height: Int) throws -> (OutPoint, TxOut) {
        guard let hash = try rpc("getblockhash", [.int(height)]).stringValue,
              let hex = try rpc("getblock", [.string(hash), .int(0)]).stringValue,
              let bytes = HexCoding.decode(hex) else { throw NetworkTestError("\(name): no block at height \(height)") }
        var reader = ByteReader(bytes, path: "block")
        let block = try Block.decode(from: &reader)
        guard let coinbase = block.transactions.first, let output = coinbase.outputs.first else {
            throw NetworkTestError("\(name): block \(height) has no coinbase output")
        }
        return (OutPoint(txid: coinbase.txid, index: 0), output)
    }
}
