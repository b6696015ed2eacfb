import BLAKE3
import Consensus
import Primitives

/// FerrisScript as docs/PROTOCOL.md section 9 states it, written separately from the
/// interpreter and kept plain: the verdict (and the signature checks of a success) must
/// agree with `ScriptInterpreter.verify`. Errors are not compared: which rule fires first is
/// the interpreter's business, whether the spend is valid is the protocol's.
enum Reference {
    struct Failure: Error {}

    /// Unsigned little-endian, at most 8 bytes, no trailing zero byte.
    static func number(_ item: [UInt8]) throws(Failure) -> UInt64 {
        guard item.count <= 8, item.last != 0 else { throw Failure() }
        return item.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    static func isTrue(_ item: [UInt8]) -> Bool { item.contains { $0 != 0 } }

    /// The checks collected (key, signature), or nil when the spend is invalid.
    static func verify(witness: [[UInt8]], program: [Instruction], scriptSize: Int,
                       transaction: Transaction, inputIndex: Int) -> [([UInt8], [UInt8])]? {
        try? run(witness: witness, program: program, scriptSize: scriptSize, transaction: transaction, inputIndex: inputIndex)
    }

    static func run(witness: [[UInt8]], program: [Instruction], scriptSize: Int,
                    transaction: Transaction, inputIndex: Int) throws(Failure) -> [([UInt8], [UInt8])] {
        // Limits: script 10,000 bytes; witness 100 items of at most 520 bytes; 1,000 stack
        // items; 201 non-push operations, CHECKMULTISIG counting n more.
        guard scriptSize <= 10_000, witness.count <= 100, witness.allSatisfy({ $0.count <= 520 }) else { throw Failure() }
        var stack = witness
        var conditions = [Bool]()
        var operations = 0
        var checks = [([UInt8], [UInt8])]()

        func pop() throws(Failure) -> [UInt8] {
            guard let top = stack.popLast() else { throw Failure() }
            return top
        }
        func push(_ item: [UInt8]) throws(Failure) {
            guard item.count <= 520, stack.count < 1_000 else { throw Failure() }
            stack.append(item)
        }
        /// Empty: no signature (false). Otherwise a 32-byte key and a 64-byte signature, collected.
        func signature(key: [UInt8], signature: [UInt8]) throws(Failure) -> Bool {
            if signature.isEmpty { return false }
            guard key.count == 32, signature.count == 64 else { throw Failure() }
            checks.append((key, signature))
            return true
        }

        for instruction in program {
            let executing = !conditions.contains(false)
            guard case .op(let op) = instruction else {
                if executing, case .push(let data) = instruction { try push(data) }
                continue
            }
            operations += 1
            guard operations <= 201 else { throw Failure() }
            switch op {
            case .if, .notIf:
                guard executing else { conditions.append(false); continue }
                let condition = try pop()
                guard condition.isEmpty || condition == [1] else { throw Failure() }
                conditions.append((condition == [1]) != (op == .notIf))
                continue
            case .else:
                guard let last = conditions.popLast() else { throw Failure() }
                conditions.append(!last && !conditions.contains(false))
                continue
            case .endIf:
                guard conditions.popLast() != nil else { throw Failure() }
                continue
            default:
                guard executing else { continue }
            }
            let sequence = transaction.inputs[inputIndex].sequence
            switch op {
            case .verify: guard isTrue(try pop()) else { throw Failure() }
            case .return: throw Failure()
            case .drop: _ = try pop()
            case .dup: let top = try pop(); try push(top); try push(top)
            case .equal, .equalVerify:
                let b = try pop(), a = try pop()
                if op == .equal { try push(a == b ? [1] : []) } else if a != b { throw Failure() }
            case .blake3: try push(BLAKE3.hash(try pop()))
            case .checkSig, .checkSigVerify:
                let key = try pop(), sig = try pop()
                let valid = try signature(key: key, signature: sig)
                if op == .checkSig { try push(valid ? [1] : []) } else if !valid { throw Failure() }
            case .checkMultiSig, .checkMultiSigVerify:
                let n = try number(try pop())
                guard n >= 1, n <= 20 else { throw Failure() }
                operations += Int(n)
                guard operations <= 201 else { throw Failure() }
                var keys = [[UInt8]]()
                for _ in 0..<n { keys.append(try pop()) }
                let m = try number(try pop())
                guard m >= 1, m <= n else { throw Failure() }
                var slots = [[UInt8]]()
                for _ in 0..<n { slots.append(try pop()) }
                var signed: UInt64 = 0
                for (key, slot) in zip(keys, slots) where try signature(key: key, signature: slot) { signed += 1 }
                // PROTOCOL 9: no signature is false (CHECKMULTISIG only), 1...m-1 fail, m or more true.
                if signed == 0 && op == .checkMultiSig { try push([]) } else {
                    guard signed >= m else { throw Failure() }
                    if op == .checkMultiSig { try push([1]) }
                }
            case .checkLockTimeVerify:
                // Top (kept) <= lock time, both heights or both times, the input's sequence not final.
                guard let top = stack.last else { throw Failure() }
                let required = try number(top), lockTime = transaction.lockTime
                guard (required < 500_000_000) == (lockTime < 500_000_000), required <= lockTime, sequence != UInt32.max else {
                    throw Failure()
                }
            case .checkSequenceVerify:
                // BIP 112: a disabled requirement does nothing; else version >= 2, the input's
                // lock enabled, of the same kind (bit 22) and at least the required value (16 bits).
                guard let top = stack.last else { throw Failure() }
                let required = try number(top)
                if required & (1 << 31) != 0 { break }
                guard transaction.version >= 2, sequence & (1 << 31) == 0,
                      required & (1 << 22) == UInt64(sequence & (1 << 22)),
                      required & 0xFFFF <= UInt64(sequence & 0xFFFF) else { throw Failure() }
            default: throw Failure()
            }
        }
        guard conditions.isEmpty, stack.count == 1, isTrue(stack[0]) else { throw Failure() }
        return checks
    }
}
