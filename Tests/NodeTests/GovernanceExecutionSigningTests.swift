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
/// run their signing sessions on the in-memory bus over the record's request, with the
/// node's real digest (`QuorumNodeService.digest`); the recovered signature verifies under
/// the quorum's key for this record and for no other result.
final class GovernanceExecutionSigningTests: XCTestCase {
    func testQuorumSignsTheRecordAndTheSignatureBindsTheResult() throws {
        let fixture = QuorumSigningFixture()
        let signers = try fixture.makeSigners(size: 4, threshold: 3)
        let groupKey = signers[0].publicKeys.verifyingKey.encoded
        let quorumType = fixture.topic.quorumType, quorumHash = fixture.topic.quorumHash
        let proposal = Hash256(bytes: [UInt8](repeating: 0x19, count: 32))!
        let record = GovernanceExecution(proposalId: proposal, result: .approved, activationHeight: 120)
        let request = record.request(quorumType: quorumType)
        let topic = QuorumSigningTopic(quorumType: quorumType, quorumHash: quorumHash, requestID: request.requestID.hash,
                                       messageHash: request.messageHash)

        // The quorum's signing sessions on the in-memory bus, over the digest the node's service signs.
        let bus = QuorumSigningBus(signers: signers, topic: topic, message: QuorumNodeService.digest(topic))
        bus.run()
        XCTAssertTrue(bus.rejections.isEmpty, "\(bus.rejections)")
        let signature = try XCTUnwrap(bus.recovered[1], "no recovered signature")
        XCTAssertEqual(Set(bus.recovered.values), [signature], "members recovered different signatures")
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
