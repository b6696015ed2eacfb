import Ed25519
import Foundation
import Testing
import TestSupport

/// A vector: the triple and the verdict ZIP-215 must give (loaders in TestSupport).
struct Expected: CustomStringConvertible {
    var source: String
    var item: SignatureItem
    var valid: Bool
    var description: String { source }

    init(_ vector: SignatureVectorCase) {
        source = vector.source
        item = SignatureItem(publicKey: vector.publicKey, signature: vector.signature, message: vector.message)
        valid = vector.valid
    }
}

func bytes(_ hex: String) -> [UInt8] { hexBytes(hex) }

enum Vectors {
    static func withSeeds(_ cases: [SignatureVectorCase]) -> [(seed: [UInt8], expected: Expected)] {
        cases.map { ($0.seed!, Expected($0)) }
    }
    static func rfc8032() throws -> [(seed: [UInt8], expected: Expected)] { withSeeds(try Ed25519Vectors.rfc8032()) }
    static func signInput() throws -> [(seed: [UInt8], expected: Expected)] { withSeeds(try Ed25519Vectors.signInput()) }
    static func zip215() throws -> [Expected] { try Ed25519Vectors.zip215().map(Expected.init) }
    static func speccheck() throws -> [Expected] { try Ed25519Vectors.speccheck().map(Expected.init) }
    static func cctv() throws -> [Expected] { try Ed25519Vectors.cctv().map(Expected.init) }
    static func wycheproof() throws -> [Expected] { try Ed25519Vectors.wycheproof().map(Expected.init) }
    static func all() throws -> [Expected] { try Ed25519Vectors.all().map(Expected.init) }
}

struct VectorTests {
    @Test("RFC 8032 section 7.1 and SUPERCOP sign.input: key derivation, deterministic signatures, verification")
    func signing() throws {
        let cases = try Vectors.rfc8032() + Vectors.signInput()
        #expect(cases.count == 5 + 1024)
        for (seed, expected) in cases {
            #expect(Ed25519.publicKey(seed: seed) == expected.item.publicKey, "\(expected)")
            #expect(Ed25519.sign(message: expected.item.message, seed: seed) == expected.item.signature, "\(expected)")
            let key = Ed25519.SigningKey(seed: seed)
            #expect(key.publicKey == expected.item.publicKey && key.sign(message: expected.item.message) == expected.item.signature, "\(expected)")
            #expect(Ed25519.verify(signature: expected.item.signature, message: expected.item.message, publicKey: expected.item.publicKey), "\(expected)")
        }
    }

    @Test("every vector file: single verification gives the ZIP-215 verdict",
          arguments: ["zip215", "speccheck", "cctv", "wycheproof"])
    func singleVerdicts(file: String) throws {
        let cases: [Expected]
        switch file {
        case "zip215": cases = try Vectors.zip215(); #expect(cases.count == 196)
        case "speccheck": cases = try Vectors.speccheck(); #expect(cases.count == 12)
        case "cctv": cases = try Vectors.cctv(); #expect(cases.count == 914)
        default: cases = try Vectors.wycheproof(); #expect(cases.count == 151)
        }
        for expected in cases {
            let verdict = Ed25519.verify(signature: expected.item.signature, message: expected.item.message, publicKey: expected.item.publicKey)
            #expect(verdict == expected.valid, "\(expected)")
        }
    }

    @Test("CCTV: exactly the 88 reencoded_k vectors without low_order_A are rejected")
    func cctvRejectionCount() throws {
        #expect(try Vectors.cctv().filter { !$0.valid }.count == 88)
    }
}
