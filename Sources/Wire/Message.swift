import Primitives
import QuorumServices

/// One message of section 12.3.
public enum Message: Sendable, Equatable {
    case version(VersionMessage)
    case verack
    case ping(UInt64)
    case pong(UInt64)
    case getaddr
    case addr([TimedAddress])
    case inv([InventoryItem])
    case getdata([InventoryItem])
    case notfound([InventoryItem])
    /// `stop` nil = all-zero stop hash (no stop).
    case getheaders(locator: [Hash256], stop: Hash256?)
    case headers([BlockHeader])
    case sendheaders
    case block(BlockPayload)
    case tx(Transaction)
    case mempool
    /// Base units per 1,000 bytes.
    case feefilter(UInt64)
    /// 32 fresh random bytes a masternode answers with `mnauth` (one each way per connection).
    case mnchallenge([UInt8])
    /// A masternode's signed answer to the challenge it received.
    case mnauth(MasternodeAuth)
    /// A chain lock (ChainLockMessage.swift): a quorum's signature over the block at a height.
    case clsig(ChainLock)
    /// A quorum DKG or signing message (QuorumMessages.swift, docs/protocol/quorum-p2p.md).
    case quorum(QuorumMessage)
    /// A governance execution record signed by the chain-lock quorum
    /// (docs/protocol/governance-execution.md): relayed to every node.
    case govexec(SignedGovernanceExecution)
    /// A well-framed command this version does not know: ignored, its payload dropped.
    case unknown(command: String)

    /// The commands of this version, in the order of section 12.3.
    public static let knownCommands = [
        "version", "verack", "ping", "pong", "getaddr", "addr", "inv", "getdata", "notfound",
        "getheaders", "headers", "sendheaders", "block", "tx", "mempool", "feefilter",
        "mnchallenge", "mnauth", "clsig", "govexec",
    ] + QuorumMessage.commands

    public var command: String {
        switch self {
        case .version: return "version"
        case .verack: return "verack"
        case .ping: return "ping"
        case .pong: return "pong"
        case .getaddr: return "getaddr"
        case .addr: return "addr"
        case .inv: return "inv"
        case .getdata: return "getdata"
        case .notfound: return "notfound"
        case .getheaders: return "getheaders"
        case .headers: return "headers"
        case .sendheaders: return "sendheaders"
        case .block: return "block"
        case .tx: return "tx"
        case .mempool: return "mempool"
        case .feefilter: return "feefilter"
        case .mnchallenge: return "mnchallenge"
        case .mnauth: return "mnauth"
        case .clsig: return "clsig"
        case .govexec: return "govexec"
        case .quorum(let message): return message.command
        case .unknown(let command): return command
        }
    }

    public func encodePayload() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .version(let version):
            version.encode(to: &writer)
        case .verack, .getaddr, .sendheaders, .mempool, .unknown:
            break
        case .ping(let nonce), .pong(let nonce):
            writer.write(nonce)
        case .feefilter(let rate):
            writer.write(rate)
        case .mnchallenge(let challenge):
            writer.write(bytes: challenge)
        case .mnauth(let auth):
            auth.encode(to: &writer)
        case .clsig(let lock):
            lock.encode(to: &writer)
        case .govexec(let execution):
            execution.encode(to: &writer)
        case .quorum(let message):
            message.encode(to: &writer)
        case .addr(let addresses):
            writer.writeCompactSize(UInt64(addresses.count))
            for address in addresses { address.encode(to: &writer) }
        case .inv(let items), .getdata(let items), .notfound(let items):
            writer.writeCompactSize(UInt64(items.count))
            for item in items { item.encode(to: &writer) }
        case .getheaders(let locator, let stop):
            // Messages carry the negotiated version: the lower of both sides', 1 in this version.
            writer.write(WireProtocol.version)
            writer.writeCompactSize(UInt64(locator.count))
            for hash in locator { writer.write(hash) }
            writer.write(stop ?? .zero)
        case .headers(let headers):
            writer.writeCompactSize(UInt64(headers.count))
            for header in headers { header.encode(to: &writer) }
        case .block(let block):
            return block.bytes
        case .tx(let transaction):
            return transaction.encoded
        }
        return writer.bytes
    }

    /// Decodes `payload` as `command`'s message, strictly: exactly one canonical encoding.
    /// Commands this version does not know decode to `.unknown` whatever their payload.
    public static func decode(command: String, payload: [UInt8]) throws(WireError) -> Message {
        // The frame layer already enforces this; a caller handing payloads in directly gets
        // the same bound.
        let limit = WireLimits.maxPayload(forCommand: command)
        guard payload.count <= limit else {
            throw .oversized(command: command, length: UInt32(clamping: payload.count), limit: limit)
        }
        if command == "block" { return .block(try BlockPayload(bytes: payload)) }
        do {
            var reader = ByteReader(payload, path: command)
            let message = try decodeBody(command: command, reader: &reader)
            try reader.expectEnd("end")
            return message
        } catch {
            throw .malformed(command: command, reason: "\(error)")
        }
    }

    private static func decodeBody(command: String, reader: inout ByteReader) throws -> Message {
        switch command {
        case "version": return .version(try VersionMessage.decode(from: &reader))
        case "verack": return .verack
        case "ping": return .ping(try reader.readUInt64("nonce"))
        case "pong": return .pong(try reader.readUInt64("nonce"))
        case "getaddr": return .getaddr
        case "addr":
            return .addr(try decodeList(&reader, "address", limit: WireLimits.maxAddresses, itemSize: TimedAddress.encodedLength) {
                try TimedAddress.decode(from: &$0)
            })
        case "inv": return .inv(try decodeInventory(&reader, limit: WireLimits.maxInventory))
        case "getdata": return .getdata(try decodeInventory(&reader, limit: WireLimits.maxGetData))
        case "notfound": return .notfound(try decodeInventory(&reader, limit: WireLimits.maxGetData))
        case "getheaders":
            let versionOffset = reader.offset
            let version = try reader.readUInt32("protocol_version")
            guard version == WireProtocol.version else {
                throw reader.invalid("protocol_version", at: versionOffset, "must be \(WireProtocol.version), got \(version)")
            }
            let count = try reader.readCount("locator_count", limit: UInt64(WireLimits.maxLocator), minimumItemSize: 32)
            var locator = [Hash256]()
            locator.reserveCapacity(count)
            for _ in 0..<count { locator.append(try reader.readHash("locator")) }
            let stop = try reader.readHash("stop")
            return .getheaders(locator: locator, stop: stop.isZero ? nil : stop)
        case "headers":
            return .headers(try decodeList(&reader, "header", limit: WireLimits.maxHeaders, itemSize: BlockHeader.encodedLength) {
                try BlockHeader.decode(from: &$0)
            })
        case "sendheaders": return .sendheaders
        case "tx": return .tx(try Transaction.decode(from: &reader))
        case "mempool": return .mempool
        case "feefilter": return .feefilter(try reader.readUInt64("fee_rate"))
        case "mnchallenge": return .mnchallenge(try reader.readBytes(MasternodeAuth.challengeLength, "challenge"))
        case "mnauth": return .mnauth(try MasternodeAuth.decode(from: &reader))
        case "clsig": return .clsig(try ChainLock.decode(from: &reader))
        case "govexec": return .govexec(try SignedGovernanceExecution.decode(from: &reader))
        default:
            if let message = try QuorumMessage.decode(command: command, reader: &reader) { return .quorum(message) }
            // Forward compatibility: the payload is not ours to judge.
            reader = ByteReader([])
            return .unknown(command: command)
        }
    }

    private static func decodeInventory(_ reader: inout ByteReader, limit: Int) throws -> [InventoryItem] {
        try decodeList(&reader, "item", limit: limit, itemSize: InventoryItem.encodedLength) { try InventoryItem.decode(from: &$0) }
    }

    /// `count | item...`: the count is checked against `limit` and against the bytes left
    /// (at `itemSize` each) before anything is allocated.
    private static func decodeList<Item>(_ reader: inout ByteReader, _ name: StaticString, limit: Int, itemSize: Int,
                                         _ decodeItem: (inout ByteReader) throws -> Item) throws -> [Item] {
        let count = try reader.readCount("count", limit: UInt64(limit), minimumItemSize: itemSize)
        var items = [Item]()
        items.reserveCapacity(count)
        for index in 0..<count {
            items.append(try reader.within(name, index: index) { try decodeItem(&$0) })
        }
        return items
    }
}
