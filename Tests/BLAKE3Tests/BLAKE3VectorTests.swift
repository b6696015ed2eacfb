import BLAKE3
import Foundation
import Primitives
import Testing
import TestSupport

/// The official BLAKE3 test vectors (Tests/Vectors/blake3_test_vectors.json): 35 input
/// lengths x 3 modes, 131 bytes of extended output each, on every level this CPU runs.
struct BLAKE3VectorTests {
    struct Case: Decodable {
        let input_len: Int
        let hash: String
        let keyed_hash: String
        let derive_key: String
    }

    struct File: Decodable {
        let key: String
        let context_string: String
        let cases: [Case]
    }

    static func load() throws -> File {
        try JSONDecoder().decode(File.self, from: TestPaths.vector("blake3_test_vectors.json"))
    }

    static func input(_ length: Int) -> [UInt8] { (0..<length).map { UInt8($0 % 251) } }

    @Test("official vectors in all three modes", arguments: BLAKE3Level.supported)
    func officialVectors(level: BLAKE3Level) throws {
        let file = try Self.load()
        #expect(file.cases.count == 35)
        let key = Array(file.key.utf8)
        for testCase in file.cases {
            let input = Self.input(testCase.input_len)
            let outputLength = testCase.hash.count / 2
            #expect(outputLength == 131)

            var plain = BLAKE3Hasher(level: level)
            plain.update(input)
            #expect(HexCoding.encode(plain.finalize(count: outputLength)) == testCase.hash, "hash len \(testCase.input_len) at \(level)")
            #expect(HexCoding.encode(BLAKE3.hash(input, level: level)) == String(testCase.hash.prefix(64)))

            var keyed = BLAKE3Hasher(key: key, level: level)
            keyed.update(input)
            #expect(HexCoding.encode(keyed.finalize(count: outputLength)) == testCase.keyed_hash, "keyed len \(testCase.input_len) at \(level)")

            let derived = BLAKE3.deriveKey(context: file.context_string, material: input, count: outputLength, level: level)
            #expect(HexCoding.encode(derived) == testCase.derive_key, "derive_key len \(testCase.input_len) at \(level)")
        }
    }

    @Test("extended output read with seek equals the same bytes read from the start", arguments: BLAKE3Level.supported)
    func seekMatchesPrefix(level: BLAKE3Level) throws {
        let file = try Self.load()
        for testCase in file.cases {
            var hasher = BLAKE3Hasher(level: level)
            hasher.update(Self.input(testCase.input_len))
            let full = hasher.finalize(count: 131)
            for seek in [1, 31, 32, 63, 64, 65, 100] {
                #expect(hasher.finalize(count: 131 - seek, seek: UInt64(seek)) == Array(full[seek...]))
            }
        }
    }

    @Test("Decred's BLAKE3 PoW header hashes (an independent implementation's vectors)")
    func decredPowHashes() throws {
        struct Test: Decodable { let serialized: String; let powHash: String }
        struct File: Decodable { let tests: [Test] }
        let file = try JSONDecoder().decode(File.self, from: TestPaths.vector("decred_dcp0011_blake3_powhash_test_vectors.json"))
        #expect(!file.tests.isEmpty)
        for level in BLAKE3Level.supported {
            for test in file.tests {
                let bytes = try #require(HexCoding.decode(test.serialized))
                // Decred displays hashes byte-reversed.
                #expect(HexCoding.encode(BLAKE3.hash(bytes, level: level).reversed()) == test.powHash)
            }
        }
    }
}
