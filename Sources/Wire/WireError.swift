// Module Wire: the P2P wire protocol of docs/PROTOCOL.md section 12 (frames, message codecs,
// the incremental frame reader). Pure value code, no I/O: the node's NIO handler and the fuzz
// targets share it.
import Primitives

/// Why a frame or a payload was refused. Every case is fatal for the connection it came on.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The first four bytes are not this network's magic.
    case badMagic(expected: [UInt8], got: [UInt8])
    /// The 12 command bytes are not 1-12 printable ASCII bytes followed only by NULs.
    case badCommand([UInt8])
    /// The header announces more payload than the command may carry.
    case oversized(command: String, length: UInt32, limit: Int)
    /// A `block` frame above the ordinary limit from a peer no block was asked of
    /// (PROTOCOL 12.1): only requested blocks may be that large.
    case unrequestedLargeBlock(length: UInt32, limit: Int)
    /// The payload's BLAKE3 does not start with the header's checksum.
    case badChecksum(command: String)
    /// The payload is not exactly one canonical encoding of the command's message.
    case malformed(command: String, reason: String)

    /// Short kebab-case name, for logs and misbehaviour counters.
    public var reason: String {
        switch self {
        case .badMagic: return "bad-magic"
        case .badCommand: return "bad-command"
        case .oversized: return "oversized"
        case .unrequestedLargeBlock: return "unrequested-large-block"
        case .badChecksum: return "bad-checksum"
        case .malformed(let command, _): return "malformed-\(command)"
        }
    }

    public var description: String {
        switch self {
        case let .badMagic(expected, got):
            return "bad magic \(HexCoding.encode(got)) (this network's is \(HexCoding.encode(expected)))"
        case let .badCommand(bytes):
            return "bad command bytes \(HexCoding.encode(bytes)) (need 1-12 ASCII 0x21-0x7E, then only NUL padding)"
        case let .oversized(command, length, limit):
            return "oversized \(command) payload: \(length) bytes announced, at most \(limit) allowed"
        case let .unrequestedLargeBlock(length, limit):
            return "unrequested block frame of \(length) bytes: above \(limit) bytes only a block this node asked for"
        case let .badChecksum(command):
            return "bad checksum on \(command) payload"
        case let .malformed(command, reason):
            return "malformed \(command) payload: \(reason)"
        }
    }
}
