import Primitives

/// The deterministic masternode list: every registered masternode by id, with the indexes
/// the uniqueness rules need. A function of the chain (PROTOCOL section 16.4); `root`
/// commits to it. Changes go through the mutating methods, which record the previous value
/// of every entry they touch in a `MasternodeListUndo`, so disconnecting a block is exact.
public struct MasternodeList: Sendable {
    public private(set) var entries: [Hash256: MasternodeEntry] = [:]
    private var byCollateral: [OutPoint: Hash256] = [:]
    private var byOwnerKey: [KeyBytes: Hash256] = [:]
    private var byOperatorKey: [KeyBytes: Hash256] = [:]
    private var byEncryptionKey: [KeyBytes: Hash256] = [:]
    private var byService: [ServiceAddress: Hash256] = [:]
    /// The ids in root order (bytes ascending, `Hash256.<`) and the Merkle tree over each
    /// one's leaf hash at the same position, kept up to date by every change: `root()`
    /// re-hashes only what changed since the last root, and `sorted` needs no sort.
    private var orderedIds: [Hash256] = []
    private var tree = IncrementalMerkleTree()

    public init() {}

    /// A list of `entries` (a later entry with an id already seen replaces it).
    public init(entries: some Sequence<MasternodeEntry>) {
        self.init(stored: entries.map { StoredMasternodeEntry(entry: $0) })
    }

    /// The list of the records a store keyed by id holds, with the leaf hashes of the stored
    /// bytes (no entry is re-encoded to hash it). Built in one pass when the records come
    /// sorted by id without repeats, as that store yields them: no search per entry, and the
    /// tree is hashed bottom-up once, at the first root. Otherwise the last record of each
    /// id wins and the ids are sorted first.
    public init(stored unordered: [StoredMasternodeEntry]) {
        var records = unordered
        if !zip(records, records.dropFirst()).allSatisfy({ $0.entry.proTxHash < $1.entry.proTxHash }) {
            var latest = [Hash256: StoredMasternodeEntry](minimumCapacity: records.count)
            for record in records { latest[record.entry.proTxHash] = record }
            records = latest.values.sorted { $0.entry.proTxHash < $1.entry.proTxHash }
        }
        // Sized once: growing six dictionaries entry by entry re-hashes each several times.
        entries.reserveCapacity(records.count)
        byCollateral.reserveCapacity(records.count)
        byOwnerKey.reserveCapacity(records.count)
        byOperatorKey.reserveCapacity(records.count)
        byEncryptionKey.reserveCapacity(records.count)
        byService.reserveCapacity(records.count)
        orderedIds.reserveCapacity(records.count)
        var leaves = [Hash256]()
        leaves.reserveCapacity(records.count)
        for record in records {
            entries[record.entry.proTxHash] = record.entry
            orderedIds.append(record.entry.proTxHash)
            leaves.append(record.leafHash)
            addToIndexes(record.entry)
        }
        tree = IncrementalMerkleTree(leaves: leaves)
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public subscript(proTxHash: Hash256) -> MasternodeEntry? { entries[proTxHash] }

    public func byCollateral(_ outpoint: OutPoint) -> MasternodeEntry? { byCollateral[outpoint].flatMap { entries[$0] } }
    public func byOwnerKey(_ key: [UInt8]) -> MasternodeEntry? { byOwnerKey[KeyBytes(key)].flatMap { entries[$0] } }
    public func byOperatorKey(_ key: [UInt8]) -> MasternodeEntry? { byOperatorKey[KeyBytes(key)].flatMap { entries[$0] } }
    public func byEncryptionKey(_ key: [UInt8]) -> MasternodeEntry? { byEncryptionKey[KeyBytes(key)].flatMap { entries[$0] } }
    public func byService(_ service: ServiceAddress) -> MasternodeEntry? { byService[service].flatMap { entries[$0] } }

    /// Entries ordered by id (the order the root commits to).
    public var sorted: [MasternodeEntry] { orderedIds.compactMap { entries[$0] } }

    /// Masternodes counted at `height`.
    public func valid(at height: UInt64, parameters: MasternodeParameters) -> [MasternodeEntry] {
        orderedIds.compactMap { id in
            entries[id].flatMap { $0.isValid(at: height, maturity: parameters.registrationMaturity) ? $0 : nil }
        }
    }

    /// Merkle root (section 6's tree) over the leaf hashes of the entries sorted by id; zero when empty.
    public mutating func root() -> Hash256 { tree.root() }

    /// The root without updating the cached tree (for a list held by a `let`).
    public var computedRoot: Hash256 { tree.computedRoot }

    /// Puts `entry` in place of the entry with its id (or adds it), recording the old value.
    public mutating func set(_ entry: MasternodeEntry, undo: inout MasternodeListUndo) {
        undo.record(entries[entry.proTxHash], for: entry.proTxHash)
        replace(id: entry.proTxHash, with: entry)
    }

    public mutating func remove(_ proTxHash: Hash256, undo: inout MasternodeListUndo) {
        guard let old = entries[proTxHash] else { return }
        undo.record(old, for: proTxHash)
        replace(id: proTxHash, with: nil)
    }

    /// Reverts the changes `undo` recorded (the list must be the one they were made on).
    public mutating func revert(_ undo: MasternodeListUndo) {
        for change in undo.changes.reversed() { replace(id: change.proTxHash, with: change.previous) }
    }

    private mutating func replace(id: Hash256, with new: MasternodeEntry?) {
        let old = entries.removeValue(forKey: id)
        switch (old, new) {
        case let (old?, new?):
            entries[id] = new
            reindex(from: old, to: new)
            let at = position(of: id)
            if at < orderedIds.count, orderedIds[at] == id { tree.replace(at: at, with: new.leafHash) }
        case let (old?, nil):
            removeFromIndexes(old)
            removeFromOrder(id)
        case let (nil, new?):
            entries[id] = new
            addToIndexes(new)
            insertInOrder(new)
        case (nil, nil):
            break
        }
    }

    /// Where `id` is or would go in `orderedIds` (binary search).
    private func position(of id: Hash256) -> Int {
        var low = 0, high = orderedIds.count
        while low < high {
            let middle = (low + high) / 2
            if orderedIds[middle] < id { low = middle + 1 } else { high = middle }
        }
        return low
    }

    private mutating func removeFromOrder(_ id: Hash256) {
        let at = position(of: id)
        guard at < orderedIds.count, orderedIds[at] == id else { return }
        orderedIds.remove(at: at)
        tree.remove(at: at)
    }

    private mutating func insertInOrder(_ entry: MasternodeEntry) {
        let at = position(of: entry.proTxHash)
        if at < orderedIds.count, orderedIds[at] == entry.proTxHash {
            tree.replace(at: at, with: entry.leafHash)
        } else {
            orderedIds.insert(entry.proTxHash, at: at)
            tree.insert(entry.leafHash, at: at)
        }
    }

    private mutating func addToIndexes(_ entry: MasternodeEntry) {
        let id = entry.proTxHash
        byCollateral[entry.collateral] = id
        byOwnerKey[KeyBytes(entry.ownerKey)] = id
        if !entry.isRevoked { byOperatorKey[KeyBytes(entry.operatorKey)] = id }
        byEncryptionKey[KeyBytes(entry.operatorEncryptionKey)] = id
        byService[entry.service] = id
    }

    private mutating func removeFromIndexes(_ entry: MasternodeEntry) {
        let id = entry.proTxHash
        Self.unmap(entry.collateral, from: id, in: &byCollateral)
        Self.unmap(KeyBytes(entry.ownerKey), from: id, in: &byOwnerKey)
        Self.unmap(KeyBytes(entry.operatorKey), from: id, in: &byOperatorKey)
        Self.unmap(KeyBytes(entry.operatorEncryptionKey), from: id, in: &byEncryptionKey)
        Self.unmap(entry.service, from: id, in: &byService)
    }

    /// Moves the index keys of an entry that changed to `new`, touching only the indexes
    /// whose key changed (most changes are penalties, payments and bans, which change none).
    private mutating func reindex(from old: MasternodeEntry, to new: MasternodeEntry) {
        let id = new.proTxHash
        Self.remap(old.collateral, to: new.collateral, id: id, in: &byCollateral)
        Self.remap(KeyBytes(old.ownerKey), to: KeyBytes(new.ownerKey), id: id, in: &byOwnerKey)
        Self.remap(old.isRevoked ? nil : KeyBytes(old.operatorKey), to: new.isRevoked ? nil : KeyBytes(new.operatorKey),
                   id: id, in: &byOperatorKey)
        Self.remap(KeyBytes(old.operatorEncryptionKey), to: KeyBytes(new.operatorEncryptionKey), id: id, in: &byEncryptionKey)
        Self.remap(old.service, to: new.service, id: id, in: &byService)
    }

    private static func remap<Key: Hashable>(_ old: Key?, to new: Key?, id: Hash256, in index: inout [Key: Hash256]) {
        guard old != new else { return }
        if let old { unmap(old, from: id, in: &index) }
        if let new { index[new] = id }
    }

    private static func unmap<Key: Hashable>(_ key: Key, from id: Hash256, in index: inout [Key: Hash256]) {
        if index[key] == id { index[key] = nil }
    }
}

/// Key bytes as a dictionary key hashed in one call (an array of bytes hashes byte by byte).
private struct KeyBytes: Hashable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension MasternodeList: Equatable {
    /// Two lists are equal when they hold the same entries (the indexes follow from them).
    public static func == (lhs: MasternodeList, rhs: MasternodeList) -> Bool { lhs.entries == rhs.entries }
}

/// What one block changed in the list: the value before the block of every entry it touched
/// (nil: the entry did not exist). Part of the block's undo record.
public struct MasternodeListUndo: Sendable, Equatable, BinaryCodable {
    public struct Change: Sendable, Equatable {
        public var proTxHash: Hash256
        public var previous: MasternodeEntry?
    }

    public private(set) var changes: [Change] = []

    public init() {}

    public var isEmpty: Bool { changes.isEmpty }

    mutating func record(_ previous: MasternodeEntry?, for id: Hash256) {
        changes.append(Change(proTxHash: id, previous: previous))
    }

    public func encode(to writer: inout ByteWriter) {
        writer.writeCompactSize(UInt64(changes.count))
        for change in changes {
            writer.write(change.proTxHash)
            if let previous = change.previous {
                writer.write(UInt8(1))
                previous.encode(to: &writer)
            } else {
                writer.write(UInt8(0))
            }
        }
    }

    public static func decode(from reader: inout ByteReader) throws -> MasternodeListUndo {
        var undo = MasternodeListUndo()
        let count = try reader.readCount("count", limit: 10_000_000, minimumItemSize: 33)
        for index in 0..<count {
            try reader.within("change", index: index) { reader in
                let id = try reader.readHash("pro_tx_hash")
                let flag = try reader.readUInt8("present")
                switch flag {
                case 0: undo.record(nil, for: id)
                case 1: undo.record(try reader.within("previous") { try MasternodeEntry.decode(from: &$0) }, for: id)
                default: throw reader.invalid("present", "flag \(flag)")
                }
            }
        }
        return undo
    }
}
