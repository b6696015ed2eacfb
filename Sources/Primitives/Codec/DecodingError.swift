/// Why a byte string is not a valid encoding. Each case names the field (a path such as
/// `block.tx[3].input[1].prevout`) and the byte offset where decoding stopped, so a
/// rejected block or file can be reported precisely.
public enum DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input ended inside `field`: `needed` bytes were required at `offset`, `available` remained.
    case truncated(field: String, offset: Int, needed: Int, available: Int)
    /// Bytes remained after the value was complete.
    case trailingBytes(field: String, offset: Int, count: Int)
    /// A CompactSize length or count used more bytes than its value needs.
    case nonMinimalCompactSize(field: String, offset: Int, value: UInt64)
    /// A length or count above the limit for `field`.
    case countTooLarge(field: String, offset: Int, count: UInt64, limit: UInt64)
    /// A value that is well-formed bytes but not allowed (for example an amount above the money supply).
    case invalidValue(field: String, offset: Int, reason: String)

    public var description: String {
        switch self {
        case let .truncated(field, offset, needed, available):
            return "truncated \(field) at byte \(offset): needs \(needed) bytes, \(available) left"
        case let .trailingBytes(field, offset, count):
            return "\(count) trailing bytes after \(field) at byte \(offset)"
        case let .nonMinimalCompactSize(field, offset, value):
            return "non-minimal length prefix for \(field) at byte \(offset) (value \(value))"
        case let .countTooLarge(field, offset, count, limit):
            return "\(field) at byte \(offset): \(count) exceeds the limit of \(limit)"
        case let .invalidValue(field, offset, reason):
            return "invalid \(field) at byte \(offset): \(reason)"
        }
    }
}
