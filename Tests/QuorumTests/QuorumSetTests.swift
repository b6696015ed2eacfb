import Ed25519
import Masternodes
import Primitives
import Quorums
import Testing
import TestSupport

/// The quorum set (PROTOCOL section 17.5): active quorums, rotation by count and health,
/// exact undo, the root; and the commitment's encoding.
@Suite struct QuorumSetTests {
    static func entry(_ fixture: QuorumFixture, height: UInt64, valid: [Int], hashByte: UInt8) -> QuorumEntry {
        QuorumEntry(type: QuorumFixture.type.id, quorumHash: Hash256(bytes: [UInt8](repeating: hashByte, count: 32))!, quorumHeight: height,
                    minedHeight: height + 8, members: fixture.members.map(\.proTxHash),
                    validMembers: QuorumBitset(count: QuorumFixture.type.size, setting: valid), groupKey: QuorumFixture.groupKey,
                    verificationVectorHash: .zero)
    }

    @Test func activeRotationAndUndo() throws {
        let fixture = QuorumFixture(masternodes: 5)
        let type = QuorumFixture.type  // activeCount 2, threshold 3
        var set = QuorumSet()
        var undo = QuorumSetUndo()
        let a = Self.entry(fixture, height: 24, valid: [0, 1, 2, 3, 4], hashByte: 1)
        let b = Self.entry(fixture, height: 48, valid: [0, 1, 2], hashByte: 2)
        let null = Self.entry(fixture, height: 72, valid: [], hashByte: 3)
        let c = Self.entry(fixture, height: 96, valid: [2, 3, 4], hashByte: 4)
        for entry in [a, b, null, c] { set.insert(entry, undo: &undo) }
        #expect(set.active(type: type) == [c, b])
        let before = set
        // Member 0 of b loses validity: b is unhealthy (2 of 3), a is not (4 of 5).
        var list = fixture.list
        var listUndo = MasternodeListUndo()
        var banned = list[fixture.members[0].proTxHash]!
        banned.bannedHeight = 100
        list.set(banned, undo: &listUndo)
        var rotation = QuorumSetUndo()
        set.rotate(type: type, height: 120, list: list, parameters: QuorumFixture.masternodeParameters, undo: &rotation)
        #expect(set.active(type: type) == [c, a])
        #expect(set[b.key] == nil && set[null.key] == nil && set.count == 2)
        set.revert(rotation)
        #expect(set == before)
        // Healthy everywhere: only the null entry and the third newest leave.
        var healthyRotation = QuorumSetUndo()
        set.rotate(type: type, height: 120, list: fixture.list, parameters: QuorumFixture.masternodeParameters, undo: &healthyRotation)
        #expect(set.count == 2 && set.active(type: type) == [c, b] && set[a.key] == nil)
        set.revert(healthyRotation)
        #expect(set == before)
        set.revert(undo)
        #expect(set.isEmpty)
    }

    @Test func rootCoversActiveEntriesInKeyOrder() {
        let fixture = QuorumFixture(masternodes: 5)
        var set = QuorumSet()
        #expect(set.root(parameters: QuorumFixture.parameters) == .zero)
        var undo = QuorumSetUndo()
        let a = Self.entry(fixture, height: 24, valid: [0, 1, 2], hashByte: 9)
        let b = Self.entry(fixture, height: 48, valid: [0, 1, 2], hashByte: 1)
        let c = Self.entry(fixture, height: 72, valid: [0, 1, 2], hashByte: 5)
        for entry in [a, b, c] { set.insert(entry, undo: &undo) }
        // Active: c and b (newest two), in key order b (hash 01..) then c (hash 05..).
        #expect(set.root(parameters: QuorumFixture.parameters) == Merkle.root(of: [b.leafHash, c.leafHash]))
        var undone = set
        undone.revert(undo)
        #expect(undone.isEmpty)
    }

    @Test func encodingsRoundTrip() throws {
        let fixture = QuorumFixture(masternodes: 5)
        let payload = fixture.commitment(valid: [0, 2, 3, 4], signers: [0, 3, 4])
        let decoded = try QuorumCommitmentPayload(decoding: payload.encoded)
        #expect(decoded == payload && decoded.signatures.count == 3)
        #expect(try QuorumCommitmentPayload(transaction: payload.transaction) == payload)
        let entry = Self.entry(fixture, height: 24, valid: [1, 2, 3], hashByte: 7)
        #expect(try QuorumEntry(decoding: entry.encoded) == entry)
        var undo = QuorumSetUndo()
        var set = QuorumSet()
        set.insert(entry, undo: &undo)
        set.remove(entry.key, undo: &undo)
        #expect(try QuorumSetUndo(decoding: undo.encoded) == undo)
        // Bitset padding past the count must be zero.
        var bytes = QuorumBitset(count: 5, setting: [0]).encoded
        bytes[1] |= 0x80
        #expect(throws: (any Error).self) { try QuorumBitset(decoding: bytes) }
        // The commitment hash binds the valid set and the key.
        var other = payload
        other.validMembers[1] = true
        #expect(other.commitmentHash != payload.commitmentHash)
        // Truncated and over-long payloads do not decode.
        #expect(throws: (any Error).self) { try QuorumCommitmentPayload(decoding: Array(payload.encoded.dropLast())) }
        #expect(throws: (any Error).self) { try QuorumCommitmentPayload(decoding: payload.encoded + [0]) }
    }
}
