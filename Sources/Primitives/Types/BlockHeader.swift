import BLAKE3

/// The 128-byte block header, little-endian integers:
///
///     offset  0 version u32 | 4 height u64 | 12 prev_hash | 44 merkle_root |
///     76 state_root | 108 time u64 | 116 bits u32 | 120 nonce u64
///
/// Time and nonce sit in the second 64-byte block, so a miner hashes the first block once
/// per template (the midstate) and pays one compression per nonce.
public struct BlockHeader: Hashable, Sendable, BinaryCodable {
    public var version: UInt32
    public var height: UInt64
    public var previousHash: Hash256
    public var merkleRoot: Hash256
    public var stateRoot: Hash256
    public var time: UInt64
    public var bits: UInt32
    public var nonce: UInt64

    public static let encodedLength = 128
    public static let timeOffset = 108
    public static let bitsOffset = 116
    public static let nonceOffset = 120

    public init(version: UInt32, height: UInt64, previousHash: Hash256, merkleRoot: Hash256,
                stateRoot: Hash256, time: UInt64, bits: UInt32, nonce: UInt64) {
        self.version = version
        self.height = height
        self.previousHash = previousHash
        self.merkleRoot = merkleRoot
        self.stateRoot = stateRoot
        self.time = time
        self.bits = bits
        self.nonce = nonce
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(version)
        writer.write(height)
        writer.write(previousHash)
        writer.write(merkleRoot)
        writer.write(stateRoot)
        writer.write(time)
        writer.write(bits)
        writer.write(nonce)
    }

    public static func decode(from reader: inout ByteReader) throws -> BlockHeader {
        BlockHeader(
            version: try reader.readUInt32("version"),
            height: try reader.readUInt64("height"),
            previousHash: try reader.readHash("prev_hash"),
            merkleRoot: try reader.readHash("merkle_root"),
            stateRoot: try reader.readHash("state_root"),
            time: try reader.readUInt64("time"),
            bits: try reader.readUInt32("bits"),
            nonce: try reader.readUInt64("nonce"))
    }

    /// Block hash = PoW hash = BLAKE3 of the 128 encoded bytes.
    public var hash: Hash256 { Hash256(bytes: BLAKE3.hash(encoded))! }

    /// The chaining value after compressing bytes 0..63 (first block of the only chunk).
    public var midstate: Midstate { Midstate(header: encoded) }

    public var compactTarget: CompactTarget { CompactTarget(bits: bits) }
}

/// BLAKE3 state after a header's first 64-byte block. `hash(secondBlock:)` finishes the
/// header hash with exactly one compression, which is what a PoW search pays per nonce.
public struct Midstate: Hashable, Sendable {
    /// Eight little-endian words.
    public let words: [UInt32]

    public init(words: [UInt32]) {
        precondition(words.count == 8)
        self.words = words
    }

    /// From a 128-byte encoded header.
    public init(header: [UInt8]) {
        precondition(header.count == BlockHeader.encodedLength)
        var cv = BLAKE3.ivWords
        header.withUnsafeBytes { bytes in
            BLAKE3.compress(chainingValue: &cv, block: bytes.baseAddress!, blockLength: 64, counter: 0, flags: BLAKE3.Flag.chunkStart)
        }
        words = cv
    }

    /// 32 bytes, little-endian words (the form the OpenCL kernel and hash_many take).
    public var bytes: [UInt8] { words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } } }

    /// The header hash, given bytes 64..127 of the header.
    public func hash(secondBlock: UnsafeRawBufferPointer) -> Hash256 {
        precondition(secondBlock.count == 64)
        var cv = words
        BLAKE3.compress(chainingValue: &cv, block: secondBlock.baseAddress!, blockLength: 64, counter: 0,
                        flags: BLAKE3.Flag.chunkEnd | BLAKE3.Flag.root)
        return cv.withUnsafeBytes { Hash256($0) }
    }
}
