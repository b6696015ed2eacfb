import Crypto
@testable import DKG
import Ed25519
import Foundation
import Testing
import TestSupport

/// The ZF `frost` crate's DKG vector (vectors_dkg.json: 3 members, threshold 2). From each
/// member's signing_key (a_0) and coefficient (a_1) we rebuild its polynomial and check the
/// commitments, the shares each member receives, the signing and verifying shares and the
/// group key against ZF's values.
@Suite struct ZFDKGVectorTests {
    struct Member {
        let identifier: UInt16
        let polynomial: SecretPolynomial
        let commitments: [String]
        let proof: [UInt8]
        let receivedShares: [UInt16: String]   // keyed by sender
        let signingShare: String
        let verifyingShare: String
    }

    static func load() throws -> (members: [Member], groupKey: String) {
        let object = try JSONSerialization.jsonObject(with: TestPaths.vector("zf_frost_ed25519_vectors_dkg.json"))
        let json = try #require(object as? [String: Any])
        let inputs = try #require(json["inputs"] as? [String: Any])
        var members: [Member] = []
        for id in 1...3 {
            let entry = try #require(inputs["\(id)"] as? [String: Any])
            func bytes(_ key: String) throws -> [UInt8] {
                let text = try #require(entry[key] as? String)
                return try #require(HexCoding.decode(text))
            }
            func scalar(_ key: String) throws -> Ed25519.Scalar { try #require(Ed25519.Scalar(canonical: try bytes(key))) }
            let shares = try #require(entry["signing_shares"] as? [String: String])
            members.append(Member(
                identifier: UInt16(id),
                polynomial: SecretPolynomial(coefficients: [try scalar("signing_key"), try scalar("coefficient")]),
                commitments: try #require(entry["vss_commitments"] as? [String]),
                proof: try bytes("proof_of_knowledge"),
                receivedShares: Dictionary(uniqueKeysWithValues: shares.map { (UInt16($0.key)!, $0.value) }),
                signingShare: try #require(entry["signing_share"] as? String),
                verifyingShare: try #require(entry["verifying_share"] as? String)))
        }
        return (members, try #require(inputs["verifying_key"] as? String))
    }

    @Test func polynomialsSharesAndGroupKeyMatchZF() throws {
        let (members, groupKey) = try Self.load()
        for member in members {
            #expect(member.polynomial.commitments.map { HexCoding.encode($0.encoded) } == member.commitments)
            var signingShare = member.polynomial.evaluate(at: member.identifier)
            for sender in members where sender.identifier != member.identifier {
                let share = sender.polynomial.evaluate(at: member.identifier)
                #expect(HexCoding.encode(share.bytes) == member.receivedShares[sender.identifier])
                #expect(FeldmanCommitments.verify(share: share, of: member.identifier, against: sender.polynomial.commitments))
                signingShare = signingShare + share
            }
            #expect(HexCoding.encode(signingShare.bytes) == member.signingShare)
            #expect(HexCoding.encode(Ed25519.Point.base(times: signingShare).encoded) == member.verifyingShare)
            // The verifying share from public data only: the summed vector evaluated at the member.
            let vector = (0..<2).map { k in members.reduce(Ed25519.Point.identity) { $0 + $1.polynomial.commitments[k] } }
            #expect(HexCoding.encode(FeldmanCommitments.evaluate(vector, at: member.identifier).encoded) == member.verifyingShare)
            #expect(HexCoding.encode(vector[0].encoded) == groupKey)
            #expect(!FeldmanCommitments.verify(share: signingShare + .one, of: member.identifier, against: vector))
        }
    }

    @Test func batchedFeldmanCheckCatchesOneBadShare() throws {
        let (members, _) = try Self.load()
        for member in members {
            let items = members.map { ($0.identifier, $0.polynomial.evaluate(at: member.identifier), $0.polynomial.commitments) }
            #expect(FeldmanCommitments.verifyBatch(items, of: member.identifier))
            for bad in items.indices {
                var corrupted = items
                corrupted[bad].1 = corrupted[bad].1 + .one
                #expect(!FeldmanCommitments.verifyBatch(corrupted, of: member.identifier))
            }
            #expect(!FeldmanCommitments.verifyBatch(items, of: member.identifier % 3 + 1))
        }
    }

    /// ZF's proof of knowledge: c = H_DKG(identifier || C_0 || R) with H_DKG = SHA-512 over
    /// "FROST-ED25519-SHA512-v1" || "dkg" || input, reduced mod l, and the identifier as a
    /// 32-byte little-endian scalar. Ours hashes (keyed label, session id, u16 identifier, C_0,
    /// R) instead, binding the proof to the quorum session; the algebra (z B == R + c C_0) is
    /// the same, so ZF's proofs are checked here with ZF's challenge and must fail ours.
    static func zfChallenge(identifier: UInt16, constantCommitment: Ed25519.Point, nonceCommitment: Ed25519.Point) -> Ed25519.Scalar {
        var hasher = SHA512()
        hasher.update(data: Array("FROST-ED25519-SHA512-v1dkg".utf8))
        hasher.update(data: Ed25519.Scalar(UInt64(identifier)).bytes)
        hasher.update(data: constantCommitment.encoded)
        hasher.update(data: nonceCommitment.encoded)
        return Ed25519.Scalar(reducing: Array(hasher.finalize()))
    }

    @Test func zfProofsOfKnowledgeVerifyUnderZFChallenge() throws {
        let (members, _) = try Self.load()
        for member in members {
            let r = try #require(Ed25519.Point(encoded: Array(member.proof[0..<32])))
            let z = try #require(Ed25519.Scalar(canonical: Array(member.proof[32..<64])))
            let c0 = member.polynomial.commitments[0]
            let c = Self.zfChallenge(identifier: member.identifier, constantCommitment: c0, nonceCommitment: r)
            #expect(Ed25519.Point.base(times: z) == r + c * c0)
            #expect(Ed25519.Point.base(times: z) != r + (c + .one) * c0)
            let ours = ProofOfKnowledge(commitment: r, response: z)
            #expect(!ours.verify(constantCommitment: c0, session: Hash256.zero, sender: member.identifier))
        }
    }
}
