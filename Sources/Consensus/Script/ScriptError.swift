/// Why a script failed. Every case is a consensus rule with a stable name (`rule`).
public enum ScriptError: Error, Equatable, Sendable, CustomStringConvertible {
    case scriptTooLarge(Int)
    case truncatedPush(offset: Int)
    case nonMinimalPush(offset: Int)
    case unknownOpcode(UInt8, offset: Int)
    case tooManyOperations
    case stackOverflow
    case elementTooLarge(Int)
    case stackUnderflow(Opcode)
    case unbalancedConditional
    case opReturn
    case verifyFailed(Opcode)
    case invalidNumber
    case badPublicKeyLength(Int)
    case badSignatureLength(Int)
    /// `m` is nil when `n` is already out of range (m is not read then).
    case badMultisigCounts(m: UInt64?, n: UInt64)
    case tooFewSignatures(required: UInt64, given: UInt64)
    case lockTimeNotReached
    case lockTimeTypeMismatch
    case sequenceLockNotReached
    case finalSequence
    case falseResult
    case cleanStack(Int)
    case witnessTooLarge

    /// The rule's name, as consensus errors report it.
    public var rule: RuleName {
        switch self {
        case .scriptTooLarge: return .scriptSize
        case .truncatedPush: return .scriptTruncatedPush
        case .nonMinimalPush: return .scriptMinimalPush
        case .unknownOpcode: return .scriptBadOpcode
        case .tooManyOperations: return .scriptOpCount
        case .stackOverflow: return .scriptStackSize
        case .elementTooLarge: return .scriptPushSize
        case .stackUnderflow: return .scriptStackUnderflow
        case .unbalancedConditional: return .scriptUnbalancedConditional
        case .opReturn: return .scriptReturn
        case .verifyFailed: return .scriptVerify
        case .invalidNumber: return .scriptNumber
        case .badPublicKeyLength: return .scriptPubkeySize
        case .badSignatureLength: return .scriptSigSize
        case .badMultisigCounts: return .scriptMultisigCounts
        case .tooFewSignatures: return .scriptMultisigTooFew
        case .lockTimeNotReached: return .scriptLocktime
        case .lockTimeTypeMismatch: return .scriptLocktimeType
        case .sequenceLockNotReached: return .scriptSequenceLock
        case .finalSequence: return .scriptFinalSequence
        case .falseResult: return .scriptFalse
        case .cleanStack: return .scriptCleanStack
        case .witnessTooLarge: return .scriptWitnessSize
        }
    }

    public var description: String {
        switch self {
        case .scriptTooLarge(let size): return "\(rule.rawValue): script of \(size) bytes"
        case .truncatedPush(let offset): return "\(rule.rawValue): push runs past the end at byte \(offset)"
        case .nonMinimalPush(let offset): return "\(rule.rawValue): push at byte \(offset) is not the minimal form"
        case .unknownOpcode(let byte, let offset): return "\(rule.rawValue): opcode 0x\(String(byte, radix: 16)) at byte \(offset)"
        case .stackUnderflow(let op): return "\(rule.rawValue): \(op) needs more stack items"
        case .verifyFailed(let op): return "\(rule.rawValue): \(op) failed"
        case .badPublicKeyLength(let n): return "\(rule.rawValue): public key of \(n) bytes"
        case .badSignatureLength(let n): return "\(rule.rawValue): signature of \(n) bytes"
        case let .badMultisigCounts(m, n): return "\(rule.rawValue): " + (m.map { "\($0)-of-\(n)" } ?? "\(n) keys (1...\(ScriptInterpreter.maxMultisigKeys) allowed)")
        case let .tooFewSignatures(required, given): return "\(rule.rawValue): \(given) signatures, \(required) required"
        case .elementTooLarge(let n): return "\(rule.rawValue): element of \(n) bytes"
        case .cleanStack(let n): return "\(rule.rawValue): \(n) items left"
        default: return rule.rawValue
        }
    }
}
