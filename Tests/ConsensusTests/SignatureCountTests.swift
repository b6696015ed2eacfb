import Consensus
import Ed25519
import Primitives
import Testing
import TestSupport

/// PROTOCOL section 9: a signature opcode is false only when no signature is offered;
/// 1...m-1 signatures fail the script; m or more succeed and every one is collected.
/// And every script number is range-checked in UInt64, so no witness value traps.
struct SignatureCountTests {
    typealias Key = ScriptTests.Key
    static let keys = [Key(1), Key(2), Key(3)]

    static let checkSig = Opcode.checkSig.rawValue, checkSigVerify = Opcode.checkSigVerify.rawValue
    static let checkMultiSig = Opcode.checkMultiSig.rawValue, checkMultiSigVerify = Opcode.checkMultiSigVerify.rawValue
    /// NOTIF 1 ELSE RETURN ENDIF: succeeds exactly when the signature opcode pushed false.
    static let onFalse: [UInt8] = [Opcode.notIf.rawValue, Opcode.op1.rawValue, Opcode.else.rawValue, Opcode.return.rawValue, Opcode.endIf.rawValue]

    enum Outcome: Equatable {
        case valid(checks: Int)
        case failed(ScriptError)
        case signatureFails
    }

    /// Runs the script and then verifies the collected checks, as a block does.
    static func outcome(_ lock: [UInt8], _ witness: [[UInt8]], _ context: ScriptContext) -> Outcome {
        do {
            let checks = try ScriptInterpreter.verify(witness: witness, lockScript: lock, context: context)
            let items = checks.map { SignatureItem(publicKey: $0.publicKey, signature: $0.signature, message: $0.message.bytes) }
            return Ed25519.verifyBatch(items).allSatisfy { $0 } ? .valid(checks: checks.count) : .signatureFails
        } catch {
            return .failed(error)
        }
    }

    /// The multisig slots with the first `count` keys signing.
    static func slots(signing count: Int, _ context: ScriptContext) -> [[UInt8]] {
        keys.indices.map { $0 < count ? keys[$0].sign(context.sighash) : [] }
    }

    @Test("CHECKSIG and CHECKSIGVERIFY with 0 and 1 signatures (m = 1)")
    func checkSigCounts() {
        let key = Self.keys[0]
        let plain = Script.push(key.publicKey) + [Self.checkSig]
        let inverted = plain + Self.onFalse
        let verify = Script.push(key.publicKey) + [Self.checkSigVerify, Opcode.op1.rawValue]
        for (lock, none, one) in [
            (plain, Outcome.failed(.falseResult), Outcome.valid(checks: 1)),
            // The false path takes exactly the empty signature, and collects nothing.
            (inverted, .valid(checks: 0), .failed(.opReturn)),
            (verify, .failed(.verifyFailed(.checkSigVerify)), .valid(checks: 1)),
        ] {
            let context = ScriptTests.context(lockScript: lock)
            let signature = key.sign(context.sighash)
            #expect(Self.outcome(lock, [[]], context) == none, "\(lock)")
            #expect(Self.outcome(lock, [signature], context) == one, "\(lock)")
            // A wrong signature is never a false result: it is collected and the block fails.
            var wrong = signature
            wrong[3] ^= 1
            #expect(Self.outcome(lock, [wrong], context) == (one == .valid(checks: 1) ? .signatureFails : one), "\(lock)")
        }
    }

    @Test("CHECKMULTISIG and CHECKMULTISIGVERIFY 2-of-3 with 0, 1, 2 and 3 signatures")
    func multisigCounts() {
        let publicKeys = Self.keys.map(\.publicKey)
        let standard = StandardScript.multisig(required: 2, of: publicKeys)
        let inverted = standard + Self.onFalse // the script: 2-of-3 CHECKMULTISIG NOTIF 1 ELSE RETURN ENDIF
        var verify = standard
        verify[verify.count - 1] = Self.checkMultiSigVerify
        verify.append(Opcode.op1.rawValue)
        let tooFew = Outcome.failed(.tooFewSignatures(required: 2, given: 1))
        let expectations: [([UInt8], [Outcome])] = [
            (standard, [.failed(.falseResult), tooFew, .valid(checks: 2), .valid(checks: 3)]),
            // One signature must not reach the false branch (it once did: issue #11).
            (inverted, [.valid(checks: 0), tooFew, .failed(.opReturn), .failed(.opReturn)]),
            (verify, [.failed(.tooFewSignatures(required: 2, given: 0)), tooFew, .valid(checks: 2), .valid(checks: 3)]),
        ]
        for (lock, outcomes) in expectations {
            let context = ScriptTests.context(lockScript: lock)
            for count in 0...3 {
                #expect(Self.outcome(lock, Self.slots(signing: count, context), context) == outcomes[count], "\(count) signatures, \(lock)")
            }
            // m signatures, one of them wrong: collected, so the block fails (not false).
            var wrong = Self.slots(signing: 2, context)
            wrong[1][0] ^= 1
            let expectedWrong: Outcome = lock == inverted ? .failed(.opReturn) : .signatureFails
            #expect(Self.outcome(lock, wrong, context) == expectedWrong, "\(lock)")
        }
        // 1-of-1 through CHECKMULTISIG: 0 is false, 1 is valid.
        let single = StandardScript.multisig(required: 1, of: [publicKeys[0]])
        let context = ScriptTests.context(lockScript: single)
        #expect(Self.outcome(single, [[]], context) == .failed(.falseResult))
        #expect(Self.outcome(single, [Self.keys[0].sign(context.sighash)], context) == .valid(checks: 1))
    }

    @Test("script numbers are range-checked in UInt64: n, m up to 2^64 - 1 and 9-byte numbers fail by rule, never trap")
    func scriptNumberRanges() {
        let context = ScriptTests.context(lockScript: [])
        func run(_ lock: [UInt8], _ witness: [[UInt8]]) -> Outcome { Self.outcome(lock, witness, context) }
        let max = [UInt8](repeating: 0xFF, count: 8)
        let pk = Self.keys[0].publicKey
        // The reproduction: lock script 0xAE, witness ff..ff.
        #expect(run([Self.checkMultiSig], [max]) == .failed(.badMultisigCounts(m: nil, n: .max)))
        #expect(run([Self.checkMultiSigVerify], [max]) == .failed(.badMultisigCounts(m: nil, n: .max)))
        // 2^63 (the first value Int cannot hold) and 21 (one past the key limit), and 0.
        #expect(run([Self.checkMultiSig], [[0, 0, 0, 0, 0, 0, 0, 0x80]]) == .failed(.badMultisigCounts(m: nil, n: 1 << 63)))
        #expect(run([Self.checkMultiSig], [[21]]) == .failed(.badMultisigCounts(m: nil, n: 21)))
        #expect(run([Self.checkMultiSig], [[]]) == .failed(.badMultisigCounts(m: nil, n: 0)))
        // m out of range once n is valid: 2^64 - 1, 0, and m > n.
        #expect(run(Script.push(pk) + [Opcode.op1.rawValue, Self.checkMultiSig], [[], max]) == .failed(.badMultisigCounts(m: .max, n: 1)))
        #expect(run(Script.push(pk) + [Opcode.op1.rawValue, Self.checkMultiSig], [[], []]) == .failed(.badMultisigCounts(m: 0, n: 1)))
        #expect(run([Opcode.op1.rawValue + 1] + Script.push(pk) + [Opcode.op1.rawValue, Self.checkMultiSig], [[]])
                == .failed(.badMultisigCounts(m: 2, n: 1)))
        // More than 8 bytes, or a trailing zero byte, is not a number.
        #expect(run([Self.checkMultiSig], [max + [1]]) == .failed(.invalidNumber))
        #expect(run([Self.checkMultiSig], [[3, 0]]) == .failed(.invalidNumber))
        // n keys asked for, fewer on the stack.
        #expect(run([Self.checkMultiSig], [[], [20]]) == .failed(.stackUnderflow(.checkMultiSig)))
        // Lock-time numbers: compared as UInt64 with the u64 lock time and u32 sequence.
        let cltv = [Opcode.checkLockTimeVerify.rawValue, Opcode.drop.rawValue, Opcode.op1.rawValue]
        let timeLocked = ScriptTests.context(lockScript: cltv, lockTime: 1_800_000_000, sequence: 0)
        #expect(Self.outcome(cltv, [max], timeLocked) == .failed(.lockTimeNotReached))
        #expect(Self.outcome(cltv, [max], ScriptTests.context(lockScript: cltv, lockTime: .max, sequence: 0)) == .valid(checks: 0))
        #expect(Self.outcome(cltv, [max + [0]], timeLocked) == .failed(.invalidNumber))
        let csv = [Opcode.checkSequenceVerify.rawValue, Opcode.drop.rawValue, Opcode.op1.rawValue]
        // Bit 31 set (the disable flag): no relative lock, whatever the high bytes say.
        #expect(Self.outcome(csv, [max], ScriptTests.context(lockScript: csv, sequence: 0)) == .valid(checks: 0))
        // Bits above 31 alone do not matter: 2^32 + 5 is 5 blocks.
        #expect(Self.outcome(csv, [[5, 0, 0, 0, 1]], ScriptTests.context(lockScript: csv, sequence: 4)) == .failed(.sequenceLockNotReached))
        #expect(Self.outcome(csv, [[5, 0, 0, 0, 1]], ScriptTests.context(lockScript: csv, sequence: 5)) == .valid(checks: 0))
    }

    @Test("random 0-9 byte numbers as n and m never trap and fail unless in range")
    func randomNumbers() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SeededGenerator.logged(seed)
        let context = ScriptTests.context(lockScript: [])
        let pk = Self.keys[0].publicKey
        for _ in 0..<2_000 {
            var number = rng.bytes(Int.random(in: 0...9, using: &rng))
            if Bool.random(using: &rng), !number.isEmpty { number[number.count - 1] = 0xFF }
            // As n, and as m of a 1-key multisig with one empty slot.
            let asN = Self.outcome([Self.checkMultiSig], [number], context)
            let asM = Self.outcome(Script.push(pk) + [Opcode.op1.rawValue, Self.checkMultiSig], [[], number], context)
            let valid = number.count <= 8 && number.last != 0
            let value = number.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            if !valid {
                #expect(asN == .failed(.invalidNumber) && asM == .failed(.invalidNumber), "seed \(seed): \(number)")
            } else if value == 0 || value > 20 {
                #expect(asN == .failed(.badMultisigCounts(m: nil, n: value)), "seed \(seed): \(number)")
            } else {
                #expect(asN == .failed(.stackUnderflow(.checkMultiSig)), "seed \(seed): \(number)")
            }
            if valid {
                #expect(asM == (value == 1 ? .failed(.falseResult) : .failed(.badMultisigCounts(m: value, n: 1))), "seed \(seed): \(number)")
            }
        }
    }
}
