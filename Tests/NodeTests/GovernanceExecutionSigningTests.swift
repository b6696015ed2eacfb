import Ed25519
import FROST
import Governance
@testable import Node
import Primitives
import QuorumServices
import TestSupport
import Wire
import XCTest

/// A governance execution record signed the way the node signs it: the members of a quorum
/// run the signing service on an in-memory bus over the record's request, with the node's
/// real digest (`QuorumNodeService.digest`); the recovered signature verifies under the
/// quorum's key for this record and for no other result.
final class GovernanceExecutionSigningTests: XCTestCase {
    func testQuorumSignsTheRecordAndTheSignatureBindsTheResult() throws {
        let fixture = QuorumSigningFixture()
        let signers = try fixture.makeSigners(size: 4, threshold: 3)
        let groupKey = signers[0].publicKeys.verifyingKey.encoded
        let quorumType = fixture.topic.quorumType, quorumHash = fixture.topic.quorumHash
        let quorum = QuorumID(type: quorumType, hash: quorumHash)
        let proposal = Hash256(bytes: [UInt8](repeating: 0x19, count: 32))!
        let record = GovernanceExecution(proposalId: proposal, result: .approved, activationHeight: 120)
        let request = record.request(quorumType: quorumType)
        let topic = QuorumSigningTopic(quorumType: quorumType, quorumHash: quorumHash, requestID: request.requestID.hash,
                                       messageHash: request.messageHash)

        var services = [UInt16: QuorumSigningService]()
        for signer in signers {
            let service = QuorumSigningService(groupKey: { $0 == quorum ? groupKey : nil }, digest: QuorumNodeService.digest)
            service.memberships[quorum] = signer
            services[signer.member] = service
        }
        var queue = [(from: UInt16, message: QuorumMessage)]()
        func enqueue(_ events: [QuorumSigningEvent], from: UInt16) {
            for case .broadcast(let message) in events { queue.append((from, message)) }
        }
        func drain(now: Double) {
            while !queue.isEmpty {
                let (from, message) = queue.removeFirst()
                for (member, service) in services where member != from {
                    let (verdict, events) = service.receive(message, now: now)
                    if case .invalid(let reason) = verdict { XCTFail("member \(member) rejected \(message.command): \(reason)") }
                    enqueue(events, from: member)
                }
            }
        }
        for (member, service) in services { enqueue(service.sign(topic, now: 0), from: member) }
        drain(now: 0)
        for (member, service) in services { enqueue(service.tick(now: 0.3), from: member) }
        drain(now: 0.3)

        let signature = try XCTUnwrap(services[1]?.recovered[topic], "no recovered signature")
        for service in services.values { XCTAssertEqual(service.recovered[topic], signature) }
        XCTAssertEqual(signature.requestID, GovernanceExecution.requestID(proposalId: proposal))
        XCTAssertTrue(record.verify(signature, groupKey: groupKey))
        // Every other outcome of the same proposal is refused by the same signature.
        XCTAssertFalse(GovernanceExecution(proposalId: proposal, result: .rejected, activationHeight: nil).verify(signature, groupKey: groupKey))
        XCTAssertFalse(GovernanceExecution(proposalId: proposal, result: .slashed, activationHeight: nil).verify(signature, groupKey: groupKey))
        XCTAssertFalse(GovernanceExecution(proposalId: proposal, result: .approved, activationHeight: 121).verify(signature, groupKey: groupKey))
        // Not only the request differs: the signature bytes under the rejected record's request do not verify.
        let rejected = GovernanceExecution(proposalId: proposal, result: .rejected, activationHeight: nil)
        let transplanted = RecoveredSignature(request: rejected.request(quorumType: quorumType), quorumHash: quorumHash, signature: signature.signature)
        XCTAssertFalse(transplanted.verify(groupKey: groupKey))
        // And another quorum's key does not verify it.
        let otherKey = try fixture.makeSigners(size: 4, threshold: 3)[0].publicKeys.verifyingKey.encoded
        XCTAssertFalse(record.verify(signature, groupKey: otherKey))
    }
}
