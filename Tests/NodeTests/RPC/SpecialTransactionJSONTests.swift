import JSONRPC
import Masternodes
import Primitives
import Testing
import TestSupport
@testable import Node

/// decoderawtransaction's view of special transactions: the type, the raw payload and its
/// decoded fields; a payload that does not decode is shown with the reason, not dropped.
struct SpecialTransactionJSONTests {
    static func register() -> (Transaction, TestMasternodeKeys) {
        var generator = SeededGenerator(seed: 0x5EC1A1)
        let keys = TestMasternodeKeys(using: &generator)
        let funding = TestKey(using: &generator)
        let coin = TestCoin(outpoint: OutPoint(txid: Hash256(bytes: [UInt8](repeating: 7, count: 32))!, index: 0),
                            output: TxOut(value: Amount.coins(11)!, lockScript: funding.lockScript), key: funding)
        let payload = keys.registerPayload(collateral: OutPoint(txid: .zero, index: 0), service: ServiceAddress("10.1.2.3:29373")!,
                                           payoutScript: funding.lockScript)
        let outputs = [TxOut(value: Amount.coins(10)!, lockScript: keys.collateral.lockScript)]
        return (TestTransactions.special(payload, signer: keys.collateral, spending: [coin], to: outputs), keys)
    }

    @Test("a registration decodes into proRegTx with its keys, service and collateral")
    func registerFields() throws {
        let (transaction, keys) = Self.register()
        let object = ChainJSON.transaction(transaction)
        #expect(object["type"] == .int(1))
        #expect(object["extraPayloadSize"] == .int(transaction.payload.count))
        #expect(object["extraPayload"] == .string(HexCoding.encode(transaction.payload)))
        let fields = try #require(object["proRegTx"]?.objectValue)
        #expect(fields["service"] == .string("10.1.2.3:29373"))
        #expect(fields["collateralIndex"] == .int(0))
        #expect(fields["ownerKey"] == .string(HexCoding.encode(keys.owner.publicKey)))
        #expect(fields["operatorKey"] == .string(HexCoding.encode(keys.operatorKey.publicKey)))
        #expect(object["payloadError"] == nil)
    }

    @Test("ordinary transactions say type 0 and carry no payload fields; a broken payload names its error")
    func ordinaryAndBroken() {
        let (special, _) = Self.register()
        var ordinary = special
        ordinary.version = 2
        ordinary.payload = []
        let plain = ChainJSON.transaction(ordinary)
        #expect(plain["type"] == .int(0) && plain["extraPayload"] == nil && plain["proRegTx"] == nil)
        var broken = special
        broken.payload.removeLast()
        let object = ChainJSON.transaction(broken)
        #expect(object["proRegTx"] == nil)
        #expect(object["payloadError"]?.stringValue?.contains("signature") == true)
    }
}
