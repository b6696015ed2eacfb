@testable import DKG
import Ed25519
@testable import FROST
import Testing
import TestSupport

/// The DKG's output is a working FROST key: any `threshold` members (qualified or not) sign
/// a message with FROST and the aggregate verifies as a plain Ed25519 signature.
@Suite struct DKGSigningTests {
    static func sign(_ message: [UInt8], by results: [DKGResult]) throws -> [UInt8] {
        // Nonces are non-copyable (no arrays of them): each signer's are made twice from one
        // randomness, once to commit and once to sign (FROST's internal deterministic entry point).
        let keys = try results.map { try $0.keyPackage() }
        let randomness = keys.map { _ in (Ed25519.Scalar.random().bytes, Ed25519.Scalar.random().bytes) }
        func nonces(_ index: Int) -> SigningNonces {
            SigningNonces(identifier: keys[index].identifier, signingShare: keys[index].signingShare,
                          hidingRandomness: randomness[index].0, bindingRandomness: randomness[index].1)
        }
        let package = try SigningPackage(commitments: keys.indices.map { nonces($0).commitments }, message: message)
        let shares = try keys.indices.map { try FROSTSigner.sign(package: package, nonces: nonces($0), keyPackage: keys[$0]) }
        return try FROSTAggregator.aggregate(package: package, shares: shares, publicKeyPackage: try results[0].publicKeyPackage())
    }

    @Test func anyThresholdSubsetSignsUnderTheGroupKey() throws {
        var generator = SeededGenerator(testSeed: 0xD6C0_0201)
        for n in [5, 7, 10] {
            let threshold = Int.random(in: 2...n - 1, using: &generator)
            var behaviors: [Behavior] = Array(repeating: .honest, count: n)
            behaviors[n - 1] = .badProof   // out of Q, yet it holds a valid share
            var simulation = try DKGSimulation(threshold: threshold, behaviors: behaviors, using: &generator)
            simulation.extraReceivers = [n - 1]
            let results = try simulation.run(using: &generator).compactMap(\.result)
            #expect(results.count == n && !results[0].qualified.contains(UInt16(n)))
            for _ in 0..<3 {
                let signers = Array(results.shuffled(using: &generator).prefix(threshold)).sorted { $0.identifier < $1.identifier }
                let message = generator.bytes(Int.random(in: 0...64, using: &generator))
                let signature = try Self.sign(message, by: signers)
                #expect(Ed25519.verify(signature: signature, message: message, publicKey: results[0].groupKey.encoded))
            }
            // threshold - 1 signers are refused.
            #expect(throws: FROSTError.self) { try Self.sign([1], by: Array(results.prefix(threshold - 1))) }
        }
    }
}
