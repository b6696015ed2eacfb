import BLAKE3
import Consensus
import FuzzSupport
import Primitives

/// The FerrisScript interpreter, driven by a grammar: the input is a little program that picks
/// instructions (opcodes, minimal pushes, 1-8 byte numbers, keys, signatures, template pieces,
/// runs of nested IFs), a witness and the spending transaction's lock fields. Mutating those
/// choices keeps the script a valid encoding, so the fuzzer explores execution, not parsing.
///
/// Properties (each can fail):
/// - the minimal encoding of the generated instructions parses back to them;
/// - a success returns only well-formed checks that sign this input's sighash;
/// - metamorphic: `1 DROP S`, and S wrapped in up to 40 levels of IF/NOTIF (with dead ELSE
///   branches of arbitrary opcodes) end exactly as S does, error included; for the
///   pay-to-key-hash template this compares the fast path with the general machine;
/// - the multisig and hash-time-lock templates with well-formed witnesses end as the
///   protocol says (docs/PROTOCOL.md), computed here independently;
/// - every verdict agrees with Reference.swift, the protocol's text as a plain interpreter.

let keys: [[UInt8]] = (0..<4).map { BLAKE3.hash([UInt8(0x10 + $0)]) }
let preimages: [[UInt8]] = [[], [1, 2, 3], BLAKE3.hash([0x77])]
let conditionalOps: [Opcode] = [.if, .notIf, .else, .endIf]
let plainOps: [Opcode] = [.verify, .return, .drop, .dup, .equal, .equalVerify, .blake3, .checkSig, .checkSigVerify,
                          .checkMultiSig, .checkMultiSigVerify, .checkLockTimeVerify, .checkSequenceVerify]
let threshold = ScriptInterpreter.lockTimeThreshold

/// Minimal encoding, the only one `parse` accepts.
func encode(_ program: [Instruction]) -> [UInt8] {
    var out = [UInt8]()
    for instruction in program {
        switch instruction {
        case .op(let op): out.append(op.rawValue)
        case .push(let data):
            switch data.count {
            case 0: out.append(Opcode.pushEmpty.rawValue)
            case 1 where (1...16).contains(data[0]): out.append(Opcode.op1.rawValue + data[0] - 1)
            case 1...75: out.append(UInt8(data.count)); out += data
            case 76...255: out += [Opcode.pushData1.rawValue, UInt8(data.count)]; out += data
            default: out += [Opcode.pushData2.rawValue, UInt8(data.count & 0xFF), UInt8(data.count >> 8)]; out += data
            }
        }
    }
    return out
}

/// Little-endian number bytes: minimal unless the fuzz asks for a trailing zero.
func numberBytes(_ value: UInt64, padded: Bool = false) -> [UInt8] {
    var bytes = [UInt8](), v = value
    while v > 0 { bytes.append(UInt8(v & 0xFF)); v >>= 8 }
    return padded ? bytes + [0] : bytes
}

/// A lock-time-like value: around the height/time threshold, small, or arbitrary 64-bit.
func lockValue(_ input: inout FuzzInput) -> UInt64 {
    switch input.below(4) {
    case 0: return UInt64(input.byte())
    case 1: return threshold &- 2 &+ UInt64(input.below(4))
    case 2: return UInt64(input.uint32())
    default: return input.uint64()
    }
}

func data(_ input: inout FuzzInput) -> [UInt8] { anyData(&input) }

func anyData(_ input: inout FuzzInput) -> [UInt8] {
    switch input.below(12) {
    case 0: return []
    case 1: return [1]
    case 2: return [0]
    case 3: return input.bytes(1 + input.below(8))   // numbers of 1...8 bytes, minimal or not
    case 4: return keys[input.below(keys.count)]
    case 5: return input.bytes(64)                   // a well-formed signature
    case 6: return BLAKE3.hash(keys[input.below(keys.count)])
    case 7: return input.bytes(input.below(80))
    case 8: return [UInt8](repeating: input.byte(), count: [75, 76, 255, 256, 520, 521][input.below(6)])
    case 9: return preimages[input.below(preimages.count)]
    case 10: return BLAKE3.hash(preimages[input.below(preimages.count)])
    default: return numberBytes(lockValue(&input), padded: input.byte() == 0xFF)
    }
}

/// A general program of up to 300 steps; `open` counts IFs left open.
func program(_ input: inout FuzzInput) -> [Instruction] {
    var out = [Instruction]()
    var open = 0
    for _ in 0..<300 where !input.isExhausted {
        switch input.below(16) {
        case 0, 1, 2: out.append(.push(data(&input)))
        case 3: out.append(.op(plainOps[input.below(plainOps.count)]))
        case 4:
            // A run of nested conditionals: deep IF nesting.
            for _ in 0...input.below(64) {
                let taken = input.bool()
                if input.bool() { out += [.push(taken ? [1] : []), .op(.if)] } else { out += [.push(taken ? [] : [1]), .op(.notIf)] }
                open += 1
            }
        case 5: if open > 0 { out.append(.op(.endIf)); open -= 1 } else { out.append(.op(conditionalOps[input.below(4)])) }
        case 6: out.append(.op(.else))
        case 7:
            let n = 1 + input.below(5), m = 1 + input.below(n)
            out.append(.push(numberBytes(UInt64(m))))
            for _ in 0..<n { out.append(.push(keys[input.below(keys.count)])) }
            out += [.push(numberBytes(UInt64(n))), .op(input.bool() ? .checkMultiSig : .checkMultiSigVerify)]
        case 8: out += [.op(.dup), .op(.blake3), .push(BLAKE3.hash(keys[input.below(keys.count)])), .op(.equalVerify), .op(.checkSig)]
        case 9: out += [.push(numberBytes(lockValue(&input))), .op(.checkLockTimeVerify), .op(.drop)]
        case 10: out += [.push(numberBytes(UInt64(input.uint32()))), .op(.checkSequenceVerify), .op(.drop)]
        case 11: out += [.op(.blake3), .push(BLAKE3.hash(preimages[input.below(preimages.count)])), .op(.equalVerify)]
        default: out.append(.op([.dup, .drop, .equal, .verify][input.below(4)]))
        }
    }
    if input.bool() { out += Array(repeating: .op(.endIf), count: open) }
    return out
}

func witness(_ input: inout FuzzInput) -> [[UInt8]] {
    let count = input.byte()
    if count == 0xFF { return Array(repeating: [], count: ScriptInterpreter.maxWitnessItems + 1) }
    return (0..<Int(count % 8)).map { _ in data(&input) }
}

/// The spending transaction: the input's sequence and the lock time come from the fuzz.
func context(_ input: inout FuzzInput, lockScript: [UInt8]) -> ScriptContext {
    let version: UInt32 = [1, 2, input.uint32()][input.below(3)]
    let lockTime = lockValue(&input)
    let sequence: UInt32 = [TxIn.finalSequence, TxIn.finalSequence - 1, input.uint32()][input.below(3)]
    let inputIndex = input.below(2)
    let inputs = (0...inputIndex).map { TxIn(previousOutput: OutPoint(txid: Hash256(bytes: keys[$0])!, index: UInt32($0)), sequence: sequence) }
    let transaction = Transaction(version: version, inputs: inputs, outputs: [TxOut(value: Amount(baseUnits: 1000)!, lockScript: [0x51])],
                                  lockTime: lockTime)
    let value = Amount(baseUnits: input.uint64() % (Amount.maxMoney.baseUnits + 1))!
    return ScriptContext(transaction: transaction, inputIndex: inputIndex, spentOutput: TxOut(value: value, lockScript: lockScript))
}

typealias Outcome = Result<[SignatureCheck], ScriptError>

func run(_ witness: [[UInt8]], _ script: [UInt8], _ context: ScriptContext) -> Outcome {
    Result { () throws(ScriptError) in try ScriptInterpreter.verify(witness: witness, lockScript: script, context: context) }
}

/// Junk for a branch that never executes: any non-conditional opcode or push.
func deadCode(_ input: inout FuzzInput) -> [Instruction] {
    (0..<input.below(6)).map { _ in input.bool() ? .op(plainOps[input.below(plainOps.count)]) : .push(data(&input)) }
}

/// S nested `depth` levels deep in conditionals that always select S.
func wrapped(_ body: [Instruction], depth: Int, _ input: inout FuzzInput) -> [Instruction] {
    var out = body
    for _ in 0..<depth {
        switch input.below(4) {
        case 0: out = [.push([1]), .op(.if)] + out + [.op(.endIf)]
        case 1: out = [.push([]), .op(.notIf)] + out + [.op(.endIf)]
        case 2: out = [.push([1]), .op(.if)] + out + [.op(.else)] + deadCode(&input) + [.op(.endIf)]
        default: out = [.push([]), .op(.if)] + deadCode(&input) + [.op(.else)] + out + [.op(.endIf)]
        }
    }
    return out
}

/// Two runs of equivalent scripts must end the same way, unless the longer one only ran
/// out of operations, or S itself was unbalanced (a wrapper can close S's stray ENDIF).
func checkEquivalent(_ original: Outcome, _ variant: Outcome, _ what: String) {
    if case .failure(.tooManyOperations) = variant { return }
    if case .failure(.unbalancedConditional) = original { return }
    switch (original, variant) {
    case let (.success(a), .success(b)): fuzzCheck(a == b, "\(what): different checks")
    case let (.failure(a), .failure(b)): fuzzCheck(a == b, "\(what): \(a) vs \(b)")
    default: fuzzFail("\(what): \(original) vs \(variant)")
    }
}

func checkSuccess(_ outcome: Outcome, _ context: ScriptContext) {
    guard case .success(let checks) = outcome else { return }
    let sighash = context.sighash
    for check in checks {
        fuzzCheck(check.publicKey.count == 32 && check.signature.count == 64, "collected a malformed check")
        fuzzCheck(check.message == sighash, "a check signs something else than the sighash")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScript(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var input = FuzzInput(fuzzBytes(data, size))
    let mode = input.below(4)
    var stack = witness(&input)
    var instructions: [Instruction]
    // The protocol's verdict for the templates with well-formed witnesses: checks collected, or the error.
    var expected: Result<Int, ScriptError>?
    switch mode {
    case 1:
        instructions = try! ScriptInterpreter.parse(StandardScript.payToKeyHash(Hash256(bytes: BLAKE3.hash(keys[input.below(keys.count)]))!))
    case 2:
        let n = 1 + input.below(ScriptInterpreter.maxMultisigKeys), m = 1 + input.below(n)
        let members = (0..<n).map { _ in keys[input.below(keys.count)] }
        instructions = try! ScriptInterpreter.parse(StandardScript.multisig(required: m, of: members))
        if input.bool() {
            // One slot per key, empty or a 64-byte signature.
            stack = (0..<n).map { _ in input.bool() ? input.bytes(64) : [] }
            let signed = stack.filter { !$0.isEmpty }.count
            // PROTOCOL 9: no signature is a false result, 1...m-1 fail the script.
            expected = signed >= m ? .success(signed)
                : signed == 0 ? .failure(.falseResult)
                : .failure(.tooFewSignatures(required: UInt64(m), given: UInt64(signed)))
        }
    case 3:
        instructions = []   // the hash-time-lock template, below
    default:
        instructions = program(&input)
    }
    var refundAfter: UInt64 = 0
    var htlcWitness: (claim: Bool, preimage: Int)?
    if mode == 3 {
        refundAfter = lockValue(&input)
        let lock = StandardScript.hashTimeLock(hashLock: Hash256(bytes: BLAKE3.hash(preimages[2]))!, recipient: keys[0], refund: keys[1],
                                               refundAfter: refundAfter)
        instructions = try! ScriptInterpreter.parse(lock)
        if input.bool() {
            let claim = input.bool(), preimage = input.below(preimages.count)
            htlcWitness = (claim, preimage)
            stack = claim ? [input.bytes(64), preimages[preimage], [1]] : [input.bytes(64), []]
        }
    }

    let script = encode(instructions)   // may exceed the size limit: both interpreters must refuse it
    do {
        let parsed = try ScriptInterpreter.parse(script)
        fuzzCheck(parsed == instructions, "the minimal encoding does not parse back to the program")
    } catch {
        fuzzFail("a minimal encoding is rejected: \(error)")
    }
    let context = context(&input, lockScript: script)
    let outcome = run(stack, script, context)
    checkSuccess(outcome, context)
    let reference = Reference.verify(witness: stack, program: instructions, scriptSize: script.count,
                                     transaction: context.transaction, inputIndex: context.inputIndex)
    switch (outcome, reference) {
    case let (.success(checks), .some(want)):
        fuzzCheck(checks.map { [$0.publicKey, $0.signature] } == want.map { [$0.0, $0.1] }, "the reference collects other checks")
    case (.failure, .none): break
    default: fuzzFail("verdicts differ: interpreter \(outcome), reference \(reference.map { "valid, \($0.count) checks" } ?? "invalid")")
    }

    if let htlcWitness {
        // Claim: the preimage must be the hash lock's; refund: CHECKLOCKTIMEVERIFY's rules.
        let lockTime = context.transaction.lockTime
        let sequence = context.transaction.inputs[context.inputIndex].sequence
        if htlcWitness.claim {
            expected = htlcWitness.preimage == 2 ? .success(1) : .failure(.verifyFailed(.equalVerify))
        } else if (refundAfter < threshold) != (lockTime < threshold) {
            expected = .failure(.lockTimeTypeMismatch)
        } else if lockTime < refundAfter {
            expected = .failure(.lockTimeNotReached)
        } else if sequence == TxIn.finalSequence {
            expected = .failure(.finalSequence)
        } else {
            expected = .success(1)
        }
    }
    if let expected {
        switch (expected, outcome) {
        case let (.success(want), .success(got)):
            fuzzCheck(got.count == want, "template: \(got.count) checks collected, expected \(want)")
        case let (.failure(want), .failure(got)): fuzzCheck(want == got, "template: \(got), expected \(want)")
        default: fuzzFail("template: \(outcome), expected \(expected)")
        }
    }

    // Context for the variants must be the same transaction (their lock scripts differ, and
    // with them the sighash, so compare everything but the messages).
    func variantOutcome(_ variant: [Instruction]) -> Outcome? {
        let script = encode(variant)
        guard script.count <= ScriptInterpreter.maxScriptBytes else { return nil }
        var variantContext = context
        variantContext.spentOutput.lockScript = script
        return run(stack, script, variantContext).map { checks in
            checks.map { SignatureCheck(publicKey: $0.publicKey, signature: $0.signature, message: context.sighash) }
        }
    }
    if let dropped = variantOutcome([.push([1]), .op(.drop)] + instructions) {
        checkEquivalent(outcome, dropped, "1 DROP prefix")
    }
    let depth = input.below(41)
    if let nested = variantOutcome(wrapped(instructions, depth: depth, &input)) {
        checkEquivalent(outcome, nested, "\(depth)-deep IF wrapper")
    }
    return 0
}
