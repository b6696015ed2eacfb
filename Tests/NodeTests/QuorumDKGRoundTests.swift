import Ed25519
import Foundation
import Masternodes
@testable import Node
import Primitives
import Quorums
import Wire
import XCTest

/// The node's DKG rounds driven by height, wired together in memory: the phases close by
/// height, early messages wait for their phase, votes gather to a commitment transaction
/// that carries `threshold` valid member signatures, and the share survives a file round trip.
final class QuorumDKGRoundTests: XCTestCase {
    let quorumHash = Hash256(bytes: [UInt8](repeating: 0x5A, count: 32))!
    let start: UInt64 = 24

    func quorumType(size: Int = 5, threshold: Int = 3) throws -> QuorumType {
        try QuorumType(id: QuorumTypeID(rawValue: 100), name: "llmq_test", size: size, threshold: threshold,
                       schedule: QuorumSchedule(dkgInterval: 24, phaseBlocks: 2, miningWindow: 8), activeCount: 2)
    }

    func makeRounds(size: Int = 5) throws -> (rounds: [QuorumDKGRound], keys: [OperatorKeys], members: [MasternodeEntry]) {
        let keys = (0..<size).map { index in
            try! OperatorKeys(operatorSeed: [UInt8](repeating: UInt8(0x20 + index), count: 32), // Fixed 32-byte test keys.
                              encryptionSecret: [UInt8](repeating: UInt8(0x50 + index), count: 32))
        }
        let members = keys.enumerated().map { index, key in
            MasternodeEntry(proTxHash: Hash256(bytes: [UInt8](repeating: UInt8(index + 1), count: 32))!,
                            collateral: OutPoint(txid: .zero, index: UInt32(index)), ownerKey: key.operatorKey, operatorKey: key.operatorKey,
                            operatorEncryptionKey: key.encryptionKey, service: ServiceAddress(ipv4: (127, 0, 0, 1), port: 1),
                            payoutScript: [], registeredHeight: 1)
        }
        let type = try quorumType(size: size)
        let rounds = try members.indices.map { index in
            try XCTUnwrap(try QuorumDKGRound(type: type, quorumHash: quorumHash, startHeight: start, members: members,
                                             ownID: members[index].proTxHash, keys: keys[index]))
        }
        return (rounds, keys, members)
    }

    /// Delivers `messages` (sender index, message) to every other round; returns the verdicts.
    @discardableResult
    func deliver(_ messages: [(Int, QuorumMessage)], to rounds: [QuorumDKGRound]) -> [QuorumMessageVerdict] {
        messages.flatMap { sender, message in rounds.indices.filter { $0 != sender }.map { rounds[$0].receive(message) } }
    }

    /// Every round moves to `height`; what they broadcast goes to the others.
    func advance(_ rounds: [QuorumDKGRound], to height: UInt64) -> [QuorumMessageVerdict] {
        deliver(rounds.enumerated().flatMap { index, round in round.advance(to: height).map { (index, $0) } }, to: rounds)
    }

    func testRoundsFormAQuorumByHeightAndBuildTheCommitment() throws {
        let (rounds, keys, members) = try makeRounds()
        XCTAssertEqual(deliver(rounds.enumerated().map { ($0, $1.member.contribution) }, to: rounds), Array(repeating: .relay, count: 20))
        for height in start..<(start + 6) { XCTAssertFalse(advance(rounds, to: height).contains { if case .invalid = $0 { true } else { false } }) }
        XCTAssertNil(rounds[0].commitmentTransaction(), "no votes before the commitment phase")
        _ = advance(rounds, to: start + 6)
        XCTAssertTrue(rounds.allSatisfy { $0.result != nil && $0.ownVote != nil })
        XCTAssertEqual(Set(rounds.compactMap { $0.result?.groupKey.encoded }).count, 1)

        let transaction = try XCTUnwrap(rounds[2].commitmentTransaction())
        let payload = try QuorumCommitmentPayload(transaction: transaction)
        XCTAssertEqual(payload.validMembers.setCount, 5)
        XCTAssertEqual(payload.signers.setCount, 5)
        XCTAssertEqual(payload.quorumHeight, start)
        for (index, signature) in zip(payload.signers.setIndices, payload.signatures) {
            XCTAssertTrue(Ed25519.verify(signature: signature, message: payload.commitmentHash.bytes, publicKey: members[index].operatorKey))
        }
        XCTAssertEqual(payload.groupKey, rounds[0].result?.groupKey.encoded)

        // The shares survive the file round trip, for this operator only.
        let signer = try XCTUnwrap(try rounds[1].signer())
        let bytes = QuorumShareFile.encode(signer)
        let back = try QuorumShareFile.decode(bytes, operatorSeed: keys[1].operatorSeed, path: "test")
        XCTAssertEqual(QuorumShareFile.encode(back), bytes)
        XCTAssertEqual(back.keyPackage.signingShare, signer.keyPackage.signingShare)
        XCTAssertThrowsError(try QuorumShareFile.decode(bytes, operatorSeed: keys[0].operatorSeed, path: "test"))
        XCTAssertThrowsError(try QuorumShareFile.decode(Array(bytes.dropLast()), operatorSeed: keys[1].operatorSeed, path: "test"))
        var corrupt = bytes
        corrupt[1 + 1 + 32 + 2] = 1 // threshold 1 (its low byte): refused
        XCTAssertThrowsError(try QuorumShareFile.decode(corrupt, operatorSeed: keys[1].operatorSeed, path: "test"))
    }

    /// Member 4 is silent (its node is down): the others leave it out. Member 5 connects each
    /// block last, so the others' messages of each phase reach it a phase early; it agrees.
    func testASilentMemberIsLeftOutAndALateMemberAgrees() throws {
        let (rounds, _, _) = try makeRounds()
        for (sender, round) in rounds.enumerated() where sender != 3 {
            for receiver in rounds.indices where receiver != sender { XCTAssertEqual(rounds[receiver].receive(round.member.contribution), .relay) }
        }
        let slow = rounds[4]
        for height in start...(start + 6) {
            deliver(rounds[..<3].enumerated().flatMap { index, round in round.advance(to: height).map { (index, $0) } }, to: rounds)
            deliver(slow.advance(to: height).map { (4, $0) }, to: rounds)
        }
        let honest = [0, 1, 2, 4].map { rounds[$0] }
        XCTAssertEqual(honest.map { $0.result?.qualified ?? [] }, Array(repeating: [1, 2, 3, 5], count: 4))
        XCTAssertEqual(Set(honest.compactMap { $0.result?.groupKey.encoded }).count, 1)
        let payload = try QuorumCommitmentPayload(transaction: try XCTUnwrap(slow.commitmentTransaction()))
        XCTAssertEqual(payload.validMembers.setIndices, [0, 1, 2, 4])
        XCTAssertEqual(payload.signers.setIndices, [0, 1, 2, 4])
    }

    func testABadOrDoubleVoteIsInvalid() throws {
        let (rounds, keys, _) = try makeRounds()
        deliver(rounds.enumerated().map { ($0, $1.member.contribution) }, to: rounds)
        for height in start...(start + 6) { _ = advance(rounds, to: height) }
        var forged = try XCTUnwrap(rounds[1].ownVote)
        forged.signature = Ed25519.sign(message: [UInt8](repeating: 1, count: 32), seed: keys[1].operatorSeed)
        XCTAssertEqual(rounds[0].receive(forged), .invalid("qcommit not signed by member 2's operator key"))
        // Member 2 signing a second, different view.
        var other = QuorumBitset(count: 5, setting: [0, 1, 2])
        let second = rounds[1].payload(validMembers: other, groupKey: forged.groupKey, vvecHash: forged.verificationVectorHash)
        other = second.validMembers
        let double = QuorumCommitmentVote(quorumType: 100, quorumHash: quorumHash, member: 2, validMemberCount: 5, validMemberBits: other.bytes,
                                          groupKey: forged.groupKey, verificationVectorHash: forged.verificationVectorHash,
                                          signature: second.memberSignature(operatorSeed: keys[1].operatorSeed))
        XCTAssertEqual(rounds[0].receive(double), .invalid("member 2 signed two different commitments"))
        var outsider = try XCTUnwrap(rounds[1].ownVote)
        outsider.member = 9
        XCTAssertEqual(rounds[0].receive(outsider), .invalid("qcommit from member 9, not in the quorum"))
    }

    /// The chain-lock blocks a member signed survive a restart (a member never signs two
    /// blocks at one height); a damaged record reads as empty.
    func testSignedBlocksRecordRoundTrips() throws {
        let datadir = FileManager.default.temporaryDirectory.appendingPathComponent("signed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        XCTAssertEqual(QuorumShareFile.loadSignedBlocks(datadir: datadir), [:])
        let blocks: [UInt64: Hash256] = [7: quorumHash, 8: Hash256(bytes: [UInt8](repeating: 8, count: 32))!]
        try QuorumShareFile.saveSignedBlocks(blocks, datadir: datadir)
        XCTAssertEqual(QuorumShareFile.loadSignedBlocks(datadir: datadir), blocks)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: QuorumShareFile.signedBlocksPath(datadir: datadir)))
        XCTAssertEqual(QuorumShareFile.loadSignedBlocks(datadir: datadir), [:])
    }
}
