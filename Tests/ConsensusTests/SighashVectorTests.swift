import Consensus
import Ed25519
import Primitives
import Testing

/// Known-answer vectors for the sighash and the pay-to-key-hash template (PROTOCOL
/// section 10, "Known-answer vectors"), computed outside this code base: b3sum's keyed mode over bytes built in
/// Python, the signature with the `cryptography` package's RFC 8032 signer.
struct SighashVectorTests {
    // The same sample transaction as Tests/PrimitivesTests/KnownAnswerTests.swift.
    static let transaction = "02000000021111111111111111111111111111111111111111111111111111111111111111"
        + "01000000feffffff222222222222222222222222222222222222222222222222222222222222222200000000ffffffff"
        + "0280d1f008000000002576a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"
        + "68bf000000000000056a036b61746400000000000000"
        + "024016c112877abefeedf8a999ec5a2757e9b8ca5aa675969c1f622b61c12daafe01c20d3e82b5ef3b555402b1df056a7c48776a2fd7a5d1547916d70c66b98c1600"
        + "20d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a01020102"
    static let txid = "05a0ea67133bf7db1e983f2c17b331426529759c36aee9331f9a36fc2763ecb5"
    static let sighashKey = "9904ce9e2ee84fe4825285e9211c70d20591358ed1b4a451c9aea52f507c5797"
    static let sighash = "112939929087799be72b5d01031016761d362ff2492049f399dfee2eda7eb15f"
    /// RFC 8032 section 7.1 test 1: secret seed and public key.
    static let seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    static let publicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    static let keyHash = "6c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f0062"
    static let payToKeyHash = "76a0206c31041268f471609c79f5f2dbcc38e4a4ab2f4d416109a4e09fcf50fd0f006288ac"
    static let signature = "16c112877abefeedf8a999ec5a2757e9b8ca5aa675969c1f622b61c12daafe01c20d3e82b5ef3b555402b1df056a7c48776a2fd7a5d1547916d70c66b98c1600"

    static func bytes(_ hex: String) -> [UInt8] { HexCoding.decode(hex)! }

    @Test("sighash of input 0 (spending 2 RUST locked to the key hash), K_sighash, key hash and template bytes")
    func sighashVector() throws {
        let transaction = try Transaction(decoding: Self.bytes(Self.transaction))
        let spent = TxOut(value: Amount(baseUnits: 200_000_000)!, lockScript: Self.bytes(Self.payToKeyHash))
        #expect(HexCoding.encode(Sighash.key) == Self.sighashKey)
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: spent).hex == Self.sighash)
        let context = ScriptContext(transaction: transaction, inputIndex: 0, spentOutput: spent)
        #expect(context.txid.hex == Self.txid && context.sighash.hex == Self.sighash)
        // Each committed field moves it: input index, value, lock script.
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 1, spentOutput: spent).hex != Self.sighash)
        var otherValue = spent
        otherValue.value = Amount(baseUnits: 200_000_001)!
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: otherValue).hex != Self.sighash)
        var otherScript = spent
        otherScript.lockScript[3] ^= 1
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: otherScript).hex != Self.sighash)

        // The template and key hash.
        #expect(StandardScript.keyHash(Self.bytes(Self.publicKey)).hex == Self.keyHash)
        #expect(HexCoding.encode(StandardScript.payToKeyHash(StandardScript.keyHash(Self.bytes(Self.publicKey)))) == Self.payToKeyHash)

        // RFC 8032 signing of the sighash gives the witness signature, and the input spends.
        #expect(Ed25519.publicKey(seed: Self.bytes(Self.seed)) == Self.bytes(Self.publicKey))
        #expect(Ed25519.sign(message: context.sighash.bytes, seed: Self.bytes(Self.seed)) == Self.bytes(Self.signature))
        let checks = try ScriptInterpreter.verify(witness: transaction.witnesses[0], lockScript: spent.lockScript, context: context)
        #expect(checks == [SignatureCheck(publicKey: Self.bytes(Self.publicKey), signature: Self.bytes(Self.signature), message: context.sighash)])
        #expect(Ed25519.verify(signature: Self.bytes(Self.signature), message: context.sighash.bytes, publicKey: Self.bytes(Self.publicKey)))
    }
}
