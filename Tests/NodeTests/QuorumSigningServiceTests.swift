import Ed25519
import FROST
@testable import Node
import Primitives
import TestSupport
import Wire
import XCTest

/// The signing service of several nodes on an in-memory bus, driven by a fake clock: only
/// requested topics are signed, timers close collection, and outsiders check the result.
final class QuorumSigningServiceTests: XCTestCase {
    func testServicesSignRequestedTopicsAndOutsidersVerify() throws {
        let fixture = QuorumSigningFixture()
        let signers = try fixture.makeSigners(size: 4, threshold: 3)
        let quorum = QuorumID(type: fixture.topic.quorumType, hash: fixture.topic.quorumHash)
        let groupKey = signers[0].publicKeys.verifyingKey.encoded
        // Each request's own 32 bytes stand in for SigningRequest.signingDigest.
        func makeService() -> QuorumSigningService {
            QuorumSigningService(groupKey: { $0 == quorum ? groupKey : nil }, digest: { $0.requestID.bytes })
        }
        var services = [UInt16: QuorumSigningService]()
        for signer in signers {
            let service = makeService()
            service.memberships[quorum] = signer
            services[signer.member] = service
        }
        let outsider = makeService()
        var queue = [(from: UInt16, message: QuorumMessage)]()
        var verdicts = [QuorumMessageVerdict]()
        func enqueue(_ events: [QuorumSigningEvent], from: UInt16) {
            for case .broadcast(let message) in events { queue.append((from, message)) }
        }
        func drain(now: Double) {
            while !queue.isEmpty {
                let (from, message) = queue.removeFirst()
                for (member, service) in services where member != from {
                    let (verdict, events) = service.receive(message, now: now)
                    verdicts.append(verdict)
                    enqueue(events, from: member)
                }
                verdicts.append(outsider.receive(message, now: now).verdict)
            }
        }
        // Members 1-3 are asked; member 4 is not and must not sign (its commitments never go out).
        for member: UInt16 in [1, 2, 3] { enqueue((try services[member]?.sign(fixture.topic, now: 0)) ?? [], from: member) }
        drain(now: 0)
        XCTAssertTrue(services.values.allSatisfy { $0.recovered.isEmpty }, "signed before the collection window closed")
        for (member, service) in services { enqueue(service.tick(now: 0.3), from: member) }
        drain(now: 0.3)
        let signature = try XCTUnwrap(services[1]?.recovered[fixture.topic])
        XCTAssertTrue(Ed25519.verify(signature: signature.signature, message: fixture.topic.requestID.bytes, publicKey: groupKey))
        XCTAssertEqual(outsider.recovered[fixture.topic], signature)
        XCTAssertEqual(services[4]?.recovered[fixture.topic], signature, "member 4 learns the result from qrecsig")
        XCTAssertFalse(verdicts.contains { if case .invalid = $0 { true } else { false } }, "\(verdicts)")

        // A recovered signature that does not verify is misbehaviour of whoever sent it.
        var other = fixture.topic
        other.requestID = .zero
        let bogus = QuorumRecoveredSignature(topic: other, signature: signature.signature)
        if case .invalid = outsider.receive(.recoveredSignature(bogus), now: 1).verdict {} else { XCTFail("bogus qrecsig accepted") }
    }

    /// A request too few members answer never recovers: its session is dropped after
    /// `maxAge`, so a quorum that lost members does not pile up sessions block after block.
    func testAbandonedSessionsExpire() throws {
        let fixture = QuorumSigningFixture()
        let (service, signers) = try fixture.memberService()
        XCTAssertEqual(try service.sign(fixture.topic, now: 0).count, 1, "its own commitments")
        XCTAssertEqual(service.sessionCount, 1)
        var now = 0.0
        while now < service.maxAge - 1 {
            now += 0.5
            _ = service.tick(now: now)
        }
        XCTAssertEqual(service.sessionCount, 1, "alone, still waiting for the others")
        _ = service.tick(now: service.maxAge + 0.1)
        XCTAssertEqual(service.sessionCount, 0)
        XCTAssertTrue(service.recovered.isEmpty)
    }

    /// A member's two different commitments for one attempt are evidence against the member:
    /// relayed once (never `invalid`, which would punish the honest peer relaying it), the
    /// member is left out, and its further versions are ignored.
    func testEquivocationIsRelayedOnceAndExcludesTheMember() throws {
        let fixture = QuorumSigningFixture()
        let (service, signers) = try fixture.memberService()
        _ = try service.sign(fixture.topic, now: 0)
        XCTAssertEqual(service.receive(fixture.commitment(by: signers[1]), now: 0).verdict, .relay)
        let second = service.receive(fixture.commitment(by: signers[1]), now: 0)
        XCTAssertEqual(second.verdict, .relay, "the evidence spreads")
        XCTAssertEqual(second.events, [.equivocation(member: signers[1].member)])
        XCTAssertEqual(service.receive(fixture.commitment(by: signers[1]), now: 0).verdict, .ignore, "once is enough")
        XCTAssertEqual(service.receive(fixture.commitment(by: signers[2]), now: 0).verdict, .relay)
    }

    /// Commitments for a request this node was not asked to sign wait one per (member,
    /// attempt): another version, or one past the attempt limit, is neither kept nor relayed.
    func testWaitingCommitmentsAreOnePerMemberAndAttempt() throws {
        let fixture = QuorumSigningFixture()
        let (service, signers) = try fixture.memberService()
        XCTAssertEqual(service.receive(fixture.commitment(by: signers[1], attempt: 0), now: 0).verdict, .relay)
        XCTAssertEqual(service.receive(fixture.commitment(by: signers[1], attempt: 0), now: 0).verdict, .ignore)
        XCTAssertEqual(service.receive(fixture.commitment(by: signers[1], attempt: 1), now: 0).verdict, .relay)
        guard case .invalid = service.receive(fixture.commitment(by: signers[1], attempt: QuorumSigningSession.maxAttempts), now: 0).verdict else {
            return XCTFail("an attempt past the limit is malformed")
        }
    }
}
