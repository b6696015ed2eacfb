import Crypto
@testable import DKG
import Ed25519
import Testing
import TestSupport

@Suite struct DKGMessageTests {
    static func fixture(seed: UInt64) throws -> (DKGSimulation, SeededGenerator) {
        var generator = SeededGenerator(testSeed: seed)
        let simulation = try DKGSimulation(threshold: 3, behaviors: Array(repeating: .honest, count: 5), using: &generator)
        return (simulation, generator)
    }

    @Test func messagesRoundTripAndVerify() throws {
        let (simulation, _) = try Self.fixture(seed: 0xD6C0_0101)
        let contribution = simulation.participants[1].contribution
        let decoded = try DKGContribution(decoding: contribution.encoded)
        #expect(decoded == contribution && decoded.encryptedShares.count == 4 && decoded.commitments.count == 3)
        #expect(decoded.hasValidSignature(operatorKey: simulation.session.members[1].operatorKey))
        #expect(!decoded.hasValidSignature(operatorKey: simulation.session.members[0].operatorKey))
        #expect(contribution.encoded.count == DKGMessageCodec.headerLength + 2 + 3 * 32 + 64 + 2 + 4 * EncryptedShare.encodedLength + 64)

        let complaint = simulation.sign(DKGComplaint(sessionId: simulation.session.id, sender: 2, accusations: [
            .init(accused: 1, reason: .missingShare), .init(accused: 4, reason: .shareFailsCommitments)]), 1)
        #expect(try DKGComplaint(decoding: complaint.encoded) == complaint)
        let justification = simulation.sign(DKGJustification(sessionId: simulation.session.id, sender: 3, revealedShares: [
            .init(complainer: 2, share: Ed25519.Scalar(7))]), 2)
        #expect(try DKGJustification(decoding: justification.encoded) == justification)
        // The kinds are distinct: one message never decodes as another.
        #expect(throws: DecodingError.self) { try DKGComplaint(decoding: justification.encoded) }
    }

    @Test func receiveRefusesForeignTamperedAndLateMessages() throws {
        var (simulation, generator) = try Self.fixture(seed: 0xD6C0_0102)
        let other = try DKGSimulation(threshold: 3, behaviors: Array(repeating: .honest, count: 5), using: &generator)
        #expect(throws: DKGReceiveError.wrongSession(other.session.id)) { try simulation.participants[0].receive(other.participants[1].contribution) }

        let original = simulation.participants[1].contribution
        let impostor = DKGContribution(sessionId: original.sessionId, sender: 3, commitments: original.commitments,
                                       proofOfKnowledge: original.proofOfKnowledge, encryptedShares: [], signature: original.signature)
        #expect(throws: DKGReceiveError.invalidSignature(sender: 3)) { try simulation.participants[0].receive(impostor) }
        let stranger = simulation.sign(DKGComplaint(sessionId: simulation.session.id, sender: 9,
                                                    accusations: [.init(accused: 1, reason: .missingShare)]), 1)
        _ = try simulation.participants[0].closeContributionPhase()
        #expect(throws: DKGReceiveError.unknownSender(9)) { try simulation.participants[0].receive(stranger) }
        #expect(throws: DKGReceiveError.wrongPhase(message: "DKGContribution", phase: .complaint)) {
            try simulation.participants[0].receive(original)
        }
        #expect(throws: DKGReceiveError.wrongPhase(message: "finish", phase: .complaint)) { _ = try simulation.participants[0].finish() }
    }

    /// Every truncation is a named error, never a trap.
    @Test func truncationsAreNamedErrors() throws {
        let (simulation, _) = try Self.fixture(seed: 0xD6C0_0103)
        let bytes = simulation.participants[0].contribution.encoded
        for length in 0..<bytes.count {
            #expect(throws: DecodingError.self) { try DKGContribution(decoding: Array(bytes.prefix(length))) }
        }
        #expect(throws: DecodingError.trailingBytes(field: "DKGContribution.signature", offset: bytes.count, count: 1)) {
            try DKGContribution(decoding: bytes + [0])
        }
    }

    static func expectInvalid(_ bytes: [UInt8], field: String, _ type: any DKGMessage.Type = DKGContribution.self) {
        do {
            _ = try type.init(decoding: bytes)
            Issue.record("decoded although \(field) is invalid")
        } catch let error as DecodingError {
            #expect("\(error)".contains(field), "\(error)")
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test func malformedFieldsAreNamed() throws {
        let (simulation, _) = try Self.fixture(seed: 0xD6C0_0104)
        let bytes = simulation.participants[0].contribution.encoded
        let header = DKGMessageCodec.headerLength
        func patched(_ offset: Int, _ replacement: [UInt8]) -> [UInt8] {
            var copy = bytes
            copy.replaceSubrange(offset..<offset + replacement.count, with: replacement)
            return copy
        }
        Self.expectInvalid(patched(0, [2]), field: "kind")
        Self.expectInvalid(patched(33, [0, 0]), field: "sender")
        Self.expectInvalid(patched(header, [0, 0]), field: "commitment_count")
        Self.expectInvalid(patched(header, [0xFF, 0xFF]), field: "commitment_count")
        // y = p (non-canonical) and y = -1 (the point of order 2).
        let nonCanonical: [UInt8] = [0xED] + Array(repeating: 0xFF, count: 30) + [0x7F]
        let orderTwo: [UInt8] = [0xEC] + Array(repeating: 0xFF, count: 30) + [0x7F]
        Self.expectInvalid(patched(header + 2 + 32, nonCanonical), field: "commitments[1]")
        Self.expectInvalid(patched(header + 2, orderTwo), field: "commitments[0]")
        let proofOffset = header + 2 + 3 * 32
        Self.expectInvalid(patched(proofOffset, orderTwo), field: "proof_of_knowledge.R")
        Self.expectInvalid(patched(proofOffset + 32, Array(repeating: 0xFF, count: 32)), field: "proof_of_knowledge.z")
        let sharesOffset = proofOffset + 64 + 2
        Self.expectInvalid(patched(sharesOffset, [1, 0]), field: "shares[0].recipient")   // own identifier
        Self.expectInvalid(patched(sharesOffset + EncryptedShare.encodedLength, [2, 0]), field: "shares[1].recipient")  // not increasing

        let complaint = simulation.sign(DKGComplaint(sessionId: simulation.session.id, sender: 2,
                                                     accusations: [.init(accused: 1, reason: .missingShare)]), 1).encoded
        var badReason = complaint; badReason[header + 4] = 9
        Self.expectInvalid(badReason, field: "accusations[0].reason", DKGComplaint.self)
        var selfAccused = complaint; selfAccused[header + 2] = 2
        Self.expectInvalid(selfAccused, field: "accusations[0].accused", DKGComplaint.self)
        let justification = simulation.sign(DKGJustification(sessionId: simulation.session.id, sender: 3,
                                                             revealedShares: [.init(complainer: 2, share: .one)]), 2).encoded
        var nonCanonicalShare = justification
        nonCanonicalShare.replaceSubrange(header + 4..<header + 36, with: Array(repeating: 0xFF, count: 32))
        Self.expectInvalid(nonCanonicalShare, field: "shares[0].share", DKGJustification.self)
    }

    /// A share opens only in its session, from its sender, for its recipient, with the recipient's key.
    @Test func encryptedSharesCannotBeReplayed() throws {
        var (simulation, generator) = try Self.fixture(seed: 0xD6C0_0105)
        let other = try DKGSimulation(threshold: 3, behaviors: Array(repeating: .honest, count: 5), using: &generator)
        let share = try #require(simulation.participants[0].contribution.share(for: 2))
        let key2 = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: simulation.secrets[1].encryptionSecret)
        let key3 = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: simulation.secrets[2].encryptionSecret)
        guard case .success = ShareEncryption.open(share, with: key2, session: simulation.session.id, sender: 1) else {
            Issue.record("the recipient cannot open its share"); return
        }
        #expect(ShareEncryption.open(share, with: key2, session: other.session.id, sender: 1) == .failure(.undecryptable))
        #expect(ShareEncryption.open(share, with: key2, session: simulation.session.id, sender: 3) == .failure(.undecryptable))
        let redirected = EncryptedShare(recipient: 3, encapsulatedKey: share.encapsulatedKey, ciphertext: share.ciphertext)
        #expect(ShareEncryption.open(redirected, with: key3, session: simulation.session.id, sender: 1) == .failure(.undecryptable))
        #expect(ShareEncryption.open(redirected, with: key2, session: simulation.session.id, sender: 1) == .failure(.undecryptable))
    }
}
