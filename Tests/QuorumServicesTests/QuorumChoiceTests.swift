import BLAKE3
import Primitives
import QuorumServices
import Testing

@Suite struct QuorumChoiceTests {
    let quorums = (1...6).map { Hash256(bytes: [UInt8](repeating: UInt8($0), count: 32))! }

    func request(_ index: UInt8) -> SigningRequestID { SigningRequestID(Hash256(bytes: [UInt8](repeating: index, count: 31) + [0x55])!) }

    @Test func picksTheLowestKeyedScore() {
        let key = DomainKeys.key(purpose: "quorum select")
        for index in UInt8(0)..<20 {
            let id = request(index)
            let scores = quorums.map { Hash256(bytes: BLAKE3.keyedHash(key: key, $0.bytes + id.hash.bytes))! }
            let expected = quorums[scores.indices.min { scores[$0] < scores[$1] }!]
            #expect(QuorumChoice.responsible(for: id, among: quorums) == expected)
            #expect(QuorumChoice.score(quorumHash: expected, requestID: id) == scores.min())
        }
    }

    @Test func ignoresOrderAndSpreadsRequests() {
        var chosen = Set<Hash256>()
        for index in UInt8(0)..<40 {
            let forward = QuorumChoice.responsible(for: request(index), among: quorums)
            #expect(forward == QuorumChoice.responsible(for: request(index), among: quorums.reversed()))
            if let forward { chosen.insert(forward) }
        }
        #expect(chosen.count >= 4)
    }

    @Test func noneWithoutActiveQuorums() {
        #expect(QuorumChoice.responsible(for: request(1), among: []) == nil)
        #expect(QuorumChoice.responsible(for: request(1), among: [quorums[2]]) == quorums[2])
    }

    @Test func recoveredSignatureRoundTrips() throws {
        let request = SigningRequest(quorumType: 9, requestID: request(3), messageHash: quorums[5])
        let signature = RecoveredSignature(request: request, quorumHash: quorums[1], signature: [UInt8](repeating: 0x11, count: 64))
        #expect(signature.encoded.count == RecoveredSignature.encodedLength)
        #expect(try RecoveredSignature.decode(signature.encoded) == signature)
        #expect { try RecoveredSignature.decode(Array(signature.encoded.prefix(40))) } throws: { error in
            guard case .truncated(let field, _, _, _) = error as? DecodingError else { return false }
            return field == "recsig.request_id"
        }
        // The digest binds every field.
        var otherType = request
        otherType.quorumType = 8
        #expect(request.signingDigest(quorumHash: quorums[1]) != otherType.signingDigest(quorumHash: quorums[1]))
        #expect(request.signingDigest(quorumHash: quorums[1]) != request.signingDigest(quorumHash: quorums[2]))
    }
}
