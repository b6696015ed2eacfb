import Masternodes
import Primitives
import TestSupport
import Testing

/// The list built in one pass from its entries equals the list built change by change, and
/// a `set` that changes some of an entry's keys moves exactly those in the lookup indexes.
struct MasternodeListIndexTests {
    static func template() throws -> MasternodeEntry {
        try #require(try TestChain().check(Fixture.register(TestNode(0))))
    }

    static func lookupsAgree(_ list: MasternodeList, _ entry: MasternodeEntry) -> Bool {
        list.byCollateral(entry.collateral) == entry && list.byOwnerKey(entry.ownerKey) == entry
            && list.byEncryptionKey(entry.operatorEncryptionKey) == entry && list.byService(entry.service) == entry
            && list.byOperatorKey(entry.operatorKey) == (entry.isRevoked ? nil : entry)
    }

    @Test("one-pass construction from sorted, shuffled and repeated entries equals change-by-change construction")
    func bulkConstructionMatchesSets() throws {
        var generator = SeededGenerator(testSeed: 0x4255_4C4B)
        let template = try Self.template()
        let entries = (0..<150).map { _ in MasternodeListRootTests.randomEntry(template, using: &generator) }
        var incremental = MasternodeList()
        var undo = MasternodeListUndo()
        for entry in entries { incremental.set(entry, undo: &undo) }
        let sortedEntries = incremental.sorted
        var fromSorted = MasternodeList(entries: sortedEntries)
        var fromShuffled = MasternodeList(entries: entries.shuffled(using: &generator))
        #expect(fromSorted == incremental && fromShuffled == incremental)
        #expect(fromSorted.sorted == sortedEntries && fromShuffled.sorted == sortedEntries)
        #expect(fromSorted.root() == incremental.root() && fromShuffled.root() == incremental.root())
        // A repeated id: the later entry wins, as a `set` would.
        var newer = sortedEntries[7]
        newer.penalty &+= 9
        var withRepeat = MasternodeList(entries: sortedEntries + [newer])
        #expect(withRepeat.count == sortedEntries.count && withRepeat[newer.proTxHash] == newer)
        incremental.set(newer, undo: &undo)
        #expect(withRepeat.root() == incremental.root())
        for entry in withRepeat.sorted { #expect(Self.lookupsAgree(withRepeat, entry)) }
        #expect(MasternodeList(entries: []).computedRoot == .zero)
    }

    @Test("a set moves only the changed keys; revocation drops the operator key; revert restores every index")
    func setMovesChangedKeys() throws {
        var generator = SeededGenerator(testSeed: 0x4B45_5953)
        let template = try Self.template()
        var list = MasternodeList(entries: (0..<20).map { _ in MasternodeListRootTests.randomEntry(template, using: &generator) })
        let before = list.sorted
        let original = before[3]
        var undo = MasternodeListUndo()
        var changed = original
        changed.penalty &+= 5
        list.set(changed, undo: &undo)
        #expect(Self.lookupsAgree(list, changed))
        changed.ownerKey = Array(repeating: 0xA1, count: 32)
        changed.service = ServiceAddress(ipv4: (192, 0, 2, 44), port: 9999)
        list.set(changed, undo: &undo)
        #expect(Self.lookupsAgree(list, changed))
        #expect(list.byOwnerKey(original.ownerKey) == nil && list.byService(original.service) == nil)
        changed.operatorKey = MasternodeEntry.clearedKey
        list.set(changed, undo: &undo)
        #expect(changed.isRevoked)
        #expect(Self.lookupsAgree(list, changed) && list.byOperatorKey(original.operatorKey) == nil)
        changed.operatorKey = Array(repeating: 0xB2, count: 32)
        list.set(changed, undo: &undo)
        #expect(Self.lookupsAgree(list, changed) && list.byOperatorKey(original.operatorKey) == nil)
        list.revert(undo)
        #expect(list.sorted == before)
        for entry in before { #expect(Self.lookupsAgree(list, entry)) }
        #expect(list.byOwnerKey(changed.ownerKey) == nil && list.byOperatorKey(changed.operatorKey) == nil)
    }
}
