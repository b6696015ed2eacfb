import Masternodes
import Primitives

/// The mined quorums of the chain (PROTOCOL section 17.5): every commitment mined since its
/// type's last rotation, null ones included (they make a second commitment for the same
/// DKG a duplicate), and the quorums that survived the rotations. A function of the chain;
/// changes go through the mutating methods, which log them in a `QuorumSetUndo`.
public struct QuorumSet: Sendable, Equatable {
    public private(set) var entries: [QuorumKey: QuorumEntry] = [:]

    public init() {}

    public init(entries: some Sequence<QuorumEntry>) {
        for entry in entries { self.entries[entry.key] = entry }
    }

    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    public subscript(key: QuorumKey) -> QuorumEntry? { entries[key] }

    public func contains(type: QuorumTypeID, quorumHash: Hash256) -> Bool {
        entries[QuorumKey(type: type, quorumHash: quorumHash)] != nil
    }

    /// The quorums of `type` that serve: its newest `activeCount` non-null entries, newest
    /// first. Entries are healthy as of the type's last rotation (unhealthy ones left then).
    public func active(type: QuorumType) -> [QuorumEntry] {
        let candidates = entries.values.filter { $0.type == type.id && !$0.isNull }
        return Array(candidates.sorted(by: Self.newestFirst).prefix(type.activeCount))
    }

    /// Merkle root over the leaf hashes of every type's active quorums, sorted by (type,
    /// quorumHash); zero when none serves.
    public func root(parameters: QuorumParameters) -> Hash256 {
        let serving = parameters.sorted.flatMap { self.active(type: $0) }.sorted { $0.key < $1.key }
        return Merkle.root(of: serving.map(\.leafHash))
    }

    public mutating func insert(_ entry: QuorumEntry, undo: inout QuorumSetUndo) {
        if let previous = entries.updateValue(entry, forKey: entry.key) { undo.changes.append(.removed(previous)) }
        undo.changes.append(.added(entry.key))
    }

    public mutating func remove(_ key: QuorumKey, undo: inout QuorumSetUndo) {
        guard let previous = entries.removeValue(forKey: key) else { return }
        undo.changes.append(.removed(previous))
    }

    /// Undoes the changes `undo` logged, newest first.
    public mutating func revert(_ undo: QuorumSetUndo) {
        for change in undo.changes.reversed() {
            switch change {
            case .added(let key): entries[key] = nil
            case .removed(let entry): entries[entry.key] = entry
            }
        }
    }

    /// The rotation of `type` at its DKG start `height` (PROTOCOL section 17.5): null entries
    /// leave, and so does every quorum that is unhealthy in `list` (fewer than `threshold`
    /// of its valid members still valid) or older than the type's `activeCount` newest
    /// healthy ones.
    public mutating func rotate(type: QuorumType, height: UInt64, list: MasternodeList, parameters: MasternodeParameters,
                                undo: inout QuorumSetUndo) {
        let ofType = entries.values.filter { $0.type == type.id }.sorted(by: Self.newestFirst)
        var kept = 0
        for entry in ofType {
            if !entry.isNull && kept < type.activeCount && Self.isHealthy(entry, type: type, list: list, height: height, parameters: parameters) {
                kept += 1
            } else {
                remove(entry.key, undo: &undo)
            }
        }
    }

    public static func isHealthy(_ entry: QuorumEntry, type: QuorumType, list: MasternodeList, height: UInt64,
                                 parameters: MasternodeParameters) -> Bool {
        let stillValid = entry.validMemberIDs.filter { list[$0]?.isValid(at: height, maturity: parameters.registrationMaturity) == true }
        return stillValid.count >= type.threshold
    }

    /// Newest DKG first; the hash orders quorums of one height (never two of a type).
    static func newestFirst(_ a: QuorumEntry, _ b: QuorumEntry) -> Bool {
        a.quorumHeight != b.quorumHeight ? a.quorumHeight > b.quorumHeight : a.key < b.key
    }
}

/// The changes one block made to the quorum set, in order; reverting them is exact.
public struct QuorumSetUndo: Sendable, Equatable, BinaryCodable {
    public enum Change: Sendable, Equatable {
        case added(QuorumKey)
        case removed(QuorumEntry)
    }

    public var changes: [Change] = []

    public init(changes: [Change] = []) { self.changes = changes }

    public var isEmpty: Bool { changes.isEmpty }

    /// Keys of every entry the block touched (what a flush rewrites).
    public var touchedKeys: [QuorumKey] {
        changes.map { change in
            switch change {
            case .added(let key): return key
            case .removed(let entry): return entry.key
            }
        }
    }

    public func encode(to writer: inout ByteWriter) {
        writer.writeCompactSize(UInt64(changes.count))
        for change in changes {
            switch change {
            case .added(let key):
                writer.write(UInt8(0))
                key.encode(to: &writer)
            case .removed(let entry):
                writer.write(UInt8(1))
                entry.encode(to: &writer)
            }
        }
    }

    public static func decode(from reader: inout ByteReader) throws -> QuorumSetUndo {
        let count = try reader.readCount("changes", limit: 1_000_000, minimumItemSize: 34)
        var undo = QuorumSetUndo()
        for index in 0..<count {
            switch try reader.readUInt8("changes[\(index)].kind") {
            case 0: undo.changes.append(.added(try reader.within("changes[\(index)]") { try QuorumKey.decode(from: &$0) }))
            case 1: undo.changes.append(.removed(try reader.within("changes[\(index)]") { try QuorumEntry.decode(from: &$0) }))
            case let kind: throw reader.invalid("changes[\(index)].kind", "unknown change kind \(kind)")
            }
        }
        return undo
    }
}
