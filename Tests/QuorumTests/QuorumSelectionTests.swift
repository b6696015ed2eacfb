import Masternodes
import Primitives
import Quorums
import Testing
import TestSupport

/// Member selection (PROTOCOL section 17.2): deterministic, ordered by the keyed score, only
/// valid masternodes, at most `size`.
@Suite struct QuorumSelectionTests {
    @Test func orderIsTheScoreOrderAndDeterministic() {
        let fixture = QuorumFixture(masternodes: 12)
        let members = fixture.members
        #expect(members.count == 5)
        let scores = members.map { QuorumSelection.score($0.proTxHash, quorumHash: QuorumFixture.quorumHash) }
        #expect(scores == scores.sorted())
        // The five lowest scores of all twelve.
        let all = fixture.list.sorted.map { QuorumSelection.score($0.proTxHash, quorumHash: QuorumFixture.quorumHash) }.sorted()
        #expect(Array(all.prefix(5)) == scores)
        // The same list in another insertion order selects the same members.
        let reordered = MasternodeList(entries: fixture.list.sorted.reversed())
        #expect(QuorumSelection.members(list: reordered, quorumHash: QuorumFixture.quorumHash, type: QuorumFixture.type,
                                        height: QuorumFixture.start, parameters: QuorumFixture.masternodeParameters) == members)
        // Another quorum hash orders differently.
        let other = QuorumSelection.members(list: fixture.list, quorumHash: Hash256(bytes: [UInt8](repeating: 0x99, count: 32))!,
                                            type: QuorumFixture.type, height: QuorumFixture.start, parameters: QuorumFixture.masternodeParameters)
        #expect(other.map(\.proTxHash) != members.map(\.proTxHash))
    }

    @Test func bannedAndImmatureMasternodesAreSkipped() {
        var fixture = QuorumFixture(masternodes: 5)
        let young = fixture.add(registeredHeight: QuorumFixture.start)
        var banned = fixture.members[2]
        banned.bannedHeight = 3
        var undo = MasternodeListUndo()
        fixture.list.set(banned, undo: &undo)
        let members = fixture.members
        #expect(members.count == 4)
        #expect(!members.contains { $0.proTxHash == young || $0.proTxHash == banned.proTxHash })
    }

    @Test func scoreIsKeyedBLAKE3() {
        let id = Hash256(bytes: [UInt8](repeating: 1, count: 32))!
        let hash = Hash256(bytes: [UInt8](repeating: 2, count: 32))!
        #expect(QuorumSelection.score(id, quorumHash: hash) != QuorumSelection.score(hash, quorumHash: id))
        #expect(QuorumSelection.score(id, quorumHash: hash) == QuorumSelection.score(id, quorumHash: hash))
    }
}
