import CEd25519
import Dispatch

/// Ed25519 signatures: RFC 8032 signing, ZIP-215 verification in every path (single and
/// batch, every backend), so no two paths can ever disagree on a signature.
public enum Ed25519 {
    public static let seedLength = 32
    public static let publicKeyLength = 32
    public static let signatureLength = 64

    /// The public key of a 32-byte seed. The seed is read in place (never copied); the C
    /// code wipes its own temporaries.
    public static func publicKey(seed: [UInt8]) -> [UInt8] {
        precondition(seed.count == seedLength, "Ed25519 seed must be 32 bytes")
        var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
        seed.withUnsafeBufferPointer { rc_ed25519_public_key(&publicKey, $0.baseAddress) }
        return publicKey
    }

    /// Deterministic RFC 8032 signature. The public key in the challenge is derived from
    /// the seed inside the C code, never supplied by a caller (see `SigningKey`). To sign
    /// many messages with one seed, make a `SigningKey` once instead.
    public static func sign(message: [UInt8], seed: [UInt8]) -> [UInt8] {
        precondition(seed.count == seedLength, "Ed25519 seed must be 32 bytes")
        var signature = [UInt8](repeating: 0, count: signatureLength)
        seed.withUnsafeBufferPointer { seedBuffer in
            message.withUnsafeBufferPointer { msg in
                rc_ed25519_sign(&signature, msg.baseAddress, msg.count, seedBuffer.baseAddress)
            }
        }
        return signature
    }

    /// Kept for source compatibility. The caller's `publicKey` no longer reaches the
    /// signature: taking it from the caller was a signing oracle (two signatures of one
    /// message under one seed with different keys reveal the secret scalar). It must be
    /// the seed's key; anything else is a caller bug and traps.
    @available(*, deprecated, message: "use Ed25519.SigningKey(seed:).sign(message:) (or sign(message:seed:)); a caller-supplied public key is never used")
    public static func sign(message: [UInt8], seed: [UInt8], publicKey: [UInt8]) -> [UInt8] {
        let key = SigningKey(seed: seed)
        precondition(publicKey == key.publicKey, "Ed25519.sign: publicKey is not the seed's public key")
        return key.sign(message: message)
    }

    /// Zeroes `bytes` in place with stores the optimizer cannot drop, keeping its count.
    /// Only the array's own buffer is wiped: copies made earlier (arrays are copy-on-write,
    /// so a copy shares the buffer until one side is mutated, and then this wipes a fresh
    /// copy) are not, so keep a secret in one uniquely held array and wipe that.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { buffer in
            if let base = buffer.baseAddress { rc_ed25519_wipe(base, buffer.count) }
        }
    }

    /// Zeroes `buffer` with stores the optimizer cannot drop.
    public static func wipe(_ buffer: UnsafeMutableRawBufferPointer) {
        if let base = buffer.baseAddress { rc_ed25519_wipe(base, buffer.count) }
    }

    /// ZIP-215 verification of one signature. Wrong-length keys or signatures are invalid.
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureLength, publicKey.count == publicKeyLength else { return false }
        return message.withUnsafeBufferPointer { msg in
            rc_ed25519_verify(signature, msg.baseAddress, msg.count, publicKey) == 1
        }
    }

    /// Verifies many signatures; the result for each item equals `verify` on that item
    /// (items whose key or signature has the wrong length are invalid).
    public static func verifyBatch(_ items: [SignatureItem], backend: Backend = .auto, threads: Int = 1) -> [Bool] {
        let (batch, wellFormed) = SignatureBatch.flattening(items)
        return SignatureBatch.scatter(verifyBatch(batch, backend: backend, threads: threads), to: wellFormed, count: items.count)
    }

    /// Verifies a flat batch; the result for each item equals `verify` on that item.
    /// The batch is cut into equal slices of about `maximumItemsPerEquation`, spread over
    /// `threads` threads; each slice is one batch equation (with its own random
    /// coefficients from the OS), bisected when it fails.
    public static func verifyBatch(_ batch: SignatureBatch, backend: Backend = .auto, threads: Int = 1) -> [Bool] {
        verifyBatchReporting(batch, backend: backend, threads: threads).results
    }

    /// What a batch verification returned and which field backends' code actually ran.
    public struct BatchOutcome: Sendable {
        public var results: [Bool]
        /// One entry per backend that ran, as reported by the C code of each batch equation
        /// (empty for an empty batch). A backend the CPU lacks reports the one it fell to.
        public var backendsRun: Set<Backend>
    }

    /// `verifyBatch`, also reporting the backends that ran. The backend is passed to each
    /// C call (there is no process-wide choice), so concurrent calls with different
    /// backends each get their own.
    public static func verifyBatchReporting(_ batch: SignatureBatch, backend: Backend = .auto, threads: Int = 1) -> BatchOutcome {
        let count = batch.count
        guard count > 0 else { return BatchOutcome(results: [], backendsRun: []) }
        let cBackend = backend.resolved.cValue

        let results = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: count)
        defer { results.deallocate() }
        results.initialize(repeating: 0)
        let resultsAddress = UnsafeSendablePointer(results.baseAddress!)
        let workers = max(1, min(threads, count / minimumItemsPerThread))
        // Rounded, not rounded up: a batch a little over the size stays one equation rather
        // than two half-size ones (the pipeline's batches end on block boundaries).
        let slices = max(workers, (count + maximumItemsPerEquation / 2) / maximumItemsPerEquation)
        let slice = (count + slices - 1) / slices
        // One report per slice, each written by one worker only.
        let ran = UnsafeMutableBufferPointer<rc_ed25519_backend>.allocate(capacity: slices)
        defer { ran.deallocate() }
        ran.initialize(repeating: RC_ED25519_BACKEND_SCALAR)
        let ranAddress = UnsafeSendableBackendPointer(ran.baseAddress!)
        let run: @Sendable (Int) -> Void = { worker in
            for index in stride(from: worker, to: slices, by: workers) {
                let start = index * slice, end = min(count, start + slice)
                guard start < end else { return }
                ranAddress.pointer[index] = verifyRange(batch, start..<end, backend: cBackend, into: resultsAddress.pointer + start)
            }
        }
        if workers == 1 { run(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: run) }
        let usedSlices = (0..<slices).filter { $0 * slice < count }
        return BatchOutcome(results: results.map { $0 == 1 }, backendsRun: Set(usedSlices.map { Backend(c: ran[$0]) }))
    }

    static let minimumItemsPerThread = 64
    /// Past this size a batch equation's working set (points, digits, buckets) leaves the
    /// caches and the rate per signature falls (one 208k-item equation on one core ran at
    /// 91-126 k/s against 135-162 k/s for 32k items).
    public static let maximumItemsPerEquation = 16_384

    /// One batch equation over items `range`, straight from the batch's flat arrays.
    private static func verifyRange(_ batch: SignatureBatch, _ range: Range<Int>, backend: rc_ed25519_backend,
                                    into results: UnsafeMutablePointer<UInt8>) -> rc_ed25519_backend {
        var ran = RC_ED25519_BACKEND_SCALAR
        var lengths = [Int]()
        lengths.reserveCapacity(range.count)
        // A valid pointer even when every message is empty.
        let storage = batch.messages.isEmpty ? [0] : batch.messages
        storage.withUnsafeBufferPointer { messages in
            var pointers = [UnsafePointer<UInt8>?]()
            pointers.reserveCapacity(range.count)
            for index in range {
                let start = batch.messageStart(index)
                pointers.append(messages.baseAddress! + start)
                lengths.append(batch.messageEnds[index] - start)
            }
            batch.publicKeys.withUnsafeBufferPointer { keys in
                batch.signatures.withUnsafeBufferPointer { signatures in
                    _ = rc_ed25519_verify_batch_backend(pointers, lengths, keys.baseAddress! + range.lowerBound * publicKeyLength,
                                                        signatures.baseAddress! + range.lowerBound * signatureLength, range.count, nil,
                                                        results, backend, &ran)
                }
            }
        }
        return ran
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
/// Signatures to verify as flat byte arrays, without an allocation per item: item i is
/// `publicKeys[32i..<32i+32]`, `signatures[64i..<64i+64]` and the message between
/// `messageEnds[i-1]` (0 for the first) and `messageEnds[i]`.
extension SignatureBatch {
    /// Separate items as one flat batch, with the index of each item that went in: a key
    /// that is not 32 bytes or a signature that is not 64 is left out (invalid, never
    /// reaching an engine).
    static func flattening(_ items: [SignatureItem]) -> (SignatureBatch, wellFormed: [Int]) {
        var batch = SignatureBatch()
        batch.reserveCapacity(items.count, messageBytes: items.reduce(0) { $0 + $1.message.count })
        var wellFormed = [Int]()
        wellFormed.reserveCapacity(items.count)
        for (index, item) in items.enumerated()
        where batch.append(publicKey: item.publicKey, signature: item.signature, message: item.message) {
            wellFormed.append(index)
        }
        return (batch, wellFormed)
    }

    /// The flat batch's results placed back at their items' indices (left-out items false).
    static func scatter(_ results: [Bool], to wellFormed: [Int], count: Int) -> [Bool] {
        var placed = [Bool](repeating: false, count: count)
        for (slot, valid) in results.enumerated() { placed[wellFormed[slot]] = valid }
        return placed
    }
}

public struct SignatureBatch: Sendable {
    public private(set) var publicKeys: [UInt8] = []
    public private(set) var signatures: [UInt8] = []
    public private(set) var messages: [UInt8] = []
    public private(set) var messageEnds: [Int] = []

    public init() {}

    public var count: Int { messageEnds.count }
    public var isEmpty: Bool { messageEnds.isEmpty }

    public mutating func reserveCapacity(_ count: Int, messageBytes: Int) {
        publicKeys.reserveCapacity(count * Ed25519.publicKeyLength)
        signatures.reserveCapacity(count * Ed25519.signatureLength)
        messages.reserveCapacity(messageBytes)
        messageEnds.reserveCapacity(count)
    }

    /// Appends one item; returns false, appending nothing, when the key or signature has
    /// the wrong length (such an item can only be invalid).
    @discardableResult
    public mutating func append(publicKey: [UInt8], signature: [UInt8], message: some Collection<UInt8>) -> Bool {
        guard publicKey.count == Ed25519.publicKeyLength, signature.count == Ed25519.signatureLength else { return false }
        publicKeys.append(contentsOf: publicKey)
        signatures.append(contentsOf: signature)
        messages.append(contentsOf: message)
        messageEnds.append(messages.count)
        return true
    }

    public mutating func append(contentsOf other: SignatureBatch) {
        let base = messages.count
        publicKeys.append(contentsOf: other.publicKeys)
        signatures.append(contentsOf: other.signatures)
        messages.append(contentsOf: other.messages)
        messageEnds.append(contentsOf: other.messageEnds.lazy.map { $0 + base })
    }

    /// Where item `index`'s message starts in `messages` (it ends at `messageEnds[index]`).
    public func messageStart(_ index: Int) -> Int { index == 0 ? 0 : messageEnds[index - 1] }

    public func messageLength(_ index: Int) -> Int { messageEnds[index] - messageStart(index) }

    /// Item `index` as separate arrays.
    public func item(_ index: Int) -> SignatureItem {
        SignatureItem(publicKey: Array(publicKeys[index * Ed25519.publicKeyLength..<(index + 1) * Ed25519.publicKeyLength]),
                      signature: Array(signatures[index * Ed25519.signatureLength..<(index + 1) * Ed25519.signatureLength]),
                      message: Array(messages[messageStart(index)..<messageEnds[index]]))
    }

    public var items: [SignatureItem] { (0..<count).map(item) }
}

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

struct UnsafeSendableBackendPointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<rc_ed25519_backend>
    init(_ pointer: UnsafeMutablePointer<rc_ed25519_backend>) { self.pointer = pointer }
}

extension Ed25519 {
    /// SHA-512 (the library's own implementation, diffed against OpenSSL and NIST CAVP).
    public static func sha512(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        bytes.withUnsafeBufferPointer { rc_sha512($0.baseAddress, $0.count, &out) }
        return out
    }
}
