import Consensus
import Ed25519
import Primitives
import Testing
import TestSupport

struct ScriptTests {
    struct Key {
        let seed: [UInt8]
        let publicKey: [UInt8]
        init(_ byte: UInt8) {
            seed = [UInt8](repeating: byte, count: 32)
            publicKey = Ed25519.publicKey(seed: seed)
        }
        func sign(_ message: Hash256) -> [UInt8] { Ed25519.sign(message: message.bytes, seed: seed) }
    }

    static let alice = Key(1), bob = Key(2), carol = Key(3)

    static func context(lockScript: [UInt8], lockTime: UInt64 = 0, sequence: UInt32 = TxIn.finalSequence, version: UInt32 = 2) -> ScriptContext {
        let spent = TxOut(value: Amount.coins(5)!, lockScript: lockScript)
        let tx = Transaction(version: version,
                             inputs: [TxIn(previousOutput: OutPoint(txid: Hash256(bytes: [UInt8](repeating: 9, count: 32))!, index: 0), sequence: sequence)],
                             outputs: [TxOut(value: Amount.coins(4)!, lockScript: [Opcode.op1.rawValue])], lockTime: lockTime)
        return ScriptContext(transaction: tx, inputIndex: 0, spentOutput: spent)
    }

    /// Runs and verifies the collected signature checks, as a block would.
    static func spendIsValid(witness: [[UInt8]], context: ScriptContext) -> Bool {
        guard let checks = try? ScriptInterpreter.verify(witness: witness, lockScript: context.spentOutput.lockScript, context: context) else {
            return false
        }
        let items = checks.map { SignatureItem(publicKey: $0.publicKey, signature: $0.signature, message: $0.message.bytes) }
        return Ed25519.verifyBatch(items).allSatisfy { $0 }
    }

    @Test("pay-to-key-hash: the right key and signature spend; others do not")
    func payToKeyHash() throws {
        let lock = StandardScript.payToKeyHash(StandardScript.keyHash(Self.alice.publicKey))
        let context = Self.context(lockScript: lock)
        let signature = Self.alice.sign(context.sighash)
        let checks = try ScriptInterpreter.verify(witness: [signature, Self.alice.publicKey], lockScript: lock, context: context)
        #expect(checks == [SignatureCheck(publicKey: Self.alice.publicKey, signature: signature, message: context.sighash)])
        #expect(Self.spendIsValid(witness: [signature, Self.alice.publicKey], context: context))
        // Bob's key does not match the hash.
        #expect(throws: ScriptError.verifyFailed(.equalVerify)) {
            try ScriptInterpreter.verify(witness: [Self.bob.sign(context.sighash), Self.bob.publicKey], lockScript: lock, context: context)
        }
        // A wrong signature passes the script but fails the deferred check (NULLFAIL).
        var bad = signature
        bad[0] ^= 1
        #expect(!Self.spendIsValid(witness: [bad, Self.alice.publicKey], context: context))
        // An empty signature is "no signature": false, nothing collected.
        #expect(throws: ScriptError.falseResult) { try ScriptInterpreter.verify(witness: [[], Self.alice.publicKey], lockScript: lock, context: context) }
        #expect(throws: ScriptError.badSignatureLength(63)) {
            try ScriptInterpreter.verify(witness: [Array(signature.prefix(63)), Self.alice.publicKey], lockScript: lock, context: context)
        }
        // The signature commits to the amount being spent.
        var other = context
        other.spentOutput.value = Amount.coins(6)!
        #expect(!Self.spendIsValid(witness: [signature, Self.alice.publicKey], context: other))
    }

    @Test("m-of-n multisig: one slot per key, at least m signatures, every given one must verify")
    func multisig() throws {
        let keys = [Self.alice, Self.bob, Self.carol]
        let lock = StandardScript.multisig(required: 2, of: keys.map(\.publicKey))
        let context = Self.context(lockScript: lock)
        let sigs = keys.map { $0.sign(context.sighash) }
        #expect(Self.spendIsValid(witness: [sigs[0], [], sigs[2]], context: context))
        #expect(Self.spendIsValid(witness: [sigs[0], sigs[1], sigs[2]], context: context))
        #expect(try ScriptInterpreter.verify(witness: [[], sigs[1], sigs[2]], lockScript: lock, context: context).count == 2)
        // Too few: a partial set of signatures fails the script (never a false result).
        #expect(throws: ScriptError.tooFewSignatures(required: 2, given: 1)) {
            try ScriptInterpreter.verify(witness: [sigs[0], [], []], lockScript: lock, context: context)
        }
        // None at all: false, nothing collected.
        #expect(throws: ScriptError.falseResult) { try ScriptInterpreter.verify(witness: [[], [], []], lockScript: lock, context: context) }
        // A signature in the wrong slot is bound to the wrong key and fails verification.
        #expect(!Self.spendIsValid(witness: [sigs[1], sigs[0], []], context: context))
        // Missing slots.
        #expect(throws: ScriptError.stackUnderflow(.checkMultiSig)) { try ScriptInterpreter.verify(witness: [sigs[0], sigs[1]], lockScript: lock, context: context) }
    }

    @Test("hash time lock: claim with the preimage, refund only after the lock time")
    func hashTimeLock() throws {
        let preimage = Array("the secret".utf8)
        let lock = StandardScript.hashTimeLock(hashLock: StandardScript.keyHash(preimage), recipient: Self.bob.publicKey,
                                               refund: Self.alice.publicKey, refundAfter: 1000)
        let claim = Self.context(lockScript: lock)
        #expect(Self.spendIsValid(witness: [Self.bob.sign(claim.sighash), preimage, [1]], context: claim))
        #expect(throws: ScriptError.verifyFailed(.equalVerify)) {
            try ScriptInterpreter.verify(witness: [Self.bob.sign(claim.sighash), Array("wrong".utf8), [1]], lockScript: lock, context: claim)
        }
        // Non-minimal IF argument.
        #expect(throws: ScriptError.verifyFailed(.if)) {
            try ScriptInterpreter.verify(witness: [Self.bob.sign(claim.sighash), preimage, [2]], lockScript: lock, context: claim)
        }
        let refund = Self.context(lockScript: lock, lockTime: 1000, sequence: 0xFFFF_FFFE)
        #expect(Self.spendIsValid(witness: [Self.alice.sign(refund.sighash), []], context: refund))
        let early = Self.context(lockScript: lock, lockTime: 999, sequence: 0xFFFF_FFFE)
        #expect(throws: ScriptError.lockTimeNotReached) { try ScriptInterpreter.verify(witness: [Self.alice.sign(early.sighash), []], lockScript: lock, context: early) }
        let final = Self.context(lockScript: lock, lockTime: 1000)
        #expect(throws: ScriptError.finalSequence) { try ScriptInterpreter.verify(witness: [Self.alice.sign(final.sighash), []], lockScript: lock, context: final) }
        let timeTyped = Self.context(lockScript: lock, lockTime: 1_800_000_000, sequence: 0)
        #expect(throws: ScriptError.lockTimeTypeMismatch) { try ScriptInterpreter.verify(witness: [Self.alice.sign(timeTyped.sighash), []], lockScript: lock, context: timeTyped) }
    }

    @Test("relative time locks (CHECKSEQUENCEVERIFY)")
    func relativeLocks() throws {
        let lock = StandardScript.number(10) + [Opcode.checkSequenceVerify.rawValue, Opcode.drop.rawValue, Opcode.op1.rawValue]
        #expect(throws: Never.self) { try ScriptInterpreter.verify(witness: [], lockScript: lock, context: Self.context(lockScript: lock, sequence: 10)) }
        #expect(throws: ScriptError.sequenceLockNotReached) { try ScriptInterpreter.verify(witness: [], lockScript: lock, context: Self.context(lockScript: lock, sequence: 9)) }
        #expect(throws: ScriptError.sequenceLockNotReached) { try ScriptInterpreter.verify(witness: [], lockScript: lock, context: Self.context(lockScript: lock, sequence: 10, version: 1)) }
        #expect(throws: ScriptError.lockTimeTypeMismatch) {
            try ScriptInterpreter.verify(witness: [], lockScript: lock, context: Self.context(lockScript: lock, sequence: RelativeLock.typeFlag | 10))
        }
    }

    @Test("encoding and resource rules: minimal pushes, unknown opcodes, RETURN, clean stack, limits")
    func resourceRules() {
        let context = Self.context(lockScript: [])
        func run(_ script: [UInt8], _ witness: [[UInt8]] = []) throws(ScriptError) { _ = try ScriptInterpreter.verify(witness: witness, lockScript: script, context: context) }
        #expect(throws: ScriptError.nonMinimalPush(offset: 0)) { try run([0x4C, 0x01, 0xAA]) }
        #expect(throws: ScriptError.nonMinimalPush(offset: 0)) { try run([0x01, 0x05]) }
        #expect(throws: ScriptError.truncatedPush(offset: 0)) { try run([0x05, 0x01]) }
        #expect(throws: ScriptError.truncatedPush(offset: 1)) { try run([0x51, 0x4D, 0x01]) }
        #expect(throws: ScriptError.unknownOpcode(0xFF, offset: 1)) { try run([0x51, 0xFF]) }
        #expect(throws: ScriptError.opReturn) { try run(Script.nullData([1, 2, 3])) }
        #expect(throws: ScriptError.cleanStack(2)) { try run([0x51, 0x51]) }
        #expect(throws: ScriptError.falseResult) { try run([0x00]) }
        #expect(throws: ScriptError.unbalancedConditional) { try run([0x51, Opcode.if.rawValue, 0x51]) }
        #expect(throws: ScriptError.unbalancedConditional) { try run([Opcode.endIf.rawValue]) }
        #expect(throws: ScriptError.tooManyOperations) { try run([0x51] + [UInt8](repeating: Opcode.dup.rawValue, count: 202)) }
        #expect(throws: ScriptError.scriptTooLarge(10_001)) { try run([UInt8](repeating: 0x51, count: 10_001)) }
        #expect(throws: ScriptError.elementTooLarge(521)) { try run([0x51], [[UInt8](repeating: 1, count: 521)]) }
        #expect(throws: ScriptError.witnessTooLarge) { try run([0x51], [[UInt8]](repeating: [], count: 101)) }
        // A non-empty signature needs a 32-byte key (an empty one checks nothing).
        #expect(throws: ScriptError.badPublicKeyLength(31)) { try run([Opcode.checkSig.rawValue], [[UInt8](repeating: 1, count: 64), [UInt8](repeating: 2, count: 31)]) }
        #expect(throws: ScriptError.falseResult) { try run([Opcode.checkSig.rawValue], [[], [UInt8](repeating: 2, count: 31)]) }
        // Stack size: 1,000 items at most.
        #expect(throws: ScriptError.stackOverflow) { try run([UInt8](repeating: 0x51, count: 1001)) }
        // A branch not taken is skipped, including its RETURN.
        #expect(throws: Never.self) { try run([0x00, Opcode.if.rawValue, Opcode.return.rawValue, Opcode.else.rawValue, 0x51, Opcode.endIf.rawValue]) }
    }

    @Test("random scripts and witnesses never trap (10,000 cases)")
    func fuzz() {
        var rng = SeededGenerator.logged(0x5C1)
        let opcodes: [UInt8] = [0x00, 0x01, 0x20, 0x4C, 0x4D, 0x51, 0x60, 0x63, 0x64, 0x67, 0x68, 0x69, 0x6A, 0x75, 0x76, 0x87,
                                0x88, 0xA0, 0xAC, 0xAD, 0xAE, 0xAF, 0xB1, 0xB2, 0xFF]
        for _ in 0..<10_000 {
            let script = (0..<Int.random(in: 0...40, using: &rng)).map { _ in
                Bool.random(using: &rng) ? opcodes.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
            }
            let witness = (0..<Int.random(in: 0...4, using: &rng)).map { _ in rng.bytes([0, 1, 2, 8, 32, 64].randomElement(using: &rng)!) }
            let context = Self.context(lockScript: script, lockTime: rng.next() % 1000, sequence: UInt32.random(in: 0...UInt32.max, using: &rng))
            _ = try? ScriptInterpreter.verify(witness: witness, lockScript: script, context: context)
        }
    }
}
