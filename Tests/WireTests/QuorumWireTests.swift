import Primitives
import TestSupport
import Wire
import XCTest

extension SeededGenerator {
    mutating func signingTopic() -> QuorumSigningTopic {
        QuorumSigningTopic(quorumType: UInt8(truncatingIfNeeded: next()), quorumHash: hash256(), requestID: hash256(), messageHash: hash256())
    }

    mutating func member() -> UInt16 { UInt16(int(1...QuorumWireLimits.maxMembers)) }

    /// One random quorum message of `command` (one of `QuorumMessage.commands`).
    mutating func quorumMessage(command: String) -> QuorumMessage {
        func envelope() -> QuorumDKGEnvelope {
            QuorumDKGEnvelope(quorumType: UInt8(truncatingIfNeeded: next()), quorumHash: hash256(), dkgMessage: bytes(int(99...600)))
        }
        switch command {
        case "qcontrib": return .contribution(envelope())
        case "qcomplaint": return .complaint(envelope())
        case "qjustify": return .justification(envelope())
        case "qcommit":
            let count = int(1...QuorumWireLimits.maxMembers)
            var bits = bytes((count + 7) / 8)
            if count % 8 != 0 { bits[bits.count - 1] &= UInt8((1 << (count % 8)) - 1) }
            return .commitmentVote(QuorumCommitmentVote(quorumType: 1, quorumHash: hash256(), member: member(), validMemberCount: count,
                                                        validMemberBits: bits, groupKey: bytes(32), verificationVectorHash: hash256(),
                                                        signature: bytes(64)))
        case "qsigcommit":
            return .nonceCommitment(QuorumNonceCommitment(topic: signingTopic(), member: member(), attempt: UInt8(truncatingIfNeeded: next()),
                                                          commitments: bytes(96), signature: bytes(64)))
        case "qsigpkg":
            return .signingPackage(QuorumSigningPackageMessage(topic: signingTopic(), coordinator: member(), attempt: 0,
                                                               commitments: (0..<int(2...12)).map { _ in bytes(96) }, signature: bytes(64)))
        case "qsigshare":
            return .signatureShare(QuorumSignatureShareMessage(topic: signingTopic(), member: member(), attempt: 1, packageHash: hash256(),
                                                               share: bytes(32), signature: bytes(64)))
        default:
            return .recoveredSignature(QuorumRecoveredSignature(topic: signingTopic(), signature: bytes(64)))
        }
    }
}

/// The quorum messages: round trips, exact limits, strict decoding, and signed digests that
/// depend on the command and every field.
final class QuorumWireTests: XCTestCase {
    func testEveryQuorumCommandRoundTripsWithinItsLimit() throws {
        var rng = SeededGenerator(testSeed: 0x0A17)
        for _ in 0..<20 {
            for command in QuorumMessage.commands {
                let message = Message.quorum(rng.quorumMessage(command: command))
                XCTAssertEqual(message.command, command)
                let payload = message.encodePayload()
                XCTAssertLessThanOrEqual(payload.count, WireLimits.maxPayload(forCommand: command))
                XCTAssertEqual(try Message.decode(command: command, payload: payload), message)
                XCTAssertEqual(readAll(Frame.encode(message, magic: regtest)).messages, [message])
            }
        }
    }

    func testFixedSizesMatchTheirLimits() {
        var rng = SeededGenerator(testSeed: 0x0A18)
        for command in ["qsigcommit", "qsigshare", "qrecsig"] {
            XCTAssertEqual(Message.quorum(rng.quorumMessage(command: command)).encodePayload().count,
                           WireLimits.maxPayload(forCommand: command), command)
        }
        XCTAssertEqual(QuorumWireLimits.recoveredSignature, 161)
    }

    func testLargestPackageAndContributionFitTheirLimits() throws {
        var rng = SeededGenerator(testSeed: 0x0A19)
        let package = QuorumMessage.signingPackage(QuorumSigningPackageMessage(
            topic: rng.signingTopic(), coordinator: 1, attempt: 0,
            commitments: (0..<QuorumWireLimits.maxMembers).map { _ in rng.bytes(96) }, signature: rng.bytes(64)))
        XCTAssertEqual(package.payload.count, QuorumWireLimits.signingPackage)
        XCTAssertEqual(try Message.decode(command: "qsigpkg", payload: package.payload), .quorum(package))
        // The largest contribution the DKG can make for 400 members, wrapped.
        let largest = QuorumMessage.contribution(QuorumDKGEnvelope(
            quorumType: 1, quorumHash: rng.hash256(), dkgMessage: rng.bytes(QuorumWireLimits.contribution - 36)))
        XCTAssertEqual(largest.payload.count, QuorumWireLimits.contribution)
        XCTAssertEqual(try Message.decode(command: "qcontrib", payload: largest.payload), .quorum(largest))
        XCTAssertEqual(decodeError("qcontrib", largest.payload + [0]),
                       .oversized(command: "qcontrib", length: UInt32(QuorumWireLimits.contribution + 1), limit: QuorumWireLimits.contribution))
    }

    func testInvalidFieldsAreMalformedAndNamed() {
        var rng = SeededGenerator(testSeed: 0x0A1A)
        guard case .nonceCommitment(var commit) = rng.quorumMessage(command: "qsigcommit") else { return XCTFail() }
        commit.member = 0
        XCTAssertTrue(reason("qsigcommit", QuorumMessage.nonceCommitment(commit).payload).contains("member 0"))
        commit.member = 401
        XCTAssertTrue(reason("qsigcommit", QuorumMessage.nonceCommitment(commit).payload).contains("member"))

        guard case .signingPackage(var package) = rng.quorumMessage(command: "qsigpkg") else { return XCTFail() }
        package.commitments = [rng.bytes(96)]
        XCTAssertTrue(reason("qsigpkg", QuorumMessage.signingPackage(package).payload).contains("commitments_count"))
        // A count promising more commitments than the payload holds is refused before reading them.
        package.commitments = (0..<3).map { _ in rng.bytes(96) }
        var payload = QuorumMessage.signingPackage(package).payload
        payload[QuorumSigningTopic.encodedLength + 3] = 50
        XCTAssertTrue(reason("qsigpkg", payload).contains("commitments_count"))

        guard case .commitmentVote(var vote) = rng.quorumMessage(command: "qcommit") else { return XCTFail() }
        vote.validMemberCount = 5
        vote.validMemberBits = [0b0010_0001]
        XCTAssertTrue(reason("qcommit", QuorumMessage.commitmentVote(vote).payload).contains("valid_members"))

        let short = QuorumMessage.complaint(QuorumDKGEnvelope(quorumType: 1, quorumHash: .zero, dkgMessage: rng.bytes(98)))
        XCTAssertTrue(reason("qcomplaint", short.payload).contains("dkg_message"))
    }

    func testSignedDigestBindsCommandAndFields() {
        var rng = SeededGenerator(testSeed: 0x0A1B)
        guard case .nonceCommitment(let commit) = rng.quorumMessage(command: "qsigcommit"),
              case .signatureShare(let share) = rng.quorumMessage(command: "qsigshare") else { return XCTFail() }
        let base = commit.signedDigest
        XCTAssertEqual(base.count, 32)
        var changed = [QuorumNonceCommitment](repeating: commit, count: 4)
        changed[0].member ^= 3
        changed[1].attempt &+= 1
        changed[2].topic.requestID = rng.hash256()
        changed[3].commitments[95] ^= 1
        let digests = changed.map(\.signedDigest) + [share.signedDigest]
        XCTAssertEqual(Set(digests + [base]).count, digests.count + 1)
        // The signature is not part of what is signed.
        var resigned = commit
        resigned.signature = rng.bytes(64)
        XCTAssertEqual(resigned.signedDigest, base)
    }

    func testRelayHashIsPerMessageAndPerCommand() {
        var rng = SeededGenerator(testSeed: 0x0A1C)
        guard case .contribution(let envelope) = rng.quorumMessage(command: "qcontrib") else { return XCTFail() }
        let contribution = QuorumMessage.contribution(envelope), complaint = QuorumMessage.complaint(envelope)
        XCTAssertEqual(contribution.payload, complaint.payload)
        XCTAssertNotEqual(contribution.relayHash, complaint.relayHash)
        XCTAssertEqual(contribution.relayHash, QuorumMessage.relayHash(command: "qcontrib", payload: contribution.payload))
        XCTAssertEqual(envelope.sender, UInt16(envelope.dkgMessage[33]) | UInt16(envelope.dkgMessage[34]) << 8)
    }

    private func reason(_ command: String, _ payload: [UInt8]) -> String {
        if case .malformed(let failed, let reason) = decodeError(command, payload), failed == command { return reason }
        return "not malformed: \(String(describing: decodeError(command, payload)))"
    }
}
