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
    public var rule: String {
        switch self {
        case .scriptTooLarge: return "script-size"
        case .truncatedPush: return "script-truncated-push"
        case .nonMinimalPush: return "script-minimal-push"
        case .unknownOpcode: return "script-bad-opcode"
        case .tooManyOperations: return "script-op-count"
        case .stackOverflow: return "script-stack-size"
        case .elementTooLarge: return "script-push-size"
        case .stackUnderflow: return "script-stack-underflow"
        case .unbalancedConditional: return "script-unbalanced-conditional"
        case .opReturn: return "script-return"
        case .verifyFailed: return "script-verify"
        case .invalidNumber: return "script-number"
        case .badPublicKeyLength: return "script-pubkey-size"
        case .badSignatureLength: return "script-sig-size"
        case .badMultisigCounts: return "script-multisig-counts"
        case .tooFewSignatures: return "script-multisig-too-few"
        case .lockTimeNotReached: return "script-locktime"
        case .lockTimeTypeMismatch: return "script-locktime-type"
        case .sequenceLockNotReached: return "script-sequence-lock"
        case .finalSequence: return "script-final-sequence"
        case .falseResult: return "script-false"
        case .cleanStack: return "script-clean-stack"
        case .witnessTooLarge: return "script-witness-size"
        }
    }

    public var description: String {
        switch self {
        case .scriptTooLarge(let size): return "\(rule): script of \(size) bytes"
        case .truncatedPush(let offset): return "\(rule): push runs past the end at byte \(offset)"
        case .nonMinimalPush(let offset): return "\(rule): push at byte \(offset) is not the minimal form"
        case .unknownOpcode(let byte, let offset): return "\(rule): opcode 0x\(String(byte, radix: 16)) at byte \(offset)"
        case .stackUnderflow(let op): return "\(rule): \(op) needs more stack items"
        case .verifyFailed(let op): return "\(rule): \(op) failed"
        case .badPublicKeyLength(let n): return "\(rule): public key of \(n) bytes"
        case .badSignatureLength(let n): return "\(rule): signature of \(n) bytes"
        case let .badMultisigCounts(m, n): return "\(rule): " + (m.map { "\($0)-of-\(n)" } ?? "\(n) keys (1...\(ScriptInterpreter.maxMultisigKeys) allowed)")
        case let .tooFewSignatures(required, given): return "\(rule): \(given) signatures, \(required) required"
        case .elementTooLarge(let n): return "\(rule): element of \(n) bytes"
        case .cleanStack(let n): return "\(rule): \(n) items left"
        default: return rule
        }
    }
}
