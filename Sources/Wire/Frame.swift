import BLAKE3
import QuorumServices
import Primitives

/// Size limits of section 12. Each per-command maximum is at least the largest canonical
/// payload the command can have, so the header alone decides whether a payload is worth
/// buffering.
public enum WireLimits {
    public static let headerSize = 24
    /// A 4,000,000-byte block plus 1,000 bytes of slack: no frame but `block` may exceed it.
    public static let maxPayload = 4_001_000
    /// A `block` frame: the largest block any network's parameters may allow, governed or not
    /// (`EncodingLimits.maxRelayableBlockBytes`, checked when they load), plus the same slack.
    /// The limit in force is checked when the block connects; this only bounds what is buffered.
    public static let maxBlockPayload = EncodingLimits.maxRelayableBlockBytes + 1_000
    public static let maxUserAgent = 256
    public static let maxAddresses = 1_000
    public static let maxInventory = 50_000
    public static let maxGetData = 1_000
    public static let maxLocator = 101
    public static let maxHeaders = 2_000

    /// The widest CompactSize a count can take.
    static let countPrefix = 9

    public static func maxPayload(forCommand command: String) -> Int {
        switch command {
        case "version": return 1_000
        case "verack", "getaddr", "sendheaders", "mempool": return 0
        case "ping", "pong", "feefilter": return 8
        case "mnchallenge": return MasternodeAuth.challengeLength
        case "mnauth": return MasternodeAuth.encodedLength
        case "clsig": return WireLimits.chainLock
        case "govexec": return SignedGovernanceExecution.encodedLength
        case "addr": return countPrefix + maxAddresses * TimedAddress.encodedLength
        case "inv": return countPrefix + maxInventory * InventoryItem.encodedLength
        case "getdata", "notfound": return countPrefix + maxGetData * InventoryItem.encodedLength
        case "getheaders": return 4 + countPrefix + maxLocator * 32 + 32
        case "headers": return countPrefix + maxHeaders * BlockHeader.encodedLength
        case "block": return maxBlockPayload
        default: return QuorumWireLimits.maxPayload(forCommand: command) ?? maxPayload // tx, and commands this version does not know
        }
    }
}

/// The 24-byte frame header: `magic [4] | command [12] | length u32 | checksum [4]`.
public struct FrameHeader: Equatable, Sendable {
    public var magic: [UInt8]
    public var command: String
    public var length: UInt32
    public var checksum: [UInt8]

    public init(magic: [UInt8], command: String, length: UInt32, checksum: [UInt8]) {
        self.magic = magic
        self.command = command
        self.length = length
        self.checksum = checksum
    }

    /// Checks everything the 24 header bytes alone can show (magic, command, length limit),
    /// so a hostile length is refused before any of its payload is kept.
    public static func parse(_ bytes: some Collection<UInt8>, magic expected: [UInt8]) throws(WireError) -> FrameHeader {
        let header = Array(bytes.prefix(WireLimits.headerSize + 1))
        guard header.count == WireLimits.headerSize else {
            throw .malformed(command: "header", reason: "a frame header is \(WireLimits.headerSize) bytes, got \(bytes.count)")
        }
        let magic = Array(header[0..<4])
        guard magic == expected else { throw .badMagic(expected: expected, got: magic) }
        let command = try parseCommand(Array(header[4..<16]))
        var length: UInt32 = 0
        for i in 0..<4 { length |= UInt32(header[16 + i]) << (8 * i) }
        let limit = WireLimits.maxPayload(forCommand: command)
        guard UInt64(length) <= UInt64(limit) else { throw .oversized(command: command, length: length, limit: limit) }
        return FrameHeader(magic: magic, command: command, length: length, checksum: Array(header[20..<24]))
    }

    /// Throws unless the payload's BLAKE3 starts with `checksum`.
    public func verify(payload: some Collection<UInt8>) throws(WireError) {
        guard Self.checksum(of: payload) == checksum else { throw .badChecksum(command: command) }
    }

    /// The first four bytes of BLAKE3(payload).
    public static func checksum(of payload: some Collection<UInt8>) -> [UInt8] {
        Array(BLAKE3.hash(payload).prefix(4))
    }

    static func parseCommand(_ bytes: [UInt8]) throws(WireError) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.count
        // Printable ASCII, then NULs all the way: one command has exactly one encoding.
        guard end > 0, bytes[..<end].allSatisfy({ (0x21...0x7E).contains($0) }),
              bytes[end...].allSatisfy({ $0 == 0 }) else {
            throw .badCommand(bytes)
        }
        return String(decoding: bytes[..<end], as: UTF8.self)
    }

    /// The 24 header bytes. Fields of the wrong width are cut or zero-padded so the header is
    /// always 24 bytes (a command over 12 bytes cannot be framed faithfully; callers frame
    /// the known commands or commands read from a frame).
    public var encoded: [UInt8] {
        func fixed(_ bytes: some Collection<UInt8>, _ width: Int) -> [UInt8] {
            let cut = Array(bytes.prefix(width))
            return cut + [UInt8](repeating: 0, count: width - cut.count)
        }
        var out = fixed(magic, 4) + fixed(command.utf8, 12)
        for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: length >> (8 * i))) }
        return out + fixed(checksum, 4)
    }
}

public enum Frame {
    /// Header + payload of `message` for the network whose magic is `magic`.
    public static func encode(_ message: Message, magic: [UInt8]) -> [UInt8] {
        let payload = message.encodePayload()
        let header = FrameHeader(magic: magic, command: message.command,
                                 length: UInt32(clamping: payload.count), checksum: FrameHeader.checksum(of: payload))
        return header.encoded + payload
    }
}
