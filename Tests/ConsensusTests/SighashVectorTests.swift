import Consensus
import Ed25519
import Primitives
import Testing
import TestSupport

/// Known-answer vectors for the sighash and the pay-to-key-hash template (PROTOCOL
/// section 10, "Known-answer vectors"), computed outside this code base: b3sum's keyed mode over bytes built in
/// Python, the signature with the `cryptography` package's RFC 8032 signer.
struct SighashVectorTests {
    // The vectors live in TestSupport (KnownAnswers), shared with the Primitives and chain-state tests.
    typealias K = KnownAnswers

    @Test("sighash of input 0 (spending 2 RUST locked to the key hash), K_sighash, key hash and template bytes")
    func sighashVector() throws {
        let transaction = try Transaction(decoding: K.bytes(K.transaction))
        let spent = TxOut(value: Amount(baseUnits: 200_000_000)!, lockScript: K.bytes(K.payToKeyHash))
        #expect(HexCoding.encode(Sighash.key) == K.sighashKey)
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: spent).hex == K.sighash)
        let context = ScriptContext(transaction: transaction, inputIndex: 0, spentOutput: spent)
        #expect(context.txid.hex == K.txid && context.sighash.hex == K.sighash)
        // Each committed field moves it: input index, value, lock script.
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 1, spentOutput: spent).hex != K.sighash)
        var otherValue = spent
        otherValue.value = Amount(baseUnits: 200_000_001)!
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: otherValue).hex != K.sighash)
        var otherScript = spent
        otherScript.lockScript[3] ^= 1
        #expect(Sighash.compute(txid: transaction.txid, inputIndex: 0, spentOutput: otherScript).hex != K.sighash)

        // The template and key hash.
        #expect(StandardScript.keyHash(K.bytes(K.publicKey)).hex == K.keyHash)
        #expect(HexCoding.encode(StandardScript.payToKeyHash(StandardScript.keyHash(K.bytes(K.publicKey)))) == K.payToKeyHash)

        // RFC 8032 signing of the sighash gives the witness signature, and the input spends.
        #expect(Ed25519.publicKey(seed: K.bytes(K.seed)) == K.bytes(K.publicKey))
        #expect(Ed25519.sign(message: context.sighash.bytes, seed: K.bytes(K.seed)) == K.bytes(K.signature))
        let checks = try ScriptInterpreter.verify(witness: transaction.witnesses[0], lockScript: spent.lockScript, context: context)
        #expect(checks == [SignatureCheck(publicKey: K.bytes(K.publicKey), signature: K.bytes(K.signature), message: context.sighash)])
        #expect(Ed25519.verify(signature: K.bytes(K.signature), message: context.sighash.bytes, publicKey: K.bytes(K.publicKey)))
    }
}
