import BLAKE3
import Ed25519
import Governance
import Primitives
import QuorumServices
import Testing
import TestSupport

/// The governance execution record (docs/protocol/governance-execution.md): its 41-byte
/// encoding, the request it is signed under, and strict decoding.
@Suite struct GovernanceExecutionRecordTests {
    static let type: UInt8 = 100
    let proposal = Hash256(bytes: (0..<32).map { UInt8($0) })!

    var approved: GovernanceExecution { GovernanceExecution(proposalId: proposal, result: .approved, activationHeight: 0x0102_0304) }

    @Test func encodingIsTheDocumentedLayout() throws {
        let bytes = approved.encoded
        #expect(bytes.count == GovernanceExecution.encodedLength && bytes.count == 41)
        #expect(Array(bytes[0..<32]) == proposal.bytes)
        #expect(bytes[32] == 1)
        #expect(Array(bytes[33...]) == [4, 3, 2, 1, 0, 0, 0, 0])
        let rejected = GovernanceExecution(proposalId: proposal, result: .rejected, activationHeight: nil).encoded
        #expect(rejected[32] == 2 && Array(rejected[33...]) == [UInt8](repeating: 0xFF, count: 8))
        #expect(GovernanceExecution(proposalId: proposal, result: .slashed, activationHeight: nil).encoded[32] == 3)
        #expect(try GovernanceExecution.decode(bytes) == approved)
        #expect(try GovernanceExecution.decode(rejected) == GovernanceExecution(proposalId: proposal, result: .rejected, activationHeight: nil))
    }

    @Test func requestAndMessageAreKeyedHashes() {
        let requestKey = DomainKeys.key(purpose: "governance execution")
        let recordKey = DomainKeys.key(purpose: "governance execution record")
        #expect(approved.requestID.hash.bytes == BLAKE3.keyedHash(key: requestKey, proposal.bytes))
        #expect(approved.messageHash.bytes == BLAKE3.keyedHash(key: recordKey, approved.encoded))
        // Known answers (docs/protocol/governance-execution.md): a change of key or layout shows here.
        #expect(approved.requestID.hash.hex == "1ec7feae4096511a74f025a7c64125b4625aa6263ad4136802e5a40400a21b58")
        #expect(approved.messageHash.hex == "c9a8d49affd67d9d645fd1abdf9553f429a511c0f3e62d1b04aa7c3f4f151583")
        // One request per proposal whatever the result; each result is a different message.
        let rejected = GovernanceExecution(proposalId: proposal, result: .rejected, activationHeight: nil)
        #expect(rejected.requestID == approved.requestID && rejected.messageHash != approved.messageHash)
        #expect(GovernanceExecution.requestID(proposalId: .zero) != approved.requestID)
        #expect(approved.request(quorumType: Self.type) == SigningRequest(quorumType: Self.type, requestID: approved.requestID, messageHash: approved.messageHash))
    }

    @Test func aSignatureVerifiesForItsRecordOnly() {
        let quorum = TestLockQuorum(7)
        let request = approved.request(quorumType: Self.type)
        let digest = request.signingDigest(quorumHash: quorum.quorumHash)
        let signature = RecoveredSignature(request: request, quorumHash: quorum.quorumHash, signature: Ed25519.sign(message: digest, seed: quorum.seed))
        #expect(approved.verify(signature, groupKey: quorum.groupKey))
        #expect(!approved.verify(signature, groupKey: TestLockQuorum(8).groupKey))
        var later = approved
        later.activationHeight = 0x0102_0305
        #expect(!later.verify(signature, groupKey: quorum.groupKey))
        #expect(!GovernanceExecution(proposalId: proposal, result: .slashed, activationHeight: nil).verify(signature, groupKey: quorum.groupKey))
    }

    @Test func decodingNamesTheFieldAtFault() {
        var unknown = approved.encoded
        unknown[32] = 4
        #expect(throws: DecodingError.self) { try GovernanceExecution.decode(unknown) }
        #expect(message(unknown).contains("govexec.result"))
        #expect(message(GovernanceExecution(proposalId: proposal, result: .approved, activationHeight: nil).encoded).contains("activation_height"))
        var rejectedWithHeight = approved.encoded
        rejectedWithHeight[32] = 2
        #expect(message(rejectedWithHeight).contains("activation_height"))
        #expect(message(Array(approved.encoded.prefix(40))).contains("govexec.activation_height"))
        #expect(message(approved.encoded + [0]).contains("govexec.end"))
        #expect(message(Array(approved.encoded.prefix(10))).contains("govexec.proposal_id"))
    }

    private func message(_ bytes: [UInt8]) -> String {
        do {
            _ = try GovernanceExecution.decode(bytes)
            return "decoded"
        } catch { return "\(error)" }
    }
}
