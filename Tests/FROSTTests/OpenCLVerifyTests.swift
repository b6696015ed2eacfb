import Ed25519
import FROST
import Foundation
import OpenCLRuntime
import SignatureBackends
import Testing
import TestSupport

/// FROST aggregates through the node's OpenCL Ed25519 verifier (PoCL on CPU-only machines):
/// the vector files' final signatures (which VectorTests shows we reproduce) and a fresh
/// 3-of-5 signature, inside a batch of ordinary signatures.
struct OpenCLVerifyTests {
    static let hasDevice = !OpenCL.computeDevices().isEmpty

    static func vectorItem(_ name: String) throws -> SignatureItem {
        let parsed = try JSONSerialization.jsonObject(with: TestPaths.vector(name))
        let json = try #require(parsed as? [String: Any])
        let inputs = try #require(json["inputs"] as? [String: Any])
        let key = try #require((inputs["group_public_key"] ?? inputs["verifying_key_key"]) as? String)
        let message = try #require(inputs["message"] as? String)
        let signature = try #require((json["final_output"] as? [String: Any])?["sig"] as? String)
        return SignatureItem(publicKey: hexBytes(key), signature: hexBytes(signature), message: hexBytes(message))
    }

    @Test("FROST signatures verify on the OpenCL backend", .enabled(if: hasDevice, "no OpenCL device"))
    func openCL() throws {
        var items = try VectorTests.files.map(Self.vectorItem)
        let (shares, publicKeys) = try TrustedDealer.generate(maxSigners: 5, minSigners: 3)
        let keys = try shares.prefix(3).map { try KeyPackage(secretShare: $0) }
        let message = Array("opencl".utf8)
        let (package, signatureShares) = try LocalSession.shares(keys: keys, message: message)
        let signature = try FROSTAggregator.aggregate(package: package, shares: signatureShares, publicKeyPackage: publicKeys)
        items.append(SignatureItem(publicKey: publicKeys.verifyingKey.encoded, signature: signature, message: message))
        var tampered = items[0]
        tampered.signature[33] ^= 1
        for i in 0..<12 {
            let key = Ed25519.SigningKey(seed: [UInt8](repeating: UInt8(i + 1), count: 32))
            items.append(SignatureItem(publicKey: key.publicKey, signature: key.sign(message: [UInt8(i)]), message: [UInt8(i)]))
        }
        items.append(tampered)
        let verifier = try OpenCLSignatureVerifier(devices: OpenCL.computeDevices())
        let results = try verifier.verify(items)
        #expect(results == Array(repeating: true, count: items.count - 1) + [false])
    }
}
