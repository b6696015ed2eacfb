import JSONRPC
import Primitives
import Quorums
import Testing
@testable import Node

/// A quorum commitment in decoded-transaction answers: `qcTx` with its fields.
@Suite struct QuorumCommitmentJSONTests {
    @Test func decodedCommitmentNamesItsFields() {
        let payload = QuorumCommitmentPayload(
            quorumType: QuorumTypeID(rawValue: 100), quorumHash: Hash256(bytes: [UInt8](repeating: 0xAB, count: 32))!, quorumHeight: 24,
            validMembers: QuorumBitset(count: 5, setting: [0, 2, 4]), groupKey: [UInt8](repeating: 3, count: 32),
            verificationVectorHash: Hash256(bytes: [UInt8](repeating: 4, count: 32))!, signers: QuorumBitset(count: 5, setting: [0, 4]),
            signatures: [[UInt8](repeating: 5, count: 64), [UInt8](repeating: 6, count: 64)])
        var object = JSONObject()
        ChainJSON.addSpecialFields(payload.transaction, to: &object, address: nil)
        #expect(object["type"] == .int(5))
        guard case .object(let qc)? = object["qcTx"] else {
            Issue.record("no qcTx in \(object)")
            return
        }
        #expect(qc["quorumType"] == .int(100) && qc["quorumHeight"] == .int(24))
        #expect(qc["quorumHash"] == .string(String(repeating: "ab", count: 32)))
        #expect(qc["validMembers"] == .array([.int(0), .int(2), .int(4)]) && qc["signers"] == .array([.int(0), .int(4)]))
        #expect(qc["isNull"] == .bool(false))
        #expect(object["payloadError"] == nil)
    }
}
