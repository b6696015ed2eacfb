import Ed25519
import FROST
@testable import Node
import Primitives
import TestSupport
import Wire
import XCTest

/// Several members' signing sessions wired together through an in-memory bus (no sockets):
/// every broadcast reaches every other live member, in order.
final class QuorumSigningBus {
    var sessions: [UInt16: QuorumSigningSession] = [:]
    /// Members that neither send nor receive.
    var silent: Set<UInt16> = []
    /// Members whose outgoing shares are corrupted (and re-signed, so only FROST can tell).
    var lying: Set<UInt16> = []
    /// Members whose signing packages never arrive (a coordinator that stalls).
    var stalling: Set<UInt16> = []
    private(set) var recovered: [UInt16: QuorumRecoveredSignature] = [:]
    private(set) var badShares: [(reporter: UInt16, member: UInt16)] = []
    private(set) var rejections: [String] = []
    private var queue: [(from: UInt16, message: QuorumMessage)] = []

    init(signers: [QuorumSigner], topic: QuorumSigningTopic, message: [UInt8]) {
        for signer in signers { sessions[signer.member] = QuorumSigningSession(signer: signer, topic: topic, message: message) }
    }

    var live: [UInt16] { sessions.keys.filter { !silent.contains($0) }.sorted() }

    func handle(_ events: [QuorumSigningEvent], at member: UInt16) {
        for event in events {
            switch event {
            case .broadcast(.signingPackage) where stalling.contains(member): break
            case .broadcast(let message): queue.append((member, tamper(message, from: member)))
            case .recovered(let signature): recovered[member] = signature
            case .badShare(let culprit): badShares.append((member, culprit))
            case .equivocation(let culprit): rejections.append("\(member): equivocation by \(culprit)")
            }
        }
    }

    private func tamper(_ message: QuorumMessage, from member: UInt16) -> QuorumMessage {
        guard lying.contains(member), case .signatureShare(var share) = message, let session = sessions[member],
              let scalar = Ed25519.Scalar(canonical: share.share) else { return message }
        share.share = (scalar + .one).bytes
        return .signatureShare(session.signer.signed(share))
    }

    /// Delivers until nothing is left to send.
    func drain() {
        while !queue.isEmpty {
            let (from, message) = queue.removeFirst()
            for member in live where member != from {
                guard let session = sessions[member] else { continue }
                do {
                    switch message {
                    case .nonceCommitment(let m): handle(try session.receive(m), at: member)
                    case .signingPackage(let m): handle(try session.receive(m), at: member)
                    case .signatureShare(let m): handle(try session.receive(m), at: member)
                    case .recoveredSignature(let m): handle(try session.receive(m), at: member)
                    default: XCTFail("unexpected \(message.command) in a signing session")
                    }
                } catch { rejections.append("\(member): \(error)") }
            }
        }
    }

    /// Starts every live member, then closes collection windows until done (bounded).
    func run(rounds: Int = 10) {
        for member in live { handle(sessions[member]?.start() ?? [], at: member) }
        drain()
        for _ in 0..<rounds where recovered.count < live.count {
            for member in live { handle(sessions[member]?.closeCollection() ?? [], at: member) }
            drain()
        }
    }
}

/// A quorum with a dealer's key (the DKG's output has the same shape) and one request.
struct QuorumSigningFixture {
    let topic = QuorumSigningTopic(quorumType: 1, quorumHash: Hash256(bytes: [UInt8](repeating: 0x51, count: 32))!,
                                   requestID: Hash256(bytes: [UInt8](repeating: 0x52, count: 32))!,
                                   messageHash: Hash256(bytes: [UInt8](repeating: 0x53, count: 32))!)

    func makeSigners(size: Int, threshold: Int) throws -> [QuorumSigner] {
        let (shares, publicKeys) = try TrustedDealer.generate(maxSigners: size, minSigners: threshold)
        let seeds = (0..<size).map { index in [UInt8](repeating: UInt8(index + 1), count: 32) }
        let memberIDs = (0..<size).map { Hash256(bytes: [UInt8](repeating: UInt8(0x80 + $0), count: 32))! }
        return try shares.enumerated().map { index, share in
            QuorumSigner(quorumType: topic.quorumType, quorumHash: topic.quorumHash, member: UInt16(index + 1), memberIDs: memberIDs,
                         operatorKeys: seeds.map { Ed25519.publicKey(seed: $0) }, operatorSeed: seeds[index],
                         keyPackage: try KeyPackage(secretShare: share), publicKeys: publicKeys)
        }
    }

    /// A signing service of a 4-member quorum (threshold 3) run by member 1, with every member's keys;
    /// each request's own 32 bytes stand in for its digest.
    func memberService() throws -> (service: QuorumSigningService, signers: [QuorumSigner]) {
        let signers = try makeSigners(size: 4, threshold: 3)
        let service = QuorumSigningService(groupKey: { _ in nil }, digest: { $0.requestID.bytes })
        service.memberships[QuorumID(type: topic.quorumType, hash: topic.quorumHash)] = signers[0]
        return (service, signers)
    }

    /// `signer`'s fresh commitments for `attempt` of this fixture's request.
    func commitment(by signer: QuorumSigner, attempt: UInt8 = 0) -> QuorumMessage {
        .nonceCommitment(signer.signed(QuorumNonceCommitment(topic: topic, member: signer.member, attempt: attempt,
                                                             commitments: SigningNonces(keyPackage: signer.keyPackage).commitments.encoded)))
    }
}

final class QuorumSigningSessionTests: XCTestCase {
    let fixture = QuorumSigningFixture()
    var topic: QuorumSigningTopic { fixture.topic }
    let digest = [UInt8](repeating: 0xD1, count: 32)

    func makeSigners(size: Int, threshold: Int) throws -> [QuorumSigner] { try fixture.makeSigners(size: size, threshold: threshold) }

    func assertEveryLiveMemberRecovered(_ bus: QuorumSigningBus, groupKey: Ed25519.Point, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(bus.recovered.keys), Set(bus.live), "members without the signature", file: file, line: line)
        for signature in Set(bus.recovered.values) {
            XCTAssertTrue(Ed25519.verify(signature: signature.signature, message: digest, publicKey: groupKey.encoded), file: file, line: line)
            XCTAssertEqual(signature.topic, topic, file: file, line: line)
        }
    }

    func testAllMembersSign() throws {
        let signers = try makeSigners(size: 5, threshold: 3)
        let bus = QuorumSigningBus(signers: signers, topic: topic, message: digest)
        bus.run()
        assertEveryLiveMemberRecovered(bus, groupKey: signers[0].publicKeys.verifyingKey)
        XCTAssertTrue(bus.rejections.isEmpty, "\(bus.rejections)")
        XCTAssertTrue(bus.badShares.isEmpty)
    }

    func testSigningSucceedsWithOneMemberSilent() throws {
        let signers = try makeSigners(size: 5, threshold: 3)
        // Silence the member that would coordinate: the next one by rank takes over.
        let first = signers[0].coordinatorOrder(1...5, requestID: topic.requestID)[0]
        let bus = QuorumSigningBus(signers: signers, topic: topic, message: digest)
        bus.silent = [first]
        bus.run()
        assertEveryLiveMemberRecovered(bus, groupKey: signers[0].publicKeys.verifyingKey)
        XCTAssertNil(bus.recovered[first])
    }

    func testAStalledCoordinatorIsPassedOverAfterATimeout() throws {
        let signers = try makeSigners(size: 5, threshold: 3)
        let order = signers[0].coordinatorOrder(1...5, requestID: topic.requestID)
        let bus = QuorumSigningBus(signers: signers, topic: topic, message: digest)
        bus.stalling = [order[0]]
        bus.run()
        XCTAssertTrue(bus.recovered.isEmpty, "signed although the coordinator's package never went out")
        for member in bus.live { bus.handle(bus.sessions[member]?.timeout() ?? [], at: member) }
        bus.drain()
        assertEveryLiveMemberRecovered(bus, groupKey: signers[0].publicKeys.verifyingKey)
        XCTAssertEqual(bus.sessions[order[1]]?.coordinator(for: 1), order[1])
        XCTAssertEqual(bus.sessions[order[3]]?.attempt, 1)
    }

    func testTooFewMembersCannotSign() throws {
        let signers = try makeSigners(size: 5, threshold: 3)
        let bus = QuorumSigningBus(signers: signers, topic: topic, message: digest)
        bus.silent = [1, 2, 3]
        bus.run()
        XCTAssertTrue(bus.recovered.isEmpty)
    }

    func testABadShareIsNamedAndLeftOut() throws {
        let signers = try makeSigners(size: 5, threshold: 3)
        let order = signers[0].coordinatorOrder(1...5, requestID: topic.requestID)
        // order[0] coordinates attempt 0 and picks order[1] and order[2] as co-signers.
        let liar = order[2]
        let bus = QuorumSigningBus(signers: signers, topic: topic, message: digest)
        bus.lying = [liar]
        bus.run()
        XCTAssertTrue(bus.badShares.contains { $0.reporter == order[0] && $0.member == liar }, "\(bus.badShares)")
        XCTAssertFalse(bus.badShares.contains { $0.member != liar })
        // The share is relayed and every member checks it against the package: all exclude the liar.
        for member in bus.live where member != liar { XCTAssertTrue(bus.sessions[member]?.excluded.contains(liar) ?? false, "member \(member)") }
        assertEveryLiveMemberRecovered(bus, groupKey: signers[0].publicKeys.verifyingKey)
    }

    /// One member's commitments for later attempts do not move the others (it could spend
    /// every attempt); n - t + 1 members moving on do.
    func testOneMemberCannotSpendTheAttempts() throws {
        let signers = try makeSigners(size: 5, threshold: 3)
        let sessions = signers.map { QuorumSigningSession(signer: $0, topic: topic, message: digest) }
        _ = sessions[0].start()
        func commitment(by index: Int, attempt: UInt8) -> QuorumNonceCommitment {
            signers[index].signed(QuorumNonceCommitment(topic: topic, member: signers[index].member, attempt: attempt,
                                                        commitments: SigningNonces(keyPackage: signers[index].keyPackage).commitments.encoded))
        }
        for attempt: UInt8 in 1..<QuorumSigningSession.maxAttempts { _ = try sessions[0].receive(commitment(by: 4, attempt: attempt)) }
        XCTAssertEqual(sessions[0].attempt, 0, "moved by a single member")
        _ = try sessions[0].receive(commitment(by: 1, attempt: 1))
        XCTAssertEqual(sessions[0].attempt, 0, "two of the n - t + 1 = 3 needed")
        _ = try sessions[0].receive(commitment(by: 2, attempt: 1))
        XCTAssertEqual(sessions[0].attempt, 1)
    }

    func testForgedAndCrossRequestMessagesAreRejected() throws {
        let signers = try makeSigners(size: 4, threshold: 2)
        let session = QuorumSigningSession(signer: signers[0], topic: topic, message: digest)
        let other = QuorumSigningSession(signer: signers[1], topic: topic, message: digest)
        guard case .broadcast(.nonceCommitment(let commit))? = other.start().first else { return XCTFail("no commitment") }
        XCTAssertNoThrow(try session.receive(commit))
        var forged = commit
        forged.member = 3
        XCTAssertThrowsError(try session.receive(forged))
        var elsewhere = commit
        elsewhere.topic.requestID = .zero
        XCTAssertThrowsError(try session.receive(signers[1].signed(elsewhere)))
        // A second, different commitment for the same attempt is equivocation: evidence, not a rejection.
        let again = QuorumSigningSession(signer: signers[1], topic: topic, message: digest)
        guard case .broadcast(.nonceCommitment(let second))? = again.start().first else { return XCTFail("no commitment") }
        XCTAssertEqual(try session.receive(second), [.equivocation(member: 2)])
        XCTAssertEqual(session.equivocators, [2])
        XCTAssertNil(session.coordinator(for: 0).flatMap { $0 == 2 ? $0 : nil }, "an equivocator coordinates nothing")
        let bogus = QuorumRecoveredSignature(topic: topic, signature: [UInt8](repeating: 7, count: 64))
        XCTAssertThrowsError(try session.receive(bogus))
    }
}
