import Masternodes
import Primitives
import TestSupport
import Testing

/// The list's Merkle tree is kept level by level and re-hashed only where changes since the
/// last root reach (a replaced leaf's path; everything right of an insert or a removal):
/// after any mix of changes its root equals `Merkle.root` over the sorted leaves from scratch.
struct MasternodeListRootTests {
    static func scratchRoot(_ list: MasternodeList) -> Hash256 {
        Merkle.root(of: list.entries.values.sorted { $0.proTxHash.bytes.lexicographicallyPrecedes($1.proTxHash.bytes) }.map(\.leafHash))
    }

    static func randomEntry(_ template: MasternodeEntry, using generator: inout SeededGenerator) -> MasternodeEntry {
        var entry = template
        entry.proTxHash = Hash256(bytes: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })!
        entry.collateral = OutPoint(txid: entry.proTxHash, index: 0)
        entry.ownerKey = entry.proTxHash.bytes
        entry.operatorKey = Array(entry.proTxHash.bytes.reversed())
        entry.operatorEncryptionKey = entry.proTxHash.bytes.map { $0 ^ 0x5A }
        entry.service = ServiceAddress(ipv4: (10, entry.proTxHash.bytes[0], entry.proTxHash.bytes[1], entry.proTxHash.bytes[2]),
                                       port: UInt16(entry.proTxHash.bytes[3]) + 1)
        return entry
    }

    @Test("random batches of inserts, replacements and removals, growing past and shrinking below powers of two, reverts and copies")
    func incrementalRootMatchesScratch() throws {
        var generator = SeededGenerator(testSeed: 0x4D45_524B)
        let template = try #require(try TestChain().check(Fixture.register(TestNode(0))))
        var list = MasternodeList()
        var undos = [MasternodeListUndo]()
        // Grow to about 600 entries, then shrink to a handful: every tree height on the way.
        for step in 0..<360 {
            let growing = step < 200
            var undo = MasternodeListUndo()
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let existing = list.sorted
                let choice = Int.random(in: 0..<10, using: &generator)
                if existing.isEmpty || choice < (growing ? 5 : 1) {
                    list.set(Self.randomEntry(template, using: &generator), undo: &undo)
                } else if choice < 7 {
                    var entry = existing[Int.random(in: 0..<existing.count, using: &generator)]
                    entry.penaltyHeight &+= 1
                    list.set(entry, undo: &undo)
                } else {
                    list.remove(existing[Int.random(in: 0..<existing.count, using: &generator)].proTxHash, undo: &undo)
                }
            }
            undos.append(undo)
            if step % 5 == 4, let last = undos.popLast() { list.revert(last) }
            let expected = Self.scratchRoot(list)
            // A copy taken while stale and finished separately must not disturb the original.
            var copy = list
            #expect(list.computedRoot == expected, "stale computed root, step \(step)")
            #expect(copy.root() == expected, "copy, step \(step)")
            if step % 2 == 0 {
                copy.set(Self.randomEntry(template, using: &generator), undo: &undo)
                #expect(copy.root() == Self.scratchRoot(copy))
            }
            #expect(list.root() == expected, "step \(step), \(list.count) entries")
            #expect(list.computedRoot == expected)
        }
        while let undo = undos.popLast() {
            list.revert(undo)
            #expect(list.root() == Self.scratchRoot(list))
        }
        #expect(list.isEmpty && list.root() == .zero)
    }

    @Test("a single change re-roots correctly at every position of lists of every size up to 40")
    func everyPositionEverySize() throws {
        var generator = SeededGenerator(testSeed: 0x4D45_524C)
        let template = try #require(try TestChain().check(Fixture.register(TestNode(0))))
        for size in 1...40 {
            var list = MasternodeList(entries: (0..<size).map { _ in Self.randomEntry(template, using: &generator) })
            _ = list.root()
            for entry in list.sorted {
                var undo = MasternodeListUndo()
                var changed = entry
                changed.penalty &+= 1
                list.set(changed, undo: &undo)
                #expect(list.root() == Self.scratchRoot(list), "replace, size \(size)")
                list.remove(entry.proTxHash, undo: &undo)
                #expect(list.root() == Self.scratchRoot(list), "remove, size \(size)")
                list.revert(undo)
                #expect(list.root() == Self.scratchRoot(list), "revert, size \(size)")
            }
        }
    }

    @Test("batches inserting as many entries as they remove (the re-hash stops at the last moved position) match the scratch root")
    func countNeutralBatches() throws {
        var generator = SeededGenerator(testSeed: 0x4D45_524D)
        let template = try #require(try TestChain().check(Fixture.register(TestNode(0))))
        for size in [1, 2, 3, 5, 8, 13, 31, 32, 33, 70] {
            var list = MasternodeList(entries: (0..<size).map { _ in Self.randomEntry(template, using: &generator) })
            _ = list.root()
            for batch in 0..<40 {
                var undo = MasternodeListUndo()
                let swaps = Int.random(in: 1...min(4, size), using: &generator)
                // Removals, inserts and replacements interleaved in a random order.
                var steps = Array(repeating: 0, count: swaps) + Array(repeating: 1, count: swaps)
                    + Array(repeating: 2, count: Int.random(in: 0...3, using: &generator))
                steps.shuffle(using: &generator)
                var removed = 0
                for step in steps {
                    let existing = list.sorted
                    switch step {
                    case 0 where !existing.isEmpty:
                        list.remove(existing[Int.random(in: 0..<existing.count, using: &generator)].proTxHash, undo: &undo)
                        removed += 1
                    case 1:
                        list.set(Self.randomEntry(template, using: &generator), undo: &undo)
                    default:
                        guard !existing.isEmpty else { continue }
                        var entry = existing[Int.random(in: 0..<existing.count, using: &generator)]
                        entry.penalty &+= 1
                        list.set(entry, undo: &undo)
                    }
                }
                #expect(list.root() == Self.scratchRoot(list), "size \(size), batch \(batch), \(removed) of \(swaps) removed")
                if batch % 3 == 2 {
                    list.revert(undo)
                    #expect(list.root() == Self.scratchRoot(list), "revert, size \(size), batch \(batch)")
                }
            }
        }
    }

    @Test("a list loaded from stored records (sorted, unsorted, repeated ids) equals the one built from entries, root and indexes")
    func storedRecordsBuildTheSameList() throws {
        var generator = SeededGenerator(testSeed: 0x4D45_524E)
        let template = try #require(try TestChain().check(Fixture.register(TestNode(0))))
        var entries = (0..<300).map { _ in Self.randomEntry(template, using: &generator) }
        entries[7].bannedHeight = 99
        entries[8].payoutScript = Array(repeating: 0x51, count: 100)
        let sortedEntries = entries.sorted { $0.proTxHash < $1.proTxHash }
        var expected = MasternodeList(entries: sortedEntries)
        for records in [sortedEntries, entries, entries + [entries[3]]] {
            var loaded = MasternodeList(stored: try records.map { try StoredMasternodeEntry(decoding: $0.encoded) })
            #expect(loaded == expected)
            #expect(loaded.root() == expected.root())
            #expect(loaded.root() == Self.scratchRoot(expected))
            #expect(loaded.byCollateral(entries[5].collateral) == entries[5])
            #expect(loaded.byService(entries[9].service) == entries[9])
        }
        for entry in entries.prefix(20) {
            #expect(try StoredMasternodeEntry(decoding: entry.encoded).entry == entry)
        }
        // A record that is not one whole entry is an error naming the field, not a list entry.
        #expect(throws: DecodingError.self) { try StoredMasternodeEntry(decoding: Array(entries[0].encoded.dropLast())) }
        #expect(throws: DecodingError.self) { try StoredMasternodeEntry(decoding: entries[0].encoded + [0]) }
    }
}
