import BLAKE3
import Primitives

/// A signature check that script execution defers to the batch verifier: the block is valid
/// only if every collected triple verifies (NULLFAIL: a non-empty signature is never
/// allowed to be wrong, so the check can be deferred without changing any outcome).
public struct SignatureCheck: Hashable, Sendable {
    public var publicKey: [UInt8]
    public var signature: [UInt8]
    public var message: Hash256

    public init(publicKey: [UInt8], signature: [UInt8], message: Hash256) {
        self.publicKey = publicKey
        self.signature = signature
        self.message = message
    }
}

/// What a script may look at besides its stack.
public struct ScriptContext: Sendable {
    public let transaction: Transaction
    public var txid: Hash256
    /// Always an index of `transaction.inputs` (checked at init), so the lock-time opcodes
    /// index the inputs and the sighash narrows it to u32 without a trap.
    public let inputIndex: Int
    public var spentOutput: TxOut

    /// `inputIndex` must name one of the transaction's inputs: callers enumerate the inputs
    /// (a programming error otherwise, never a value read from a block).
    public init(transaction: Transaction, txid: Hash256? = nil, inputIndex: Int, spentOutput: TxOut) {
        precondition(transaction.inputs.indices.contains(inputIndex) && inputIndex <= Int(UInt32.max),
                     "input index \(inputIndex) outside the transaction's \(transaction.inputs.count) inputs")
        self.transaction = transaction
        self.txid = txid ?? transaction.txid
        self.inputIndex = inputIndex
        self.spentOutput = spentOutput
    }

    /// The message every signature of this input signs.
    public var sighash: Hash256 {
        Sighash.compute(txid: txid, inputIndex: UInt32(truncatingIfNeeded: inputIndex), spentOutput: spentOutput)
    }
}

/// sighash = keyed_hash(K_sighash, txid || input index u32 || spent value u64 || BLAKE3(spent lock script)).
/// The txid commits to the whole witness-free transaction; hashing it once per transaction
/// (not the serialization once per input) keeps signing linear in the transaction size.
public enum Sighash {
    public static let key = DomainKeys.key(purpose: "sighash")

    public static func compute(txid: Hash256, inputIndex: UInt32, spentOutput: TxOut) -> Hash256 {
        // The 76-byte message built in a stack buffer, without intermediate arrays.
        withUnsafeTemporaryAllocation(byteCount: 76, alignment: 8) { message in
            txid.withUnsafeBytes { message.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: 32) }
            message.storeBytes(of: inputIndex.littleEndian, toByteOffset: 32, as: UInt32.self)
            message.storeBytes(of: spentOutput.value.baseUnits.littleEndian, toByteOffset: 36, as: UInt64.self)
            spentOutput.lockScript.withUnsafeBytes {
                BLAKE3.hash($0, into: UnsafeMutableRawBufferPointer(rebasing: message[44..<76]))
            }
            return withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { out in
                key.withUnsafeBytes { BLAKE3.hash(UnsafeRawBufferPointer(message), key: $0, into: out) }
                return Hash256(UnsafeRawBufferPointer(out))
            }
        }
    }
}

/// The FerrisScript interpreter: no loops, bounded stack and operation count, every
/// signature check collected instead of performed.
public enum ScriptInterpreter {
    public static let maxScriptBytes = 10_000
    public static let maxElementBytes = 520
    public static let maxStackItems = 1_000
    public static let maxOperations = 201
    public static let maxMultisigKeys = 20
    public static let maxWitnessItems = 100
    /// Lock-time values below this are heights, from it on Unix times (Bitcoin's rule).
    public static let lockTimeThreshold: UInt64 = 500_000_000

    /// Runs `lockScript` on a stack made of `witness` (first item deepest). Succeeds iff the
    /// script ends with exactly one true item; returns the signature checks to verify.
    public static func verify(witness: [[UInt8]], lockScript: [UInt8], context: ScriptContext) throws(ScriptError) -> [SignatureCheck] {
        guard lockScript.count <= maxScriptBytes else { throw .scriptTooLarge(lockScript.count) }
        guard witness.count <= maxWitnessItems else { throw .witnessTooLarge }
        for item in witness where item.count > maxElementBytes { throw .elementTooLarge(item.count) }
        if isPayToKeyHash(lockScript) { return try verifyPayToKeyHash(witness: witness, lockScript: lockScript, context: context) }
        return try execute(witness: witness, lockScript: lockScript, context: context)
    }

    /// The general interpreter (after `verify`'s size checks).
    static func execute(witness: [[UInt8]], lockScript: [UInt8], context: ScriptContext) throws(ScriptError) -> [SignatureCheck] {
        var machine = Machine(stack: witness, context: context)
        try machine.run(try parse(lockScript))
        guard machine.stack.count == 1 else {
            if machine.stack.last.map(isTrue) == false { throw .falseResult }
            throw .cleanStack(machine.stack.count)
        }
        guard isTrue(machine.stack[0]) else { throw .falseResult }
        return machine.checks
    }

    /// DUP BLAKE3 <32 bytes> EQUALVERIFY CHECKSIG, byte for byte.
    static func isPayToKeyHash(_ script: [UInt8]) -> Bool {
        script.count == 37 && script[0] == Opcode.dup.rawValue && script[1] == Opcode.blake3.rawValue && script[2] == 32
            && script[35] == Opcode.equalVerify.rawValue && script[36] == Opcode.checkSig.rawValue
    }

    /// Pay-to-key-hash without the general machine: the same outcome, error included, as
    /// running the script (the tests compare both on adversarial witnesses). Most inputs
    /// spend this template, so this is the hot path of block validation.
    static func verifyPayToKeyHash(witness: [[UInt8]], lockScript: [UInt8], context: ScriptContext) throws(ScriptError) -> [SignatureCheck] {
        let count = witness.count
        guard count >= 1 else { throw .stackUnderflow(.dup) }
        let publicKey = witness[count - 1]
        let matches = publicKey.withUnsafeBytes { key in
            withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { digest in
                BLAKE3.hash(key, into: digest)
                let computed = Hash256(UnsafeRawBufferPointer(digest))
                return lockScript.withUnsafeBytes { Hash256(UnsafeRawBufferPointer(rebasing: $0[3..<35])) } == computed
            }
        }
        guard matches else { throw .verifyFailed(.equalVerify) }
        guard count >= 2 else { throw .stackUnderflow(.checkSig) }
        let signature = witness[count - 2]
        // An empty signature leaves false on the stack.
        guard !signature.isEmpty else { throw .falseResult }
        guard publicKey.count == 32 else { throw .badPublicKeyLength(publicKey.count) }
        guard signature.count == 64 else { throw .badSignatureLength(signature.count) }
        guard count == 2 else { throw .cleanStack(count - 1) }
        return [SignatureCheck(publicKey: publicKey, signature: signature, message: context.sighash)]
    }

    /// Splits a script into instructions; pushes must use their minimal form.
    public static func parse(_ script: [UInt8]) throws(ScriptError) -> [Instruction] {
        var out = [Instruction]()
        var i = 0
        while i < script.count {
            let start = i
            let byte = script[i]
            i += 1
            var length: Int?
            switch byte {
            case 0x01...0x4B: length = Int(byte)
            case Opcode.pushData1.rawValue:
                guard i + 1 <= script.count else { throw .truncatedPush(offset: start) }
                length = Int(script[i]); i += 1
                if length! < 76 { throw .nonMinimalPush(offset: start) }
            case Opcode.pushData2.rawValue:
                guard i + 2 <= script.count else { throw .truncatedPush(offset: start) }
                length = Int(script[i]) | Int(script[i + 1]) << 8; i += 2
                if length! < 256 { throw .nonMinimalPush(offset: start) }
            default: break
            }
            if let length {
                guard length <= script.count - i else { throw .truncatedPush(offset: start) }
                let data = Array(script[i..<i + length])
                // A single byte 1...16 must use OP_1...OP_16 (one encoding per value).
                if length == 1, (1...16).contains(data[0]) { throw .nonMinimalPush(offset: start) }
                out.append(.push(data))
                i += length
            } else if byte == Opcode.pushEmpty.rawValue {
                out.append(.push([]))
            } else if (Opcode.op1.rawValue...Opcode.op16.rawValue).contains(byte) {
                out.append(.push([byte - Opcode.op1.rawValue + 1]))
            } else if let op = Opcode(rawValue: byte) {
                out.append(.op(op))
            } else {
                throw .unknownOpcode(byte, offset: start)
            }
        }
        return out
    }

    static func isTrue(_ item: [UInt8]) -> Bool { item.contains { $0 != 0 } }

    /// Unsigned little-endian numbers of at most 8 bytes, minimally encoded: 0...2^64 - 1 as
    /// UInt64. Callers compare against their bounds in UInt64 before any narrowing.
    static func number(_ item: [UInt8]) throws(ScriptError) -> UInt64 {
        guard item.count <= 8, item.last != 0 else { throw .invalidNumber }
        var value: UInt64 = 0
        for (index, byte) in item.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return value
    }

    struct Machine {
        var stack: [[UInt8]]
        let context: ScriptContext
        var checks: [SignatureCheck] = []
        var operations = 0
        /// Branch states of nested IFs: true while executing.
        var branches: [Bool] = []
        lazy var sighash: Hash256 = context.sighash

        init(stack: [[UInt8]], context: ScriptContext) {
            self.stack = stack
            self.context = context
        }

        var executing: Bool { !branches.contains(false) }

        mutating func pop(_ op: Opcode) throws(ScriptError) -> [UInt8] {
            guard let top = stack.popLast() else { throw .stackUnderflow(op) }
            return top
        }

        mutating func push(_ item: [UInt8]) throws(ScriptError) {
            guard item.count <= ScriptInterpreter.maxElementBytes else { throw .elementTooLarge(item.count) }
            guard stack.count < ScriptInterpreter.maxStackItems else { throw .stackOverflow }
            stack.append(item)
        }

        mutating func run(_ program: [Instruction]) throws(ScriptError) {
            for instruction in program {
                switch instruction {
                case .push(let data):
                    if executing { try push(data) }
                case .op(let op):
                    operations += 1
                    guard operations <= ScriptInterpreter.maxOperations else { throw .tooManyOperations }
                    try execute(op)
                }
            }
            guard branches.isEmpty else { throw .unbalancedConditional }
        }

        mutating func execute(_ op: Opcode) throws(ScriptError) {
            switch op {
            case .if, .notIf:
                var condition = false
                if executing {
                    let top = try pop(op)
                    // Only empty or 0x01 (minimal IF): no malleable condition encodings.
                    guard top.isEmpty || top == [1] else { throw .verifyFailed(op) }
                    condition = (top == [1]) == (op == .if)
                }
                branches.append(executing && condition)
                return
            case .else:
                guard let last = branches.popLast() else { throw .unbalancedConditional }
                // Flip only if the enclosing branches execute.
                branches.append(!last && executing)
                return
            case .endIf:
                guard branches.popLast() != nil else { throw .unbalancedConditional }
                return
            default:
                break
            }
            guard executing else { return }
            switch op {
            case .verify:
                guard ScriptInterpreter.isTrue(try pop(op)) else { throw .verifyFailed(op) }
            case .return:
                throw .opReturn
            case .drop:
                _ = try pop(op)
            case .dup:
                guard let top = stack.last else { throw .stackUnderflow(op) }
                try push(top)
            case .equal, .equalVerify:
                let b = try pop(op), a = try pop(op)
                if op == .equalVerify {
                    guard a == b else { throw .verifyFailed(op) }
                } else {
                    try push(a == b ? [1] : [])
                }
            case .blake3:
                try push(BLAKE3.hash(try pop(op)))
            case .checkSig, .checkSigVerify:
                let publicKey = try pop(op), signature = try pop(op)
                let result = try collect(publicKey: publicKey, signature: signature)
                if op == .checkSigVerify {
                    guard result else { throw .verifyFailed(op) }
                } else {
                    try push(result ? [1] : [])
                }
            case .checkMultiSig, .checkMultiSigVerify:
                // n and m are script numbers (up to 2^64 - 1): range-checked as UInt64
                // before any conversion, so no witness value can trap.
                let n = try ScriptInterpreter.number(try pop(op))
                guard n >= 1, n <= UInt64(ScriptInterpreter.maxMultisigKeys) else { throw .badMultisigCounts(m: nil, n: n) }
                let keyCount = Int(n) // 1...20 here
                guard stack.count >= keyCount else { throw .stackUnderflow(op) }
                operations += keyCount
                guard operations <= ScriptInterpreter.maxOperations else { throw .tooManyOperations }
                var keys = [[UInt8]]()
                for _ in 0..<keyCount { keys.append(try pop(op)) }
                let m = try ScriptInterpreter.number(try pop(op))
                guard m >= 1, m <= n else { throw .badMultisigCounts(m: m, n: n) }
                guard stack.count >= keyCount else { throw .stackUnderflow(op) }
                // One signature slot per key, in the same order; empty = that key does not sign.
                var signatures = [[UInt8]]()
                for _ in 0..<keyCount { signatures.append(try pop(op)) }
                var given: UInt64 = 0
                for (key, signature) in zip(keys, signatures) where try collect(publicKey: key, signature: signature) {
                    given += 1
                }
                // No signature at all is the one false outcome (as CHECKSIG with an empty
                // signature); 1...m-1 signatures fail the script, so a false result never
                // carries a signature (NULLFAIL) and the false path has one witness form.
                if given == 0 && op == .checkMultiSig {
                    try push([])
                    return
                }
                guard given >= m else { throw .tooFewSignatures(required: m, given: given) }
                if op == .checkMultiSig { try push([1]) }
            case .checkLockTimeVerify:
                guard let top = stack.last else { throw .stackUnderflow(op) }
                let required = try ScriptInterpreter.number(top)
                let lockTime = context.transaction.lockTime
                let threshold = ScriptInterpreter.lockTimeThreshold
                guard (required < threshold) == (lockTime < threshold) else { throw .lockTimeTypeMismatch }
                guard lockTime >= required else { throw .lockTimeNotReached }
                // A final sequence disables the transaction's lock time, and with it this check.
                guard context.transaction.inputs[context.inputIndex].sequence != TxIn.finalSequence else { throw .finalSequence }
            case .checkSequenceVerify:
                guard let top = stack.last else { throw .stackUnderflow(op) }
                let required = try ScriptInterpreter.number(top)
                guard required & UInt64(RelativeLock.disableFlag) == 0 else { return }
                let sequence = context.transaction.inputs[context.inputIndex].sequence
                guard context.transaction.version >= 2, sequence & RelativeLock.disableFlag == 0 else {
                    throw .sequenceLockNotReached
                }
                let typeMask = UInt64(RelativeLock.typeFlag)
                guard required & typeMask == UInt64(sequence & RelativeLock.typeFlag) else { throw .lockTimeTypeMismatch }
                guard UInt64(sequence & RelativeLock.valueMask) >= required & UInt64(RelativeLock.valueMask) else {
                    throw .sequenceLockNotReached
                }
            default:
                throw .unknownOpcode(op.rawValue, offset: -1)
            }
        }

        /// An empty signature is "no signature" (false); any other must be well-formed and is
        /// collected as a check that must verify.
        mutating func collect(publicKey: [UInt8], signature: [UInt8]) throws(ScriptError) -> Bool {
            if signature.isEmpty { return false }
            guard publicKey.count == 32 else { throw .badPublicKeyLength(publicKey.count) }
            guard signature.count == 64 else { throw .badSignatureLength(signature.count) }
            checks.append(SignatureCheck(publicKey: publicKey, signature: signature, message: sighash))
            return true
        }
    }
}

/// BIP 68-style relative lock fields of an input's sequence number.
public enum RelativeLock {
    public static let disableFlag: UInt32 = 1 << 31
    /// Set: the value counts units of 512 seconds; clear: blocks.
    public static let typeFlag: UInt32 = 1 << 22
    public static let valueMask: UInt32 = 0x0000_FFFF
}
