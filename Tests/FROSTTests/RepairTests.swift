import Ed25519
@testable import FROST
import Foundation
import Testing
import TestSupport

/// Share repair (RTS): the ZF helper vectors and a property test.
struct RepairTests {
    @Test("ZF repair-share vectors: step 2 sums three deltas, step 3 sums four sigmas")
    func zfVectors() throws {
        let parsed = try JSONSerialization.jsonObject(with: TestPaths.vector("zf_frost_ed25519_repair-share.json"))
        let json = try #require(parsed as? [String: [String: String]])
        func scalar(_ group: String, _ key: String) throws -> Ed25519.Scalar {
            try #require(Ed25519.Scalar(canonical: hexBytes(json[group]?[key] ?? "")), "\(group).\(key)")
        }
        let deltas = try (1...3).map { try scalar("scalar_generation", "random_scalar_\($0)") }
        #expect(ShareRepair.sigma(deltas: deltas) == (try scalar("scalar_generation", "random_scalar_sum")))
        let sigmas = try (1...4).map { try scalar("sigma_generation", "sigma_\($0)") }
        let (shares, _) = try TrustedDealer.generate(maxSigners: 5, minSigners: 3)
        let repaired = ShareRepair.unverifiedRepairedShare(sigmas: sigmas, identifier: try Identifier(2), commitment: shares[0].commitment)
        #expect(repaired.signingShare == (try scalar("sigma_generation", "sigma_sum")))
    }

    @Test("helpers rebuild a lost share exactly; the repaired share signs")
    func repairedShareEqualsLost() throws {
        var rng = SeededGenerator(testSeed: 0x4E9A)
        for _ in 0..<6 {
            let n = Int.random(in: 3...9, using: &rng), t = Int.random(in: 2...(n - 1), using: &rng)
            let (shares, publicKeys) = try TrustedDealer.generate(maxSigners: n, minSigners: t)
            let lost = try #require(shares.randomElement(using: &rng))
            let helperShares = Array(shares.filter { $0.identifier != lost.identifier }.shuffled(using: &rng)
                .prefix(Int.random(in: t...(n - 1), using: &rng)))
            let helpers = helperShares.map(\.identifier)
            // Step 1: each helper splits its contribution; received[j] collects what j gets.
            var received = [Identifier: [Ed25519.Scalar]]()
            for share in helperShares {
                let deltas = try ShareRepair.deltas(helpers: helpers, share: share, lost: lost.identifier)
                #expect(Set(deltas.keys) == Set(helpers))
                for (to, delta) in deltas { received[to, default: []].append(delta) }
            }
            // Step 2 and 3.
            let sigmas = helpers.map { ShareRepair.sigma(deltas: received[$0] ?? []) }
            let repaired = try ShareRepair.repairedShare(sigmas: sigmas, identifier: lost.identifier, commitment: lost.commitment)
            #expect(repaired.signingShare == lost.signingShare, "\(helpers.count) helpers, threshold \(t) of \(n)")
            #expect(publicKeys.verifyingShares[lost.identifier] == Ed25519.Point.base(times: repaired.signingShare))
        }
    }

    @Test("repair refuses too few helpers, the lost participant as helper, and a bad sum")
    func repairChecks() throws {
        let (shares, _) = try TrustedDealer.generate(maxSigners: 5, minSigners: 3)
        let lost = shares[4].identifier
        let twoHelpers = [shares[0].identifier, shares[1].identifier]
        #expect(throws: FROSTError.invalidRepairHelpers) {
            try ShareRepair.deltas(helpers: twoHelpers, share: shares[0], lost: lost)
        }
        #expect(throws: FROSTError.invalidRepairHelpers) {
            try ShareRepair.deltas(helpers: twoHelpers + [lost], share: shares[0], lost: lost)
        }
        #expect(throws: FROSTError.duplicateIdentifier(shares[0].identifier)) {
            try ShareRepair.deltas(helpers: twoHelpers + [shares[0].identifier], share: shares[0], lost: lost)
        }
        #expect(throws: FROSTError.invalidSecretShare(lost)) {
            try ShareRepair.repairedShare(sigmas: [.one, .one], identifier: lost, commitment: shares[0].commitment)
        }
    }
}
