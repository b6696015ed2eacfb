import ChainParams
import Foundation
@testable import Node
import Primitives
import QuorumServices
import Quorums
import Wire
import XCTest

/// The conflict rule (one message per (type, request id)) and its record on disk.
final class QuorumSignedRecordTests: XCTestCase {
    private func hash(_ byte: UInt8) -> Hash256 { Hash256(bytes: [UInt8](repeating: byte, count: 32))! }

    func testRecordSurvivesARestartAndRefusesAnotherMessage() throws {
        let datadir = FileManager.default.temporaryDirectory.appendingPathComponent("signed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        let request = QuorumSignedRecord.Request(type: 100, requestID: hash(1))
        let record = QuorumSignedRecord(datadir: datadir)
        XCTAssertNil(record.damage)
        try record.record(request, message: hash(2))
        try record.record(request, message: hash(2))
        let reloaded = QuorumSignedRecord(datadir: datadir)
        XCTAssertNil(reloaded.damage)
        XCTAssertEqual(reloaded.messageHash(of: request), hash(2))
        XCTAssertThrowsError(try reloaded.record(request, message: hash(3)))
        XCTAssertEqual(reloaded.messageHash(of: request), hash(2))
    }

    /// A damaged record is not read as empty (that would drop the guard for the current
    /// heights): it refuses every request until the node accepts the damage.
    func testDamagedRecordRefusesSigning() throws {
        let datadir = FileManager.default.temporaryDirectory.appendingPathComponent("signed-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: datadir) }
        try QuorumSignedRecord(datadir: datadir).record(.init(type: 100, requestID: hash(1)), message: hash(2))
        let path = try XCTUnwrap(QuorumSignedRecord(datadir: datadir).path)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        let damaged = QuorumSignedRecord(datadir: datadir)
        XCTAssertNotNil(damaged.damage)
        XCTAssertThrowsError(try damaged.record(.init(type: 100, requestID: hash(5)), message: hash(6)))
        damaged.acceptDamage()
        try damaged.record(.init(type: 100, requestID: hash(5)), message: hash(6))
        XCTAssertNil(QuorumSignedRecord(datadir: datadir).damage, "replaced by a whole record")
    }

    /// A record that cannot be written refuses the request (the member does not sign).
    func testUnwritableRecordRefuses() throws {
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("blocker-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: blocker) }
        try Data([0]).write(to: URL(fileURLWithPath: blocker))
        // The datadir is a plain file: the quorums directory cannot be created under it.
        let record = QuorumSignedRecord(datadir: blocker)
        XCTAssertThrowsError(try record.record(.init(type: 100, requestID: hash(1)), message: hash(2)))
        XCTAssertNil(record.messageHash(of: .init(type: 100, requestID: hash(1))))
    }

    /// The signing service refuses a second message under a request id it started, and a
    /// restart of a topic whose session ended (fresh attempt-0 nonces would look like equivocation).
    func testServiceRefusesConflictingAndRestartedRequests() throws {
        let fixture = QuorumSigningFixture()
        let (service, signers) = try fixture.memberService()
        XCTAssertEqual(try service.sign(fixture.topic, now: 0).count, 1)
        XCTAssertEqual(try service.sign(fixture.topic, now: 0), [], "running: a no-op")
        var conflicting = fixture.topic
        conflicting.messageHash = hash(9)
        XCTAssertThrowsError(try service.sign(conflicting, now: 0))
        _ = service.tick(now: service.maxAge + 1)
        XCTAssertEqual(service.sessionCount, 0)
        XCTAssertThrowsError(try service.sign(fixture.topic, now: service.maxAge + 2))
        XCTAssertEqual(service.sessionCount, 0)
    }
}

/// `quorum sign` must not produce chain locks: chain-lock request ids near the tip are refused.
final class QuorumChainLockRequestTests: XCTestCase {
    func testChainLockRequestIDsAreRecognised() throws {
        let parameters = try QuorumParameters(try ChainParameters.builtIn("regtest"))
        let type = try XCTUnwrap(parameters.chainLockType)
        let lock = ChainLock.request(height: 500, blockHash: .zero, quorumType: type.rawValue)
        XCTAssertTrue(QuorumNodeService.isChainLockRequest(lock, tip: 400, parameters: parameters))
        XCTAssertTrue(QuorumNodeService.isChainLockRequest(lock, tip: 1_400, parameters: parameters))
        XCTAssertFalse(QuorumNodeService.isChainLockRequest(lock, tip: 2_000, parameters: parameters), "far below the tip")
        let other = SigningRequest(quorumType: type.rawValue, requestID: SigningRequestID(Hash256(bytes: [UInt8](repeating: 7, count: 32))!),
                                   messageHash: .zero)
        XCTAssertFalse(QuorumNodeService.isChainLockRequest(other, tip: 400, parameters: parameters))
    }
}
