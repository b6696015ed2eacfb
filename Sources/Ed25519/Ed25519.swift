import CEd25519
import Dispatch

/// Ed25519 signatures: RFC 8032 signing, ZIP-215 verification in every path (single and
/// batch, every backend), so no two paths can ever disagree on a signature.
public enum Ed25519 {
    public static let seedLength = 32
    public static let publicKeyLength = 32
    public static let signatureLength = 64

    /// The public key of a 32-byte seed.
    public static func publicKey(seed: [UInt8]) -> [UInt8] {
        precondition(seed.count == seedLength, "Ed25519 seed must be 32 bytes")
        var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
        rc_ed25519_public_key(&publicKey, seed)
        return publicKey
    }

    /// Deterministic RFC 8032 signature.
    public static func sign(message: [UInt8], seed: [UInt8]) -> [UInt8] {
        sign(message: message, seed: seed, publicKey: publicKey(seed: seed))
    }

    /// Signing when the caller already has the seed's public key (saves a scalar multiplication).
    public static func sign(message: [UInt8], seed: [UInt8], publicKey: [UInt8]) -> [UInt8] {
        precondition(seed.count == seedLength && publicKey.count == publicKeyLength)
        var signature = [UInt8](repeating: 0, count: signatureLength)
        message.withUnsafeBufferPointer { msg in
            rc_ed25519_sign(&signature, msg.baseAddress, msg.count, seed, publicKey)
        }
        return signature
    }

    /// ZIP-215 verification of one signature. Wrong-length keys or signatures are invalid.
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureLength, publicKey.count == publicKeyLength else { return false }
        return message.withUnsafeBufferPointer { msg in
            rc_ed25519_verify(signature, msg.baseAddress, msg.count, publicKey) == 1
        }
    }

    /// Verifies many signatures; the result for each item equals `verify` on that item.
    /// The batch is cut into equal slices of about `maximumItemsPerEquation`, spread over
    /// `threads` threads; each slice is one batch equation (with its own random
    /// coefficients from the OS), bisected when it fails.
    public static func verifyBatch(_ items: [SignatureItem], backend: Backend = .auto, threads: Int = 1) -> [Bool] {
        guard !items.isEmpty else { return [] }
        let previous = rc_ed25519_backend_get()
        rc_ed25519_backend_set(backend.resolved.cValue)
        defer { rc_ed25519_backend_set(previous) }

        let results = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: items.count)
        defer { results.deallocate() }
        results.initialize(repeating: 0)
        let resultsAddress = UnsafeSendablePointer(results.baseAddress!)
        let workers = max(1, min(threads, items.count / minimumItemsPerThread))
        // Rounded, not rounded up: a batch a little over the size stays one equation rather
        // than two half-size ones (the pipeline's batches end on block boundaries).
        let slices = max(workers, (items.count + maximumItemsPerEquation / 2) / maximumItemsPerEquation)
        let slice = (items.count + slices - 1) / slices
        let run: @Sendable (Int) -> Void = { worker in
            for index in stride(from: worker, to: slices, by: workers) {
                let start = index * slice, end = min(items.count, start + slice)
                guard start < end else { return }
                verifyRange(items, start..<end, into: resultsAddress.pointer + start)
            }
        }
        if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
        return results.map { $0 == 1 }
    }

    static let minimumItemsPerThread = 64
    /// Past this size a batch equation's working set (points, digits, buckets) leaves the
    /// caches and the rate per signature falls (one 208k-item equation on one core ran at
    /// 91-126 k/s against 135-162 k/s for 32k items).
    public static let maximumItemsPerEquation = 16_384

    private static func verifyRange(_ items: [SignatureItem], _ range: Range<Int>, into results: UnsafeMutablePointer<UInt8>) {
        let count = range.count
        var publicKeys = [UInt8](repeating: 0, count: count * publicKeyLength)
        var signatures = [UInt8](repeating: 0, count: count * signatureLength)
        var lengths = [Int](repeating: 0, count: count)
        // Items with malformed lengths are invalid and never reach the C batch.
        var wellFormed = [Int]()
        wellFormed.reserveCapacity(count)
        for (offset, index) in range.enumerated() {
            let item = items[index]
            guard item.publicKey.count == publicKeyLength, item.signature.count == signatureLength else { continue }
            let slot = wellFormed.count
            publicKeys.replaceSubrange(slot * 32..<(slot + 1) * 32, with: item.publicKey)
            signatures.replaceSubrange(slot * 64..<(slot + 1) * 64, with: item.signature)
            lengths[slot] = item.message.count
            wellFormed.append(offset)
        }
        guard !wellFormed.isEmpty else { return }
        var slotResults = [UInt8](repeating: 0, count: wellFormed.count)
        // Keep every message buffer alive while the C code reads it.
        let messages = wellFormed.map { items[range.lowerBound + $0].message }
        withMessagePointers(messages) { pointers in
            _ = rc_ed25519_verify_batch(pointers, lengths, publicKeys, signatures, wellFormed.count, nil, &slotResults)
        }
        for (slot, offset) in wellFormed.enumerated() { results[offset] = slotResults[slot] }
    }

    private static func withMessagePointers<R>(_ messages: [[UInt8]], _ body: ([UnsafePointer<UInt8>?]) -> R) -> R {
        // One contiguous copy: a stable pointer per message without nesting closures.
        let total = messages.reduce(0) { $0 + $1.count }
        let storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(total, 1))
        defer { storage.deallocate() }
        var pointers = [UnsafePointer<UInt8>?]()
        pointers.reserveCapacity(messages.count)
        var offset = 0
        for message in messages {
            _ = UnsafeMutableBufferPointer(rebasing: storage[offset..<offset + message.count]).initialize(from: message)
            pointers.append(UnsafePointer(storage.baseAddress! + offset))
            offset += message.count
        }
        return body(pointers)
    }

    /// Field-arithmetic backend of the batch path.
    public enum Backend: String, CaseIterable, Sendable {
        case auto, scalar, avx2, avx512ifma

        /// `auto` becomes the best backend this CPU has.
        public var resolved: Backend {
            self == .auto ? Backend(c: rc_ed25519_detected_backend()) : self
        }

        public var isSupported: Bool {
            self == .auto || self == .scalar || cValue.rawValue <= rc_ed25519_detected_backend().rawValue
        }

        public static var detected: Backend { Backend(c: rc_ed25519_detected_backend()) }

        init(c: rc_ed25519_backend) {
            switch c {
            case RC_ED25519_BACKEND_AVX2: self = .avx2
            case RC_ED25519_BACKEND_AVX512IFMA: self = .avx512ifma
            default: self = .scalar
            }
        }

        var cValue: rc_ed25519_backend {
            switch self {
            case .auto: return rc_ed25519_detected_backend()
            case .scalar: return RC_ED25519_BACKEND_SCALAR
            case .avx2: return RC_ED25519_BACKEND_AVX2
            case .avx512ifma: return RC_ED25519_BACKEND_AVX512IFMA
            }
        }
    }
}

/// One (public key, signature, message) triple.
public struct SignatureItem: Sendable, Hashable {
    public var publicKey: [UInt8]
    public var signature: [UInt8]
    public var message: [UInt8]

    public init(publicKey: [UInt8], signature: [UInt8], message: [UInt8]) {
        self.publicKey = publicKey
        self.signature = signature
        self.message = message
    }
}

struct UnsafeSendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<UInt8>
    init(_ pointer: UnsafeMutablePointer<UInt8>) { self.pointer = pointer }
}

extension Ed25519 {
    /// SHA-512 (the library's own implementation, diffed against OpenSSL and NIST CAVP).
    public static func sha512(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        bytes.withUnsafeBufferPointer { rc_sha512($0.baseAddress, $0.count, &out) }
        return out
    }
}
