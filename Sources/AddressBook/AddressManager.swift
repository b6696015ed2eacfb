import BLAKE3
import Foundation

/// What we know about one peer address.
public struct AddressInfo: Sendable, Equatable {
    public var endpoint: PeerEndpoint
    public var services: UInt64
    /// Last seen (unix seconds), as announced, clamped when it lies in the future.
    public var time: UInt64
    public var lastTry: UInt64
    public var lastSuccess: UInt64
    public var attempts: Int
    /// The peer that told us about it (nil when unknown).
    public var source: PeerEndpoint?

    public init(endpoint: PeerEndpoint, services: UInt64, time: UInt64, lastTry: UInt64 = 0,
                lastSuccess: UInt64 = 0, attempts: Int = 0, source: PeerEndpoint? = nil) {
        self.endpoint = endpoint
        self.services = services
        self.time = time
        self.lastTry = lastTry
        self.lastSuccess = lastSuccess
        self.attempts = attempts
        self.source = source
    }
}

/// The address manager (Bitcoin Core's addrman idea, simplified): a "new" table of addresses
/// heard about and a "tried" table of addresses we connected to, both fixed arrays of buckets
/// of slots. Where an address lands is a keyed hash of its network group and of the group of
/// the peer that announced it, with a secret key: an attacker cannot aim at slots, and one
/// source group reaches only `newBucketsPerSourceGroup` buckets, so one peer (or one /16)
/// cannot fill the table, and one network group reaches at most 8 tried buckets.
public final class AddressManager: @unchecked Sendable {
    public struct Limits: Sendable, Equatable {
        public var newBuckets: Int
        public var triedBuckets: Int
        public var bucketSize: Int
        /// Addresses from one source group land in at most this many new buckets.
        public var newBucketsPerSourceGroup: Int
        /// An address not seen for longer is "terrible": the first to be replaced.
        public var maxAge: UInt64

        /// Values are clamped to 1...65,536 buckets and 1...1,024 slots so a configuration
        /// can neither trap the hashing (modulo zero) nor allocate without bound.
        public init(newBuckets: Int = 1024, triedBuckets: Int = 256, bucketSize: Int = 64,
                    newBucketsPerSourceGroup: Int = 64, maxAge: UInt64 = 30 * 86_400) {
            self.newBuckets = min(max(newBuckets, 1), 65_536)
            self.triedBuckets = min(max(triedBuckets, 1), 65_536)
            self.bucketSize = min(max(bucketSize, 1), 1024)
            self.newBucketsPerSourceGroup = min(max(newBucketsPerSourceGroup, 1), self.newBuckets)
            self.maxAge = maxAge
        }

        var capacity: Int { (newBuckets + triedBuckets) * bucketSize }
    }

    /// How many tried buckets one network group can reach (Bitcoin Core's value).
    static let triedBucketsPerGroup: UInt64 = 8
    /// An announced time further ahead than this is a lie; it is replaced by "5 days ago".
    static let futureSlack: UInt64 = 600
    /// Addresses tried this recently are not offered again by `select`.
    static let retryInterval: UInt64 = 60

    struct Entry {
        var info: AddressInfo
        var inTried: Bool
        /// Index into `newTable` or `triedTable`.
        var slot: Int
        /// Index into `newList` or `triedList` (uniform random choice in O(1)).
        var listIndex: Int
    }

    public let limits: Limits
    public let allowNonRoutable: Bool
    let key: [UInt8]
    private let lock = NSLock()
    private var entries: [PeerEndpoint: Entry] = [:]
    private var newTable: [PeerEndpoint?]
    private var triedTable: [PeerEndpoint?]
    private var newList: [PeerEndpoint] = []
    private var triedList: [PeerEndpoint] = []

    /// `key`: 32 random bytes, kept in peers.dat so slots stay where they were. Another
    /// length is hashed down to 32 bytes rather than refused.
    public init(key: [UInt8], allowNonRoutable: Bool, limits: Limits = .init()) {
        self.key = key.count == 32 ? key : BLAKE3.hash(key)
        self.allowNonRoutable = allowNonRoutable
        self.limits = limits
        newTable = Array(repeating: nil, count: limits.newBuckets * limits.bucketSize)
        triedTable = Array(repeating: nil, count: limits.triedBuckets * limits.bucketSize)
    }

    /// A fresh random key from the system generator.
    public static func randomKey() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    // MARK: Counts and lookups

    public var newCount: Int { locked { newList.count } }
    public var triedCount: Int { locked { triedList.count } }
    public var count: Int { locked { entries.count } }

    public func contains(_ endpoint: PeerEndpoint) -> Bool {
        let ep = PeerEndpoint(ip: endpoint.ip, port: endpoint.port)
        return locked { entries[ep] != nil }
    }

    public func info(_ endpoint: PeerEndpoint) -> AddressInfo? {
        let ep = PeerEndpoint(ip: endpoint.ip, port: endpoint.port)
        return locked { entries[ep]?.info }
    }

    /// Whether the address is in the tried table (nil when unknown).
    public func isTried(_ endpoint: PeerEndpoint) -> Bool? {
        let ep = PeerEndpoint(ip: endpoint.ip, port: endpoint.port)
        return locked { entries[ep]?.inTried }
    }

    /// Every entry, tried ones flagged (for peers.dat, RPC and tests), sorted by endpoint.
    public func allEntries() -> [(info: AddressInfo, tried: Bool)] {
        locked { entries.values.map { ($0.info, $0.inTried) } }.sorted { $0.info.endpoint < $1.info.endpoint }
    }

    public func group(of endpoint: PeerEndpoint) -> [UInt8] {
        endpoint.networkGroup(localIsDistinct: allowNonRoutable)
    }

    // MARK: Adding

    /// Adds addresses announced by `source`; returns how many were new to us. Non-routable
    /// addresses are dropped unless allowed (regtest); unspecified addresses and port 0 always.
    @discardableResult
    public func add(_ addresses: [(endpoint: PeerEndpoint, services: UInt64, time: UInt64)],
                    source: PeerEndpoint, now: UInt64) -> Int {
        let source = PeerEndpoint(ip: source.ip, port: source.port)
        return locked {
            var added = 0
            for address in addresses where addOne(address.endpoint, address.services, address.time, source, now) {
                added += 1
            }
            return added
        }
    }

    private func addOne(_ endpoint: PeerEndpoint, _ services: UInt64, _ time: UInt64,
                        _ source: PeerEndpoint, _ now: UInt64) -> Bool {
        let ep = PeerEndpoint(ip: endpoint.ip, port: endpoint.port)
        guard ep.port != 0, !ep.isUnspecified, allowNonRoutable || ep.isRoutable else { return false }
        var seen = time
        if seen > now &+ Self.futureSlack || seen < 100_000_000 {
            seen = now > 5 * 86_400 ? now - 5 * 86_400 : 0
        }
        if var existing = entries[ep] {
            existing.info.services |= services
            if seen > existing.info.time { existing.info.time = seen }
            entries[ep] = existing
            return false
        }
        let info = AddressInfo(endpoint: ep, services: services, time: seen, source: source)
        let slot = newSlot(ep, source: source)
        if let occupant = newTable[slot] {
            // The better entry keeps the slot: only a terrible one gives way.
            guard let old = entries[occupant], isTerrible(old.info, now: now) else { return false }
            removeEntry(occupant)
        }
        insert(info, tried: false, slot: slot)
        return true
    }

    // MARK: Outcomes of connections

    /// A connection to `endpoint` is being attempted: counts towards the failure weighting.
    public func markAttempt(_ endpoint: PeerEndpoint, now: UInt64) {
        let ep = PeerEndpoint(ip: endpoint.ip, port: endpoint.port)
        locked {
            guard var e = entries[ep] else { return }
            e.info.lastTry = now
            e.info.attempts = min(e.info.attempts + 1, 1_000_000)
            entries[ep] = e
        }
    }

    /// A connection to `endpoint` succeeded: it moves to the tried table. A tried entry in
    /// the slot it needs goes back to the new table (the new slot's occupant gives way).
    public func markGood(_ endpoint: PeerEndpoint, now: UInt64) {
        let ep = PeerEndpoint(ip: endpoint.ip, port: endpoint.port)
        locked {
            guard var e = entries[ep] else { return }
            e.info.lastSuccess = now
            e.info.lastTry = now
            e.info.time = max(e.info.time, now)
            e.info.attempts = 0
            if e.inTried {
                entries[ep] = e
                return
            }
            removeEntry(ep)
            let slot = triedSlot(ep)
            if let victim = triedTable[slot], let old = entries[victim] {
                removeEntry(victim)
                let back = newSlot(victim, source: old.info.source ?? victim)
                if let occupant = newTable[back] { removeEntry(occupant) }
                insert(old.info, tried: false, slot: back)
            }
            insert(e.info, tried: true, slot: slot)
        }
    }

    // MARK: Choosing

    /// An address for an outbound connection: tried or new with even odds (when both have
    /// entries), weighted down by recent failures; never one in `excludingGroups` (one
    /// outbound per network group), tried in the last 60 s, or refused by `accept` (e.g. banned
    /// or discouraged). Nil when nothing fits. `accept` runs under the manager's lock: it must
    /// not call back into this manager.
    public func select(excludingGroups: Set<[UInt8]> = [], now: UInt64,
                       using rng: inout some RandomNumberGenerator,
                       accept: (AddressInfo) -> Bool = { _ in true }) -> AddressInfo? {
        lock.lock()
        defer { lock.unlock() }
        if entries.isEmpty { return nil }
        func eligible(_ info: AddressInfo) -> Bool {
            if info.lastTry != 0, now < info.lastTry &+ Self.retryInterval { return false }
            if excludingGroups.contains(group(of: info.endpoint)) { return false }
            return accept(info)
        }
        // Random draws with a growing acceptance factor, as in Bitcoin Core, but bounded:
        // when eligible entries are rare, a scan below decides instead of looping forever.
        var factor = 1.0
        for _ in 0..<200 {
            let useTried = !triedList.isEmpty && (newList.isEmpty || Bool.random(using: &rng))
            let list = useTried ? triedList : newList
            let ep = list[Int.random(in: 0..<list.count, using: &rng)]
            guard let info = entries[ep]?.info, eligible(info) else { continue }
            if Double.random(in: 0..<1, using: &rng) < factor * chance(info, now: now) { return info }
            factor *= 1.2
        }
        let candidates = (triedList + newList).compactMap { entries[$0]?.info }.filter(eligible)
        return candidates.isEmpty ? nil : candidates[Int.random(in: 0..<candidates.count, using: &rng)]
    }

    /// The answer to getaddr: at most `max` and at most 23% of what we know, chosen at
    /// random (so repeated getaddr cannot enumerate the whole table), terrible ones skipped
    /// when `now` is given.
    public func sample(max: Int, now: UInt64? = nil, using rng: inout some RandomNumberGenerator) -> [AddressInfo] {
        locked {
            var all = newList + triedList
            // 23% of the table (Bitcoin Core: a peer cannot copy it all quickly), but at least
            // 10 addresses, or all when fewer are known: a young network's bootstrap node
            // must still hand out the few it has.
            let wanted = Swift.min(Swift.max(max, 0), Swift.max(all.count * 23 / 100, Swift.min(all.count, 10)))
            var out = [AddressInfo]()
            var i = 0
            while out.count < wanted && i < all.count {
                let j = Int.random(in: i..<all.count, using: &rng)
                all.swapAt(i, j)
                if let info = entries[all[i]]?.info, now.map({ !isTerrible(info, now: $0) }) ?? true {
                    out.append(info)
                }
                i += 1
            }
            return out
        }
    }

    // MARK: Quality

    /// Bitcoin Core's notion: not seen for `maxAge`, a future time, or failed often with no
    /// (recent) success. Such entries give their slot to any newcomer.
    func isTerrible(_ info: AddressInfo, now: UInt64) -> Bool {
        if info.lastTry != 0, now < info.lastTry &+ 60 { return false }
        if info.time > now &+ Self.futureSlack { return true }
        if info.time == 0 || (now > info.time && now - info.time > limits.maxAge) { return true }
        if info.lastSuccess == 0 && info.attempts >= 3 { return true }
        if now > info.lastSuccess && now - info.lastSuccess > 7 * 86_400 && info.attempts >= 10 { return true }
        return false
    }

    /// Relative odds of choosing the entry: recent and repeated failures make it less likely.
    func chance(_ info: AddressInfo, now: UInt64) -> Double {
        var c = 1.0
        if info.lastTry != 0, now < info.lastTry &+ 600 { c *= 0.01 }
        return c * pow(0.66, Double(min(info.attempts, 8)))
    }

    // MARK: Slots

    private func keyedHash(_ tag: String, _ parts: [UInt8]...) -> UInt64 {
        var hasher = BLAKE3Hasher(key: key)
        hasher.update(Array(tag.utf8))
        // Length-prefixed parts: groups differ in length, so concatenation alone is ambiguous.
        for part in parts {
            hasher.update([UInt8(truncatingIfNeeded: part.count), UInt8(truncatingIfNeeded: part.count >> 8)])
            hasher.update(part)
        }
        let out = hasher.finalize(count: 8)
        return out.enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    }

    private static func bytes(_ ep: PeerEndpoint) -> [UInt8] { ep.ip + [UInt8(ep.port >> 8), UInt8(ep.port & 0xFF)] }
    private static func bytes(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    func newBucket(_ ep: PeerEndpoint, source: PeerEndpoint) -> Int {
        let sourceGroup = group(of: source)
        let spread = keyedHash("new-spread", group(of: ep), sourceGroup) % UInt64(limits.newBucketsPerSourceGroup)
        return Int(keyedHash("new-bucket", sourceGroup, Self.bytes(spread)) % UInt64(limits.newBuckets))
    }

    func triedBucket(_ ep: PeerEndpoint) -> Int {
        let spread = keyedHash("tried-spread", Self.bytes(ep)) % Self.triedBucketsPerGroup
        return Int(keyedHash("tried-bucket", group(of: ep), Self.bytes(spread)) % UInt64(limits.triedBuckets))
    }

    private func newSlot(_ ep: PeerEndpoint, source: PeerEndpoint) -> Int {
        let bucket = newBucket(ep, source: source)
        let position = keyedHash("new-position", Self.bytes(UInt64(bucket)), Self.bytes(ep)) % UInt64(limits.bucketSize)
        return bucket * limits.bucketSize + Int(position)
    }

    private func triedSlot(_ ep: PeerEndpoint) -> Int {
        let bucket = triedBucket(ep)
        let position = keyedHash("tried-position", Self.bytes(UInt64(bucket)), Self.bytes(ep)) % UInt64(limits.bucketSize)
        return bucket * limits.bucketSize + Int(position)
    }

    // MARK: Table bookkeeping (caller holds the lock)

    private func insert(_ info: AddressInfo, tried: Bool, slot: Int) {
        let ep = info.endpoint
        if tried {
            triedTable[slot] = ep
            triedList.append(ep)
            entries[ep] = Entry(info: info, inTried: true, slot: slot, listIndex: triedList.count - 1)
        } else {
            newTable[slot] = ep
            newList.append(ep)
            entries[ep] = Entry(info: info, inTried: false, slot: slot, listIndex: newList.count - 1)
        }
    }

    private func removeEntry(_ ep: PeerEndpoint) {
        guard let e = entries.removeValue(forKey: ep) else { return }
        if e.inTried {
            triedTable[e.slot] = nil
            Self.swapRemove(&triedList, at: e.listIndex, entries: &entries)
        } else {
            newTable[e.slot] = nil
            Self.swapRemove(&newList, at: e.listIndex, entries: &entries)
        }
    }

    private static func swapRemove(_ list: inout [PeerEndpoint], at index: Int, entries: inout [PeerEndpoint: Entry]) {
        let last = list.removeLast()
        if index < list.count {
            list[index] = last
            entries[last]?.listIndex = index
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: peers.dat

    static let magic: [UInt8] = Array("RPDA".utf8)
    static let formatVersion: UInt32 = 1
    static let headerSize = 4 + 4 + 32 + 4
    static let recordSize = 1 + 18 + 8 + 8 + 8 + 8 + 4 + 1 + 18
    static let checksumSize = 32

    /// peers.dat: "RPDA", format version (u32), key (32), entry count (u32), the entries
    /// (table, endpoint, services, times, attempts, source; slots are recomputed on load),
    /// then BLAKE3 of everything before. Written atomically.
    public func save(to path: String) throws {
        try FileIO.writeAtomically(serialized(), to: path)
    }

    func serialized() -> [UInt8] {
        let snapshot = locked { (entries.values.map { ($0.info, $0.inTried) }) }
        var w = ByteWriter()
        w.raw(Self.magic)
        w.u32(Self.formatVersion)
        w.raw(key)
        w.u32(UInt32(snapshot.count))
        for (info, tried) in snapshot {
            w.u8(tried ? 1 : 0)
            w.raw(info.endpoint.ip)
            w.u16(info.endpoint.port)
            w.u64(info.services)
            w.u64(info.time)
            w.u64(info.lastTry)
            w.u64(info.lastSuccess)
            w.u32(UInt32(clamping: info.attempts))
            if let source = info.source {
                w.u8(1)
                w.raw(source.ip)
                w.u16(source.port)
            } else {
                w.u8(0)
                w.raw([UInt8](repeating: 0, count: 18))
            }
        }
        w.raw(Self.checksum(w.bytes))
        return w.bytes
    }

    static func checksum(_ bytes: some Sequence<UInt8>) -> [UInt8] { BLAKE3.hash(bytes) }

    /// Reads peers.dat. Any damage (bad magic, unknown version, checksum mismatch, wrong
    /// length, bad field) throws an `AddressBookFileError` naming the file and the problem.
    public static func load(from path: String, allowNonRoutable: Bool, limits: Limits = .init()) throws -> AddressManager {
        let maxBytes = headerSize + recordSize * limits.capacity + checksumSize
        let bytes = try FileIO.readWhole(path, maxBytes: maxBytes)
        return try decode(bytes, path: path, allowNonRoutable: allowNonRoutable, limits: limits)
    }

    static func decode(_ bytes: [UInt8], path: String, allowNonRoutable: Bool, limits: Limits) throws -> AddressManager {
        func corrupt(_ problem: String) -> AddressBookFileError {
            AddressBookFileError(path: path, kind: .corrupt, problem: problem)
        }
        guard bytes.count >= headerSize + checksumSize else {
            throw corrupt("truncated: \(bytes.count) bytes, shorter than the \(headerSize + checksumSize)-byte header and checksum")
        }
        guard Array(bytes[0..<4]) == magic else { throw corrupt("bad magic (not a peers.dat file)") }
        var r = ByteReader(bytes, end: bytes.count - checksumSize)
        _ = r.raw(4)
        let version = UInt32(r.uint(4)!)
        guard version == formatVersion else { throw corrupt("unsupported format version \(version) (this node reads \(formatVersion))") }
        guard checksum(bytes[0..<(bytes.count - checksumSize)]) == Array(bytes[(bytes.count - checksumSize)...]) else {
            throw corrupt("checksum mismatch (the file is damaged or truncated)")
        }
        let key = r.raw(32)!
        let count = Int(r.uint(4)!)
        guard count <= limits.capacity else { throw corrupt("\(count) entries, more than the \(limits.capacity) the tables hold") }
        guard r.remaining == count * recordSize else {
            throw corrupt("\(count) entries need \(count * recordSize) bytes but \(r.remaining) are present")
        }
        let manager = AddressManager(key: key, allowNonRoutable: allowNonRoutable, limits: limits)
        var tried: [AddressInfo] = [], new: [AddressInfo] = []
        for index in 0..<count {
            let table = r.u8()!
            guard table <= 1 else { throw corrupt("entry \(index): table \(table) is neither new (0) nor tried (1)") }
            let ep = PeerEndpoint(ip: r.raw(16)!, port: UInt16(r.uint(2)!))
            var info = AddressInfo(endpoint: ep, services: r.uint(8)!, time: r.uint(8)!, lastTry: r.uint(8)!,
                                   lastSuccess: r.uint(8)!, attempts: Int(r.uint(4)!))
            let hasSource = r.u8()!
            let source = PeerEndpoint(ip: r.raw(16)!, port: UInt16(r.uint(2)!))
            guard hasSource <= 1 else { throw corrupt("entry \(index): source flag \(hasSource) is not 0 or 1") }
            info.source = hasSource == 1 ? source : nil
            info.attempts = min(info.attempts, 1_000_000)
            // A regtest file read as mainnet (or an older, laxer node) may hold local addresses.
            guard ep.port != 0, !ep.isUnspecified, allowNonRoutable || ep.isRoutable else { continue }
            if table == 1 { tried.append(info) } else { new.append(info) }
        }
        manager.restore(tried: tried, new: new)
        return manager
    }

    /// Puts loaded entries back at their recomputed slots; a clash (only possible with
    /// different limits or an edited file) keeps the first and drops the rest.
    private func restore(tried: [AddressInfo], new: [AddressInfo]) {
        locked {
            for info in tried where entries[info.endpoint] == nil {
                let slot = triedSlot(info.endpoint)
                if triedTable[slot] == nil { insert(info, tried: true, slot: slot) }
            }
            for info in new where entries[info.endpoint] == nil {
                let slot = newSlot(info.endpoint, source: info.source ?? info.endpoint)
                if newTable[slot] == nil { insert(info, tried: false, slot: slot) }
            }
        }
    }
}
