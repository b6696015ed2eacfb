import CEd25519
import Dispatch
import Ed25519
import Foundation
import Testing
import TestSupport

/// Signing-key handling: keys derived inside, secrets wiped, and the batch backend chosen
/// per call.
struct SecretTests {
    @Test("SigningKey signs like sign(message:seed:), from any thread, and its key is the seed's")
    func signingKeyAgrees() {
        var rng = SeededGenerator(testSeed: 0x5EC2E7)
        for _ in 0..<50 {
            var seed = rng.bytes(32)
            let message = rng.bytes(Int.random(in: 0...300, using: &rng))
            let key = seed.withUnsafeBytes { Ed25519.SigningKey(seed: $0) }
            #expect(key.publicKey == Ed25519.publicKey(seed: seed))
            let expected = Ed25519.sign(message: message, seed: seed)
            Ed25519.wipe(&seed)
            #expect(seed == [UInt8](repeating: 0, count: 32))
            // The key outlives the caller's wiped seed and is shared across threads.
            DispatchQueue.concurrentPerform(iterations: 4) { _ in
                #expect(key.sign(message: message) == expected)
            }
            #expect(Ed25519.verify(signature: expected, message: message, publicKey: key.publicKey))
        }
    }

    @Test("the C signing key holds the clamped scalar, the nonce key and the public key; wiping zeroes all of it")
    func cSigningKeyWipe() {
        let seed = [UInt8](repeating: 0x42, count: 32)
        var key = rc_ed25519_signing_key()
        rc_ed25519_signing_key_init(&key, seed)
        let expanded = Ed25519.sha512(seed)
        let scalar = withUnsafeBytes(of: key.scalar) { Array($0) }, prefix = withUnsafeBytes(of: key.prefix) { Array($0) }
        #expect(scalar[0] == expanded[0] & 248 && scalar[31] == (expanded[31] & 127) | 64 && scalar[1..<31] == expanded[1..<31])
        #expect(prefix == Array(expanded[32..<64]))
        #expect(withUnsafeBytes(of: key.public_key) { Array($0) } == Ed25519.publicKey(seed: seed))
        rc_ed25519_signing_key_wipe(&key)
        #expect(withUnsafeBytes(of: &key) { $0.allSatisfy { $0 == 0 } })
    }

    /// A public key that is not the seed's was a signing oracle (S1 - S2 = (k1 - k2) a);
    /// the one entry point that still takes one refuses it.
    @Test("the deprecated sign(message:seed:publicKey:) signs with the seed's key and traps on any other key")
    @available(*, deprecated)
    func suppliedPublicKeyRefused() async {
        let seed = [UInt8](repeating: 9, count: 32)
        let publicKey = Ed25519.publicKey(seed: seed)
        #expect(Ed25519.sign(message: [1, 2, 3], seed: seed, publicKey: publicKey) == Ed25519.sign(message: [1, 2, 3], seed: seed))
        await #expect(processExitsWith: .failure) {
            var other = Ed25519.publicKey(seed: [UInt8](repeating: 9, count: 32))
            other[0] ^= 1
            _ = Ed25519.sign(message: [1, 2, 3], seed: [UInt8](repeating: 9, count: 32), publicKey: other)
        }
    }

    @Test("batches on different backends at once each run their own backend (reported by the C code) and agree")
    func concurrentBackends() {
        let backends = Ed25519.Backend.allCases.filter { $0 != .auto && $0.isSupported }
        var rng = SeededGenerator(testSeed: 0xBAC7E2D)
        var batch = SignatureBatch()
        for index in 0..<200 {
            let seed = rng.bytes(32), message = rng.bytes(40)
            var signature = Ed25519.sign(message: message, seed: seed)
            if index % 17 == 3 { signature[40] ^= 4 }
            batch.append(publicKey: Ed25519.publicKey(seed: seed), signature: signature, message: message)
        }
        let expected = batch.items.map { Ed25519.verify(signature: $0.signature, message: $0.message, publicKey: $0.publicKey) }
        let outcomes = UnsafeMutableBufferPointer<Ed25519.BatchOutcome?>.allocate(capacity: backends.count * 12)
        outcomes.initialize(repeating: nil)
        defer { outcomes.deallocate() }
        nonisolated(unsafe) let slots = outcomes
        let frozen = batch
        // With a process-wide backend, a call would sometimes run another thread's choice.
        DispatchQueue.concurrentPerform(iterations: slots.count) { index in
            slots[index] = Ed25519.verifyBatchReporting(frozen, backend: backends[index % backends.count])
        }
        for index in 0..<slots.count {
            #expect(slots[index]?.backendsRun == [backends[index % backends.count]], "call \(index)")
            #expect(slots[index]?.results == expected, "call \(index)")
        }
        // Asking for a backend the CPU lacks reports the one that ran instead.
        let best = Ed25519.verifyBatchReporting(frozen, backend: .avx512ifma)
        #expect(best.backendsRun == [Ed25519.Backend.detected] && best.results == expected)
        #expect(Ed25519.verifyBatchReporting(SignatureBatch(), backend: .scalar).backendsRun.isEmpty)
    }
}
