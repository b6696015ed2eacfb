import CBLAKE3
import Dispatch

/// The instruction-set level a BLAKE3 computation runs at. Every level gives
/// bit-identical results; `scalar` is the portable reference the others are diffed against.
public enum BLAKE3Level: Int, CaseIterable, Sendable, CustomStringConvertible {
    case scalar = 0
    case sse41 = 1
    case avx2 = 2
    case avx512 = 3

    /// Best level this CPU supports.
    public static var detected: BLAKE3Level { BLAKE3Level(c: rc_b3_detected_level()) }

    /// Level used when a caller does not name one: the detected one. Not settable: a
    /// process-wide choice would let one caller (or test running in parallel) change what
    /// another runs; pass `level:` instead.
    public static var `default`: BLAKE3Level { detected }

    /// Every level this CPU can run, scalar first.
    public static var supported: [BLAKE3Level] { allCases.filter { $0.rawValue <= detected.rawValue } }

    /// Messages processed side by side in one SIMD call at this level.
    public var degree: Int { Int(rc_b3_level_degree(cValue)) }

    public var description: String { String(cString: rc_b3_level_name(cValue)) }

    /// Parses the names printed by `description` ("scalar", "sse4.1", "avx2", "avx512").
    public init?(name: String) {
        guard let level = BLAKE3Level.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = level
    }

    init(c: rc_b3_level) { self = BLAKE3Level(rawValue: Int(c.rawValue)) ?? .scalar }
    var cValue: rc_b3_level { rc_b3_level(rawValue: UInt32(rawValue)) }
}

/// Incremental BLAKE3 in any of its three modes, with extendable output.
public struct BLAKE3Hasher: Sendable {
    private var state = rc_b3_hasher()

    /// Plain hashing.
    public init(level: BLAKE3Level = .default) {
        rc_b3_hasher_init(&state, level.cValue)
    }

    /// Keyed hashing; `key` must be 32 bytes.
    public init(key: some Collection<UInt8>, level: BLAKE3Level = .default) {
        precondition(key.count == 32, "BLAKE3 key must be 32 bytes")
        let bytes = Array(key)
        rc_b3_hasher_init_keyed(&state, bytes, level.cValue)
    }

    /// Key derivation: the hasher absorbs key material under `context`.
    public init(deriveKeyContext context: String, level: BLAKE3Level = .default) {
        var context = context
        context.withUTF8 { utf8 in
            rc_b3_hasher_init_derive_key(&state, utf8.baseAddress, utf8.count, level.cValue)
        }
    }

    /// The level this hasher runs: the one it was made with, clamped to the CPU by the C
    /// code, which dispatches every compression of this hasher on it.
    public var level: BLAKE3Level { BLAKE3Level(rawValue: Int(state.level)) ?? .scalar }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        rc_b3_hasher_update(&state, base, buffer.count)
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let handled: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if handled == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// `count` bytes of output starting at byte `seek` of the output stream.
    public func finalize(count: Int = 32, seek: UInt64 = 0) -> [UInt8] {
        precondition(count >= 0)
        var out = [UInt8](repeating: 0, count: count)
        withUnsafePointer(to: state) { statePointer in
            out.withUnsafeMutableBufferPointer { outBuffer in
                rc_b3_hasher_finalize_seek(statePointer, seek, outBuffer.baseAddress, count)
            }
        }
        return out
    }

    /// Writes the output into `buffer` (its whole length), starting at byte `seek`.
    public func finalize(into buffer: UnsafeMutableRawBufferPointer, seek: UInt64 = 0) {
        guard buffer.count > 0 else { return }
        withUnsafePointer(to: state) { statePointer in
            rc_b3_hasher_finalize_seek(statePointer, seek, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), buffer.count)
        }
    }
}

/// One-shot BLAKE3 functions and the batch shapes the hot paths use.
public enum BLAKE3 {
    public static let outputLength = 32
    public static let blockLength = 64
    public static let chunkLength = 1024

    public static func hash(_ bytes: some Sequence<UInt8>, level: BLAKE3Level = .default) -> [UInt8] {
        var hasher = BLAKE3Hasher(level: level)
        hasher.update(bytes)
        return hasher.finalize()
    }

    /// One-shot hash of `input` into `output` (its whole length), keyed when `key` (32 bytes)
    /// is given; the hasher state stays in place (no copies of it, no arrays).
    public static func hash(_ input: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer? = nil,
                            into output: UnsafeMutableRawBufferPointer, level: BLAKE3Level = .default) {
        var state = rc_b3_hasher()
        if let key {
            precondition(key.count == 32, "BLAKE3 key must be 32 bytes")
            rc_b3_hasher_init_keyed(&state, key.baseAddress!.assumingMemoryBound(to: UInt8.self), level.cValue)
        } else {
            rc_b3_hasher_init(&state, level.cValue)
        }
        if let base = input.baseAddress, input.count > 0 { rc_b3_hasher_update(&state, base, input.count) }
        if let out = output.baseAddress, output.count > 0 {
            rc_b3_hasher_finalize_seek(&state, 0, out.assumingMemoryBound(to: UInt8.self), output.count)
        }
    }

    /// Hashes of a prefix of `input` and of the whole of it, from one pass over the bytes:
    /// 32 bytes of each into `prefixOutput` and `wholeOutput`.
    public static func hashPrefixAndWhole(_ input: UnsafeRawBufferPointer, prefixLength: Int,
                                          prefixOutput: UnsafeMutableRawBufferPointer, wholeOutput: UnsafeMutableRawBufferPointer,
                                          level: BLAKE3Level = .default) {
        precondition(prefixLength >= 0 && prefixLength <= input.count)
        precondition(prefixOutput.count == 32 && wholeOutput.count == 32)
        var state = rc_b3_hasher()
        rc_b3_hasher_init(&state, level.cValue)
        if let base = input.baseAddress {
            if prefixLength > 0 { rc_b3_hasher_update(&state, base, prefixLength) }
            rc_b3_hasher_finalize_seek(&state, 0, prefixOutput.baseAddress!.assumingMemoryBound(to: UInt8.self), 32)
            if input.count > prefixLength { rc_b3_hasher_update(&state, base + prefixLength, input.count - prefixLength) }
        } else {
            rc_b3_hasher_finalize_seek(&state, 0, prefixOutput.baseAddress!.assumingMemoryBound(to: UInt8.self), 32)
        }
        rc_b3_hasher_finalize_seek(&state, 0, wholeOutput.baseAddress!.assumingMemoryBound(to: UInt8.self), 32)
    }

    public static func keyedHash(key: some Collection<UInt8>, _ bytes: some Sequence<UInt8>, level: BLAKE3Level = .default) -> [UInt8] {
        var hasher = BLAKE3Hasher(key: key, level: level)
        hasher.update(bytes)
        return hasher.finalize()
    }

    public static func deriveKey(context: String, material: some Sequence<UInt8>, count: Int = 32, level: BLAKE3Level = .default) -> [UInt8] {
        var hasher = BLAKE3Hasher(deriveKeyContext: context, level: level)
        hasher.update(material)
        return hasher.finalize(count: count)
    }

    /// Hashes `count` independent messages of `length` bytes (at most one 64-byte block
    /// each), message i at `messages + i * stride`, each in a single compression. With a
    /// `key` the messages are keyed-hashed. Writes `count * 32` bytes to `output`.
    public static func hashManySingleBlock(
        messages: UnsafeRawPointer, stride: Int, length: Int, count: Int,
        key: [UInt8]? = nil, output: UnsafeMutableRawPointer, level: BLAKE3Level = .default
    ) {
        hashManySingleBlockReporting(messages: messages, stride: stride, length: length, count: count,
                                     key: key, output: output, level: level)
    }

    /// `hashManySingleBlock`, returning the level whose code the C dispatcher ran (`level`
    /// clamped to the CPU; scalar for no messages), so tests can prove what they exercised.
    @discardableResult
    public static func hashManySingleBlockReporting(
        messages: UnsafeRawPointer, stride: Int, length: Int, count: Int,
        key: [UInt8]? = nil, output: UnsafeMutableRawPointer, level: BLAKE3Level = .default
    ) -> BLAKE3Level {
        precondition(length >= 0 && length <= blockLength, "single-block messages are at most 64 bytes")
        guard count > 0 else { return .scalar }
        let keyWords = key.map(Self.words(of:)) ?? ivWords
        let flags: UInt8 = key == nil ? 0 : UInt8(RC_B3_KEYED_HASH)
        return keyWords.withUnsafeBufferPointer { keyBuffer in
            BLAKE3Level(c: rc_b3_hash_many_single_block(
                messages.assumingMemoryBound(to: UInt8.self), stride, length, count,
                keyBuffer.baseAddress, flags,
                output.assumingMemoryBound(to: UInt8.self), level.cValue))
        }
    }

    /// One Merkle level: `nodeCount` 32-byte nodes in, `(nodeCount + 1) / 2` out; each
    /// pair becomes keyed_hash(key, left || right), an odd last node is promoted.
    /// `output` may equal `nodes`.
    public static func merkleLevel(
        nodes: UnsafeRawPointer, nodeCount: Int, key: UnsafeRawPointer,
        output: UnsafeMutableRawPointer, level: BLAKE3Level = .default
    ) {
        merkleLevelReporting(nodes: nodes, nodeCount: nodeCount, key: key, output: output, level: level)
    }

    /// `merkleLevel`, returning the level whose code the C dispatcher ran (scalar when
    /// there is no pair to hash).
    @discardableResult
    public static func merkleLevelReporting(
        nodes: UnsafeRawPointer, nodeCount: Int, key: UnsafeRawPointer,
        output: UnsafeMutableRawPointer, level: BLAKE3Level = .default
    ) -> BLAKE3Level {
        guard nodeCount > 0 else { return .scalar }
        return BLAKE3Level(c: rc_b3_merkle_level(
            nodes.assumingMemoryBound(to: UInt8.self), nodeCount,
            key.assumingMemoryBound(to: UInt8.self),
            output.assumingMemoryBound(to: UInt8.self), level.cValue))
    }

    /// The compression function on one block (for the PoW midstate): updates `chainingValue`.
    public static func compress(
        chainingValue: inout [UInt32], block: UnsafeRawPointer, blockLength: UInt8, counter: UInt64, flags: UInt8
    ) {
        precondition(chainingValue.count == 8)
        chainingValue.withUnsafeMutableBufferPointer { cv in
            rc_b3_compress_in_place(cv.baseAddress!, block.assumingMemoryBound(to: UInt8.self), blockLength, counter, flags)
        }
    }

    public static let ivWords: [UInt32] = [
        0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A,
        0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19,
    ]

    public enum Flag {
        public static let chunkStart = UInt8(RC_B3_CHUNK_START)
        public static let chunkEnd = UInt8(RC_B3_CHUNK_END)
        public static let parent = UInt8(RC_B3_PARENT)
        public static let root = UInt8(RC_B3_ROOT)
        public static let keyedHash = UInt8(RC_B3_KEYED_HASH)
    }

    /// Little-endian words of a 32-byte key.
    public static func words(of key: [UInt8]) -> [UInt32] {
        precondition(key.count == 32, "BLAKE3 key must be 32 bytes")
        return (0..<8).map { i -> UInt32 in
            var word: UInt32 = 0
            for j in 0..<4 { word |= UInt32(key[4 * i + j]) << UInt32(8 * j) }
            return word
        }
    }
}

extension BLAKE3Hasher {
    /// Absorbs `buffer` using up to `threads` threads: whole power-of-two subtrees are hashed
    /// in parallel and joined in order; anything that does not form such subtrees goes
    /// through the ordinary update. The result equals `update(buffer)`.
    public mutating func update(_ buffer: UnsafeRawBufferPointer, threads: Int) {
        let chunk = BLAKE3.chunkLength
        guard threads > 1, buffer.count >= 4 * chunk, let base = buffer.baseAddress else {
            update(buffer)
            return
        }
        let start = withUnsafePointer(to: state) { rc_b3_hasher_next_chunk($0) }
        guard start != UInt64.max else {
            update(buffer)
            return
        }
        // Equal subtrees, one or more per thread: the largest power of two that the
        // position allows and that splits the input into at least `threads` pieces.
        var size = 1 << (Int.bitWidth - 1 - (buffer.count / threads).leadingZeroBitCount)
        while size > 2 * chunk && (start * UInt64(chunk)) % UInt64(size) != 0 { size /= 2 }
        guard size >= 2 * chunk else {
            update(buffer)
            return
        }
        // Keep at least one byte back: the final chunk must stay in the chunk state.
        let pieces = (buffer.count - 1) / size
        guard pieces >= 2 else {
            update(buffer)
            return
        }
        var children = [UInt8](repeating: 0, count: pieces * 64)
        let snapshot = state
        let pieceSize = size
        let address = UInt(bitPattern: base)
        children.withUnsafeMutableBytes { out in
            let outAddress = UInt(bitPattern: out.baseAddress!)
            DispatchQueue.concurrentPerform(iterations: pieces) { index in
                var copy = snapshot
                let input = UnsafeRawPointer(bitPattern: address + UInt(index * pieceSize))!
                let target = UnsafeMutablePointer<UInt8>(bitPattern: outAddress + UInt(index * 64))!
                rc_b3_hasher_subtree_children(&copy, input, pieceSize, start + UInt64(index * pieceSize / chunk), target)
            }
        }
        children.withUnsafeBufferPointer { all in
            for index in 0..<pieces {
                rc_b3_hasher_push_subtree(&state, all.baseAddress! + index * 64, size)
            }
        }
        update(UnsafeRawBufferPointer(rebasing: buffer[(pieces * size)...]))
    }
}
