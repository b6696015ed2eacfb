import CSodium
import COpenSSL
import Ed25519
import Foundation
import Testing
import TestSupport

struct BatchTests {
    static func single(_ item: SignatureItem) -> Bool {
        Ed25519.verify(signature: item.signature, message: item.message, publicKey: item.publicKey)
    }

    static var backends: [Ed25519.Backend] { Ed25519.Backend.allCases.filter { $0 != .auto && $0.isSupported } }

    @Test("every vector file as one batch: each item's result equals the single result", arguments: backends)
    func vectorFilesAsBatches(backend: Ed25519.Backend) throws {
        let all = try Vectors.all()
        let results = Ed25519.verifyBatch(all.map(\.item), backend: backend)
        for (expected, result) in zip(all, results) {
            #expect(result == expected.valid, "\(expected) with \(backend)")
        }
    }

    @Test("random sub-batches of the vectors, any size and order, agree with single verification", arguments: backends)
    func randomSubBatches(backend: Ed25519.Backend) throws {
        let all = try Vectors.all()
        var rng = SeededGenerator(testSeed: 0xBA7C4)
        for round in 0..<60 {
            let size = [1, 2, 3, 7, 8, 31, 64, 65, 200, 700][round % 10]
            let picked = (0..<size).map { _ in all.randomElement(using: &rng)! }
            let results = Ed25519.verifyBatch(picked.map(\.item), backend: backend, threads: 1 + round % 3)
            #expect(results == picked.map(\.valid), "round \(round) size \(size) \(backend)")
        }
    }

    /// Valid signatures with a few corrupted ones mixed in at random places.
    static func randomMix(count: Int, invalidEvery: Int, rng: inout SeededGenerator) -> [SignatureItem] {
        (0..<count).map { index in
            let seed = rng.bytes(32)
            let message = rng.bytes(Int.random(in: 0...200, using: &rng))
            var item = SignatureItem(publicKey: Ed25519.publicKey(seed: seed), signature: Ed25519.sign(message: message, seed: seed), message: message)
            if invalidEvery > 0 && Int.random(in: 0..<invalidEvery, using: &rng) == 0 {
                switch index % 4 {
                case 0: item.signature[Int.random(in: 0..<64, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
                case 1: item.message.append(1)
                case 2: item.publicKey[Int.random(in: 0..<32, using: &rng)] ^= 0x10
                default: item.signature.replaceSubrange(32..<64, with: [UInt8](repeating: 0xFF, count: 32)) // S >= l
                }
            }
            return item
        }
    }

    @Test("random valid/invalid mixes of 1 to 2000: batch equals single for every item", arguments: backends)
    func randomMixes(backend: Ed25519.Backend) {
        var rng = SeededGenerator(testSeed: 0x1111)
        for (count, invalidEvery) in [(1, 2), (2, 2), (16, 0), (16, 4), (100, 30), (257, 50), (2000, 400), (2000, 0)] {
            let items = Self.randomMix(count: count, invalidEvery: invalidEvery, rng: &rng)
            let expected = items.map(Self.single)
            var batch = SignatureBatch()
            for item in items { batch.append(publicKey: item.publicKey, signature: item.signature, message: item.message) }
            // The C code reports the backend it ran: the arguments of this parallel,
            // parameterised test each really exercise their own backend.
            let one = Ed25519.verifyBatchReporting(batch, backend: backend)
            #expect(one.results == expected && one.backendsRun == [backend], "count \(count) \(backend)")
            let two = Ed25519.verifyBatchReporting(batch, backend: backend, threads: 2)
            #expect(two.results == expected && two.backendsRun == [backend], "count \(count) 2 threads \(backend)")
            #expect(Ed25519.verifyBatch(items, backend: backend) == expected, "count \(count) \(backend)")
            if invalidEvery == 0 { #expect(expected.allSatisfy { $0 }) }
        }
    }

    @Test("malformed lengths are invalid, not a crash; empty batch is empty")
    func malformedLengths() {
        #expect(Ed25519.verifyBatch([]).isEmpty)
        let seed = [UInt8](repeating: 7, count: 32)
        let good = SignatureItem(publicKey: Ed25519.publicKey(seed: seed), signature: Ed25519.sign(message: [1], seed: seed), message: [1])
        var shortKey = good; shortKey.publicKey.removeLast()
        var longSig = good; longSig.signature.append(0)
        #expect(Ed25519.verifyBatch([good, shortKey, longSig, good]) == [true, false, false, true])
        #expect(!Ed25519.verify(signature: longSig.signature, message: [1], publicKey: good.publicKey))
    }

    @Test("flat batches: appended and merged items read back; results equal single verification", arguments: backends)
    func flatBatches(backend: Ed25519.Backend) {
        var rng = SeededGenerator(testSeed: 0x2222)
        // Variable message lengths, empty ones included, across two merged batches.
        var items = Self.randomMix(count: 300, invalidEvery: 37, rng: &rng)
        let seed = [UInt8](repeating: 3, count: 32)
        for length in [0, 0, 1, 200] {
            let message = [UInt8](repeating: UInt8(length & 0xFF), count: length)
            items.append(SignatureItem(publicKey: Ed25519.publicKey(seed: seed), signature: Ed25519.sign(message: message, seed: seed), message: message))
        }
        var first = SignatureBatch(), second = SignatureBatch()
        for (index, item) in items.enumerated() {
            var target = index < 150 ? first : second
            let appended = target.append(publicKey: item.publicKey, signature: item.signature, message: item.message)
            #expect(appended)
            if index < 150 { first = target } else { second = target }
        }
        let shortKey = first.append(publicKey: [1, 2], signature: items[0].signature, message: [1])
        let noSignature = first.append(publicKey: items[0].publicKey, signature: [], message: [1])
        #expect(!shortKey && !noSignature && first.count == 150)
        var merged = first
        merged.append(contentsOf: second)
        #expect(merged.count == items.count && merged.items == items)
        let expected = items.map(Self.single)
        #expect(Ed25519.verifyBatch(merged, backend: backend) == expected)
        #expect(Ed25519.verifyBatch(merged, backend: backend, threads: 2) == expected)
        #expect(Ed25519.verifyBatch(SignatureBatch(), backend: backend).isEmpty)
        // Only empty messages: no message bytes at all.
        var empties = SignatureBatch()
        for _ in 0..<3 { empties.append(publicKey: items[items.count - 4].publicKey, signature: items[items.count - 4].signature, message: []) }
        #expect(Ed25519.verifyBatch(empties, backend: backend) == [true, true, true])
    }

    @Test("differential against libsodium: our signatures verify there, theirs verify here")
    func libsodium() {
        #expect(sodium_init() >= 0)
        var rng = SeededGenerator(testSeed: 0x50D1)
        for _ in 0..<300 {
            let seed = rng.bytes(32)
            let message = rng.bytes(Int.random(in: 0...300, using: &rng))
            var sodiumPublic = [UInt8](repeating: 0, count: 32)
            var sodiumSecret = [UInt8](repeating: 0, count: 64)
            #expect(crypto_sign_seed_keypair(&sodiumPublic, &sodiumSecret, seed) == 0)
            #expect(Ed25519.publicKey(seed: seed) == sodiumPublic)

            let ours = Ed25519.sign(message: message, seed: seed)
            #expect(crypto_sign_verify_detached(ours, message, UInt64(message.count), sodiumPublic) == 0)

            var theirs = [UInt8](repeating: 0, count: 64)
            #expect(crypto_sign_detached(&theirs, nil, message, UInt64(message.count), sodiumSecret) == 0)
            #expect(theirs == ours) // both deterministic RFC 8032
            #expect(Ed25519.verify(signature: theirs, message: message, publicKey: sodiumPublic))
        }
    }

    @Test("SHA-512 against NIST CAVP (short and long messages) and OpenSSL")
    func sha512() throws {
        var checked = 0
        for file in ["nist_cavp_SHA512ShortMsg.rsp", "nist_cavp_SHA512LongMsg.rsp"] {
            let text = String(decoding: try TestPaths.vector(file), as: UTF8.self)
            var length = 0, message = [UInt8]()
            for line in text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }) {
                if line.hasPrefix("Len = ") { length = Int(line.dropFirst(6))! }
                if line.hasPrefix("Msg = ") { message = length == 0 ? [] : bytes(String(line.dropFirst(6))) }
                if line.hasPrefix("MD = ") {
                    #expect(Ed25519.sha512(message) == bytes(String(line.dropFirst(5))), "\(file) Len \(length)")
                    checked += 1
                }
            }
        }
        #expect(checked == 129 + 128)
        var rng = SeededGenerator(testSeed: 512)
        for length in Array(0...300) + [1000, 4096, 100_000] {
            let message = rng.bytes(length)
            var reference = [UInt8](repeating: 0, count: 64)
            #expect(EVP_Digest(message, message.count, &reference, nil, EVP_sha512(), nil) == 1)
            #expect(Ed25519.sha512(message) == reference, "length \(length)")
        }
    }
}
