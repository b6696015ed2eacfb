import Ed25519
@testable import FROST
import Foundation
import Testing
import TestSupport

/// RFC 9591 appendix E.1 and the ZF frost-ed25519 vectors: every value recomputed.
/// The ZF `vectors.json` has the RFC's keys and message but its own nonce randomness (so
/// its nonces, shares and signature differ from the RFC's); `vectors-big-identifier.json`
/// signs with participants 129, 256, 257 of 257. ZF names the group key `verifying_key_key`.
struct VectorTests {
    static let files = ["frost_rfc9591_ed25519_sha512.json", "zf_frost_ed25519_vectors.json",
                        "zf_frost_ed25519_vectors-big-identifier.json"]

    static func scalar(_ hex: String) throws -> Ed25519.Scalar {
        try #require(Ed25519.Scalar(canonical: hexBytes(hex)), "scalar \(hex)")
    }

    @Test("every value of the vector file is recomputed", arguments: files)
    func vectorFile(_ name: String) throws {
        let parsed = try JSONSerialization.jsonObject(with: TestPaths.vector(name))
        let json = try #require(parsed as? [String: Any])
        let config = try #require(json["config"] as? [String: String])
        let inputs = try #require(json["inputs"] as? [String: Any])
        let maxSigners = Int(config["MAX_PARTICIPANTS"] ?? "") ?? 0
        let minSigners = Int(config["MIN_PARTICIPANTS"] ?? "") ?? 0
        let message = hexBytes(try #require(inputs["message"] as? String))
        let secretHex = try #require(inputs["group_secret_key"] as? String)
        let secret = try Self.scalar(secretHex)
        let groupKeyHex = try #require((inputs["group_public_key"] ?? inputs["verifying_key_key"]) as? String)
        let coefficients = try (try #require(inputs["share_polynomial_coefficients"] as? [String])).map(Self.scalar)

        // Key generation: the dealer's shares and the group key.
        let identifiers = try (1...maxSigners).map { try Identifier(UInt16($0)) }
        let (shares, publicKeys) = try TrustedDealer.generate(secret: secret, coefficients: coefficients, identifiers: identifiers)
        #expect(publicKeys.verifyingKey.encoded == hexBytes(groupKeyHex))
        #expect(publicKeys.minSigners == minSigners)
        var keyPackages = [Identifier: KeyPackage]()
        for entry in try #require(inputs["participant_shares"] as? [[String: Any]]) {
            let id = try Identifier(UInt16(try #require(entry["identifier"] as? Int)))
            let share = try #require(shares.first { $0.identifier == id })
            let expectedShare = try #require(entry["participant_share"] as? String)
            #expect(share.signingShare.bytes == hexBytes(expectedShare), "share \(id)")
            keyPackages[id] = try KeyPackage(secretShare: share)
            #expect(publicKeys.verifyingShares[id] == keyPackages[id]?.verifyingShare)
        }

        // Round one: nonces from the given randomness, then commitments.
        let roundOne = try #require((json["round_one_outputs"] as? [String: Any])?["outputs"] as? [[String: Any]])
        func text(_ entry: [String: Any], _ key: String) throws -> [UInt8] { hexBytes(try #require(entry[key] as? String, "\(key)")) }
        func nonces(_ entry: [String: Any]) throws -> SigningNonces {
            let id = try Identifier(UInt16(try #require(entry["identifier"] as? Int)))
            let keyPackage = try #require(keyPackages[id])
            return SigningNonces(identifier: id, signingShare: keyPackage.signingShare,
                                 hidingRandomness: try text(entry, "hiding_nonce_randomness"),
                                 bindingRandomness: try text(entry, "binding_nonce_randomness"))
        }
        var commitments = [SigningCommitments]()
        for entry in roundOne {
            let signerNonces = try nonces(entry)
            #expect(signerNonces.hiding.bytes == (try text(entry, "hiding_nonce")))
            #expect(signerNonces.binding.bytes == (try text(entry, "binding_nonce")))
            #expect(signerNonces.commitments.hiding.encoded == (try text(entry, "hiding_nonce_commitment")))
            #expect(signerNonces.commitments.binding.encoded == (try text(entry, "binding_nonce_commitment")))
            commitments.append(signerNonces.commitments)
        }
        let package = try SigningPackage(commitments: commitments, message: message)
        let factorInputs = package.bindingFactorInputs(verifyingKey: publicKeys.verifyingKey)
        let derived = package.derive(verifyingKey: publicKeys.verifyingKey)
        for (entry, input) in zip(roundOne, factorInputs) {
            let id = try Identifier(UInt16(try #require(entry["identifier"] as? Int)))
            #expect(input == (try text(entry, "binding_factor_input")), "binding factor input \(id)")
            #expect(derived.bindingFactors[id]?.bytes == (try text(entry, "binding_factor")), "binding factor \(id)")
        }

        // Round two: signature shares, each verified, then the aggregate.
        let roundTwo = try #require((json["round_two_outputs"] as? [String: Any])?["outputs"] as? [[String: Any]])
        var signatureShares = [SignatureShare]()
        for (entry, expected) in zip(roundOne, roundTwo) {
            let id = try Identifier(UInt16(try #require(entry["identifier"] as? Int)))
            let keyPackage = try #require(keyPackages[id])
            let share = try FROSTSigner.sign(package: package, nonces: try nonces(entry), keyPackage: keyPackage)
            #expect(share.share.bytes == (try text(expected, "sig_share")), "signature share \(id)")
            let verifyingShare = try #require(publicKeys.verifyingShares[id])
            #expect(try FROSTAggregator.verify(share: share, verifyingShare: verifyingShare, package: package,
                                               verifyingKey: publicKeys.verifyingKey))
            signatureShares.append(share)
        }
        let signature = try FROSTAggregator.aggregate(package: package, shares: signatureShares, publicKeyPackage: publicKeys)
        let finalOutput = try #require(json["final_output"] as? [String: Any])
        let expected = try text(finalOutput, "sig")
        #expect(signature == expected)
        try Self.expectVerifiesEverywhere(signature: signature, message: message, publicKey: publicKeys.verifyingKey.encoded)
    }

    /// Single verification, and batch verification on every backend this CPU has (inside a
    /// batch of ordinary signatures, so the batch equation itself runs, not the per-item path).
    static func expectVerifiesEverywhere(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) throws {
        #expect(Ed25519.verify(signature: signature, message: message, publicKey: publicKey))
        var batch = SignatureBatch()
        for i in 0..<31 {
            let key = Ed25519.SigningKey(seed: [UInt8](repeating: UInt8(i), count: 32))
            let filler = Array("filler \(i)".utf8)
            batch.append(publicKey: key.publicKey, signature: key.sign(message: filler), message: filler)
        }
        batch.append(publicKey: publicKey, signature: signature, message: message)
        for backend in Ed25519.Backend.allCases where backend != .auto && backend.isSupported {
            let outcome = Ed25519.verifyBatchReporting(batch, backend: backend)
            #expect(outcome.results.allSatisfy { $0 }, "backend \(backend)")
            #expect(outcome.backendsRun == [backend], "backend \(backend) ran \(outcome.backendsRun)")
        }
        var tampered = signature
        tampered[40] ^= 1
        #expect(!Ed25519.verify(signature: tampered, message: message, publicKey: publicKey))
    }
}
