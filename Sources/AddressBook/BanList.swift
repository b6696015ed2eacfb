import Foundation

/// An IP range: a network address (16 bytes, host bits cleared) and a prefix length over the
/// 128-bit form, so IPv4 "1.2.3.0/24" is stored as ::ffff:1.2.3.0/120.
public struct Subnet: Hashable, Sendable, CustomStringConvertible {
    public private(set) var network: [UInt8]
    public private(set) var prefixLength: Int

    /// `prefixLength` counts over the 16-byte form; it is clamped to 0...128.
    public init(ip: [UInt8], prefixLength: Int) {
        let length = min(max(prefixLength, 0), 128)
        self.network = Subnet.mask(PeerEndpoint.normalize(ip), length)
        self.prefixLength = length
    }

    /// One address.
    public init(address ip: [UInt8]) { self.init(ip: ip, prefixLength: 128) }

    /// setban's forms: "1.2.3.4", "1.2.3.0/24", "2001:db8::/32", "::1"; nil when invalid.
    /// An IPv4 prefix counts over 32 bits (0...32), an IPv6 one over 128.
    public init?(parsing text: String) {
        guard !text.isEmpty, text.utf8.count <= 100 else { return nil }
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return nil }
        let host = parts[0]
        var ip: [UInt8]
        if let v4 = PeerEndpoint.parseIPv4(host) {
            ip = v4
        } else if let v6 = PeerEndpoint.parseIPv6(host) {
            ip = v6
        } else {
            return nil
        }
        let isV4 = ip.count == 4
        var length = 128
        if parts.count == 2 {
            let p = parts[1]
            guard (1...3).contains(p.count), p.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(p),
                  value <= (isV4 ? 32 : 128) else { return nil }
            length = isV4 ? 96 + value : value
        }
        self.init(ip: ip, prefixLength: length)
    }

    private static func mask(_ ip: [UInt8], _ length: Int) -> [UInt8] {
        var out = ip
        for i in 0..<16 {
            let bits = min(max(length - 8 * i, 0), 8)
            out[i] &= bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
        }
        return out
    }

    public func contains(_ ip: [UInt8]) -> Bool {
        Subnet.mask(PeerEndpoint.normalize(ip), prefixLength) == network
    }

    var isSingleAddress: Bool { prefixLength == 128 }

    /// "1.2.3.0/24" or "2001:db8::/32"; a single address shows /32 or /128 as bitcoind does.
    public var description: String {
        let ep = PeerEndpoint(ip: network, port: 0)
        if ep.isIPv4 && prefixLength >= 96 { return "\(ep.hostDescription)/\(prefixLength - 96)" }
        return "\(PeerEndpoint.formatIPv6(network))/\(prefixLength)"
    }
}

/// One ban, as listed by `listbanned` and stored in `banlist`.
public struct BanEntry: Sendable, Equatable, Codable {
    /// The banned range in setban's form ("1.2.3.0/24", "1.2.3.4/32").
    public var subnet: String
    public var created: UInt64
    public var until: UInt64
    public var reason: String

    public init(subnet: String, created: UInt64, until: UInt64, reason: String) {
        self.subnet = subnet
        self.created = created
        self.until = until
        self.reason = reason
    }
}

/// `setban`-style bans (bounded, persisted in `banlist`) and misbehaviour discouragement
/// (bounded, in memory only: it fades with a restart, as in Bitcoin Core).
public final class BanList: @unchecked Sendable {
    /// The most bans kept; when full, the one expiring soonest gives way.
    public let limit: Int
    /// The most discouraged addresses kept; when full, the oldest gives way.
    public let discourageLimit: Int
    /// Reasons longer than this are cut: they come from RPC callers and end up in a file.
    public static let maxReasonLength = 256

    private let lock = NSLock()
    /// Single addresses looked up directly; ranges (few in practice) scanned.
    private var single: [Subnet: BanEntry] = [:]
    private var ranges: [Subnet: BanEntry] = [:]
    private var discouraged: Set<[UInt8]> = []
    private var discouragedOrder: [[UInt8]] = []
    private var discouragedHead = 0

    public init(limit: Int = 10_000, discourageLimit: Int = 50_000) {
        self.limit = max(limit, 1)
        self.discourageLimit = max(discourageLimit, 1)
    }

    public var count: Int { locked { single.count + ranges.count } }

    /// Bans `subnet` until `until` (unix seconds); replaces an existing ban of the same range.
    /// Expired bans are swept first; if still full, the ban expiring soonest is dropped.
    public func ban(_ subnet: Subnet, until: UInt64, reason: String, now: UInt64) {
        let entry = BanEntry(subnet: subnet.description, created: now, until: until,
                             reason: String(reason.prefix(Self.maxReasonLength)))
        locked {
            if single[subnet] == nil && ranges[subnet] == nil && single.count + ranges.count >= limit {
                sweep(now: now)
                if single.count + ranges.count >= limit { dropSoonestExpiring() }
            }
            if subnet.isSingleAddress { single[subnet] = entry } else { ranges[subnet] = entry }
        }
    }

    /// Bans one address.
    public func ban(_ ip: [UInt8], until: UInt64, reason: String, now: UInt64) {
        ban(Subnet(address: ip), until: until, reason: reason, now: now)
    }

    /// Lifts the ban on exactly this range; false when there was none.
    @discardableResult
    public func unban(_ subnet: Subnet) -> Bool {
        locked {
            subnet.isSingleAddress ? single.removeValue(forKey: subnet) != nil : ranges.removeValue(forKey: subnet) != nil
        }
    }

    public func clear() {
        locked {
            single.removeAll()
            ranges.removeAll()
        }
    }

    public func isBanned(_ ip: [UInt8], now: UInt64) -> Bool {
        let address = Subnet(address: ip)
        return locked {
            if let e = single[address], e.until > now { return true }
            return ranges.contains { $0.value.until > now && $0.key.contains(address.network) }
        }
    }

    /// The bans still in force, soonest expiry first; expired ones are dropped.
    public func entries(now: UInt64) -> [BanEntry] {
        locked {
            sweep(now: now)
            return (Array(single.values) + Array(ranges.values)).sorted {
                ($0.until, $0.subnet) < ($1.until, $1.subnet)
            }
        }
    }

    /// Misbehaviour: the address is not connected to outbound, and its inbound connections
    /// are the first evicted (or refused when full). Bounded; the oldest is forgotten first.
    public func discourage(_ ip: [UInt8]) {
        let key = PeerEndpoint.normalize(ip)
        locked {
            guard discouraged.insert(key).inserted else { return }
            discouragedOrder.append(key)
            if discouraged.count > discourageLimit {
                discouraged.remove(discouragedOrder[discouragedHead])
                discouragedHead += 1
                // Compact now and then so the queue's storage stays bounded too.
                if discouragedHead > discourageLimit {
                    discouragedOrder.removeFirst(discouragedHead)
                    discouragedHead = 0
                }
            }
        }
    }

    public func isDiscouraged(_ ip: [UInt8]) -> Bool {
        let key = PeerEndpoint.normalize(ip)
        return locked { discouraged.contains(key) }
    }

    public var discouragedCount: Int { locked { discouraged.count } }

    // MARK: banlist file

    struct FileContents: Codable {
        var version: Int
        var bans: [BanEntry]
    }

    static let fileVersion = 1

    /// `banlist`: JSON {"version": 1, "bans": [...]}, written atomically.
    public func save(to path: String) throws {
        let bans = locked { Array(single.values) + Array(ranges.values) }.sorted { $0.subnet < $1.subnet }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(FileContents(version: Self.fileVersion, bans: bans))
        } catch {
            throw AddressBookFileError(path: path, kind: .io, problem: "cannot encode: \(error)")
        }
        try FileIO.writeAtomically([UInt8](data), to: path)
    }

    /// Reads `banlist`. Malformed JSON, an unknown version or an invalid subnet throws an
    /// `AddressBookFileError` naming the file; more bans than `limit` keeps the latest-expiring.
    public static func load(from path: String, limit: Int = 10_000) throws -> BanList {
        let list = BanList(limit: limit)
        // Each ban is well under 1 KB of JSON (the reason is capped); anything larger is not ours.
        let bytes = try FileIO.readWhole(path, maxBytes: 64 * 1024 + list.limit * 1024)
        func corrupt(_ problem: String) -> AddressBookFileError {
            AddressBookFileError(path: path, kind: .corrupt, problem: problem)
        }
        let contents: FileContents
        do {
            contents = try JSONDecoder().decode(FileContents.self, from: Data(bytes))
        } catch {
            throw corrupt("not a valid banlist (JSON): \(error)")
        }
        guard contents.version == fileVersion else {
            throw corrupt("unsupported banlist version \(contents.version) (this node reads \(fileVersion))")
        }
        var bans = [(Subnet, BanEntry)]()
        for (index, var entry) in contents.bans.enumerated() {
            guard let subnet = Subnet(parsing: entry.subnet) else {
                throw corrupt("ban \(index): '\(entry.subnet.prefix(60))' is not an address or subnet")
            }
            entry.reason = String(entry.reason.prefix(maxReasonLength))
            entry.subnet = subnet.description
            bans.append((subnet, entry))
        }
        for (subnet, entry) in bans.sorted(by: { $0.1.until > $1.1.until }).prefix(list.limit) {
            list.insertLoaded(subnet, entry)
        }
        return list
    }

    private func insertLoaded(_ subnet: Subnet, _ entry: BanEntry) {
        locked {
            if subnet.isSingleAddress { single[subnet] = entry } else { ranges[subnet] = entry }
        }
    }

    // MARK: Internals (caller holds the lock)

    private func sweep(now: UInt64) {
        single = single.filter { $0.value.until > now }
        ranges = ranges.filter { $0.value.until > now }
    }

    private func dropSoonestExpiring() {
        let a = single.min { $0.value.until < $1.value.until }
        let b = ranges.min { $0.value.until < $1.value.until }
        if let a, b == nil || a.value.until <= b!.value.until {
            single.removeValue(forKey: a.key)
        } else if let b {
            ranges.removeValue(forKey: b.key)
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
