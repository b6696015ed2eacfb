import BLAKE3
import Ed25519
import Primitives
import QuorumServices
import Testing
import TestSupport

@Suite struct ChainLockTests {
    static let type: UInt8 = 100
    let block = Hash256(bytes: [UInt8](repeating: 0xAB, count: 32))!

    @Test func requestIDIsTheKeyedHashOfTheHeight() {
        let expected = BLAKE3.keyedHash(key: DomainKeys.key(purpose: "chainlock request"), [7, 0, 0, 0, 0, 0, 0, 0])
        #expect(ChainLock.requestID(height: 7).hash.bytes == expected)
        #expect(ChainLock.requestID(height: 7) != ChainLock.requestID(height: 8))
    }

    @Test func aLockIsTheRecoveredSignatureOfItsRequest() {
        let quorum = TestLockQuorum(1)
        let lock = quorum.lock(height: 12, blockHash: block, quorumType: Self.type)
        let recovered = lock.recoveredSignature(quorumType: Self.type)
        #expect(recovered.requestID == ChainLock.requestID(height: 12))
        #expect(recovered.messageHash == block)
        #expect(recovered.quorumHash == quorum.quorumHash)
        var digestInput = [Self.type] + quorum.quorumHash.bytes + ChainLock.requestID(height: 12).hash.bytes
        digestInput += block.bytes
        #expect(recovered.signingDigest == BLAKE3.keyedHash(key: DomainKeys.key(purpose: "quorum sign"), digestInput))
        #expect(Ed25519.verify(signature: lock.signature, message: recovered.signingDigest, publicKey: quorum.groupKey))
    }

    @Test func verifiesUnderItsKeyOnly() {
        let quorum = TestLockQuorum(1)
        let lock = quorum.lock(height: 12, blockHash: block, quorumType: Self.type)
        #expect(lock.verify(groupKey: quorum.groupKey, quorumType: Self.type))
        #expect(!lock.verify(groupKey: TestLockQuorum(2).groupKey, quorumType: Self.type))
        #expect(!lock.verify(groupKey: quorum.groupKey, quorumType: Self.type + 1))
        #expect(!lock.verify(groupKey: [1, 2, 3], quorumType: Self.type))
        var otherHeight = lock
        otherHeight.height = 13
        #expect(!otherHeight.verify(groupKey: quorum.groupKey, quorumType: Self.type))
        var otherBlock = lock
        otherBlock.blockHash = .zero
        #expect(!otherBlock.verify(groupKey: quorum.groupKey, quorumType: Self.type))
    }

    @Test func encodingRoundTripsAndIsExact() throws {
        let lock = TestLockQuorum(3).lock(height: 0x0102_0304, blockHash: block, quorumType: Self.type)
        let bytes = lock.encoded
        #expect(bytes.count == ChainLock.encodedLength && bytes.count == 136)
        #expect(Array(bytes[0..<8]) == [4, 3, 2, 1, 0, 0, 0, 0])
        #expect(Array(bytes[8..<40]) == block.bytes)
        #expect(Array(bytes[72...]) == lock.signature)
        #expect(try ChainLock.decode(bytes) == lock)
    }

    @Test func decodingNamesTheField() {
        let bytes = TestLockQuorum(3).lock(height: 5, blockHash: block, quorumType: Self.type).encoded
        #expect { try ChainLock.decode(Array(bytes.dropLast())) } throws: { error in
            guard case .truncated(let field, _, _, _) = error as? DecodingError else { return false }
            return field == "clsig.signature"
        }
        #expect { try ChainLock.decode(bytes + [0]) } throws: { error in
            guard case .trailingBytes(let field, _, _) = error as? DecodingError else { return false }
            return field == "clsig.end"
        }
    }

    @Test func signersCheckResponsibilityThenSignature() throws {
        let quorums = [TestLockQuorum(1), TestLockQuorum(2), TestLockQuorum(3)]
        let signers = TestLockQuorum.signers(quorums, quorumType: Self.type)
        // Over several heights the responsible quorum changes: each one's lock passes, the others' are refused.
        var responsibleSeen = Set<Hash256>()
        for height in UInt64(1)...12 {
            let responsible = TestLockQuorum.responsible(quorums, height: height)
            responsibleSeen.insert(responsible.quorumHash)
            try signers.check(responsible.lock(height: height, blockHash: block, quorumType: Self.type))
            for other in quorums where other.quorumHash != responsible.quorumHash {
                #expect(throws: ChainLockError.notResponsibleQuorum(quorum: other.quorumHash, responsible: responsible.quorumHash)) {
                    try signers.check(other.lock(height: height, blockHash: self.block, quorumType: Self.type))
                }
            }
            var forged = responsible.lock(height: height, blockHash: block, quorumType: Self.type)
            forged.signature[0] ^= 1
            #expect(throws: ChainLockError.badSignature(quorum: responsible.quorumHash)) { try signers.check(forged) }
        }
        #expect(responsibleSeen.count > 1)
        #expect(throws: ChainLockError.noActiveQuorum) {
            try ChainLockSigners(quorumType: Self.type, groupKeys: [:]).check(quorums[0].lock(height: 1, blockHash: self.block, quorumType: Self.type))
        }
    }
}
