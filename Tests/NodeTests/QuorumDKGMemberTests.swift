import DKG
import Ed25519
import FROST
@testable import Node
import Primitives
import TestSupport
import Wire
import XCTest

/// DKG members wired together through an in-memory bus: the run completes over the wire
/// envelopes, every member agrees on the key, and the key signs through the signing sessions.
final class QuorumDKGMemberTests: XCTestCase {
    let quorumHash = Hash256(bytes: [UInt8](repeating: 0x61, count: 32))!

    func makeMembers(size: Int, threshold: Int) throws -> (members: [QuorumDKGMember], seeds: [[UInt8]]) {
        let seeds = (0..<size).map { [UInt8](repeating: UInt8(0x10 + $0), count: 32) }
        let secrets = (0..<size).map { [UInt8](repeating: UInt8(0x40 + $0), count: 32) }
        let session = try DKGSession(quorumType: 1, quorumHash: quorumHash, threshold: threshold,
                                     operatorKeys: seeds.map { Ed25519.publicKey(seed: $0) },
                                     encryptionKeys: try secrets.map { try DKGMemberKeys.encryptionKey(secret: $0) })
        let members = try (0..<size).map { index in
            try QuorumDKGMember(quorumType: 1, quorumHash: quorumHash, session: session, member: UInt16(index + 1),
                                operatorSeed: seeds[index], encryptionSecret: secrets[index])
        }
        return (members, seeds)
    }

    /// Delivers each member's messages to every other member; every verdict must be `relay`.
    func exchange(_ outgoing: [(UInt16, QuorumMessage)], among members: [QuorumDKGMember]) {
        for (from, message) in outgoing {
            for member in members where member.member != from {
                XCTAssertEqual(member.receive(message), .relay, "\(message.command) from \(from) at \(member.member)")
            }
        }
    }

    func testDKGCompletesOverTheWireAndItsKeySigns() throws {
        let (members, seeds) = try makeMembers(size: 5, threshold: 3)
        exchange(members.map { ($0.member, $0.contribution) }, among: members)
        exchange(members.flatMap { member in member.closeContributionPhase().map { (member.member, $0) } }, among: members)
        exchange(members.flatMap { member in member.closeComplaintPhase().map { (member.member, $0) } }, among: members)
        let results = members.compactMap { $0.finish()?.result }
        XCTAssertEqual(results.count, 5)
        XCTAssertEqual(Set(results.map(\.groupKey.encoded)).count, 1)
        XCTAssertEqual(results[0].qualified, [1, 2, 3, 4, 5])

        // The DKG's shares sign through the signing sessions.
        let topic = QuorumSigningTopic(quorumType: 1, quorumHash: quorumHash, requestID: Hash256(bytes: [UInt8](repeating: 2, count: 32))!,
                                       messageHash: Hash256(bytes: [UInt8](repeating: 3, count: 32))!)
        let signers = try results.map { result in
            return QuorumSigner(quorumType: 1, quorumHash: quorumHash, member: result.identifier,
                                memberIDs: (0..<5).map { Hash256(bytes: [UInt8](repeating: UInt8($0), count: 32))! },
                                operatorKeys: seeds.map { Ed25519.publicKey(seed: $0) }, operatorSeed: seeds[Int(result.identifier) - 1],
                                keyPackage: try result.keyPackage(), publicKeys: try result.publicKeyPackage())
        }
        let digest = [UInt8](repeating: 0xAB, count: 32)
        let bus = QuorumSigningBus(signers: signers, topic: topic, message: digest)
        bus.silent = [2]
        bus.run()
        XCTAssertEqual(Set(bus.recovered.keys), [1, 3, 4, 5])
        let signature = try XCTUnwrap(bus.recovered[1])
        XCTAssertTrue(Ed25519.verify(signature: signature.signature, message: digest, publicKey: results[0].groupKey.encoded))
    }

    func testForgedAndMisdirectedDKGMessagesAreJudged() throws {
        let (members, _) = try makeMembers(size: 4, threshold: 2)
        guard case .contribution(var envelope) = members[1].contribution else { return XCTFail("no contribution") }
        // A flipped signature byte: the sender's operator key does not sign it.
        var forged = envelope
        forged.dkgMessage[forged.dkgMessage.count - 1] ^= 1
        if case .invalid = members[0].receive(.contribution(forged)) {} else { XCTFail("forged contribution not refused") }
        // Garbage inside a well-framed envelope is the sender's fault.
        var garbage = envelope
        garbage.dkgMessage = [UInt8](repeating: 1, count: 120)
        if case .invalid = members[0].receive(.contribution(garbage)) {} else { XCTFail("garbage not refused") }
        // A contribution arriving after the phase closed is late, not misbehaviour.
        _ = members[2].closeContributionPhase()
        XCTAssertEqual(members[2].receive(.contribution(envelope)), .ignore)
        XCTAssertEqual(members[0].receive(.contribution(envelope)), .relay)
        envelope.quorumHash = .zero
        if case .invalid = members[3].receive(.contribution(envelope)) {} else { XCTFail("re-wrapped contribution not refused") }
    }
}
