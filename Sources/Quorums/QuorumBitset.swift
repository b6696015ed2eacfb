import Primitives

/// One bit per quorum member, by member index (PROTOCOL section 17.3): CompactSize bit
/// count, then ceil(count / 8) bytes, bit i at byte i / 8, mask 1 << (i % 8). Padding bits
/// past the count must be zero, so each set has one encoding.
public struct QuorumBitset: Hashable, Sendable, BinaryCodable {
    public private(set) var count: Int
    public private(set) var bytes: [UInt8]

    public init(count: Int) {
        self.count = max(0, count)
        bytes = [UInt8](repeating: 0, count: (self.count + 7) / 8)
    }

    public init(count: Int, setting indices: some Sequence<Int>) {
        self.init(count: count)
        for index in indices where index >= 0 && index < self.count { self[index] = true }
    }

    public subscript(index: Int) -> Bool {
        get { index >= 0 && index < count && bytes[index / 8] & (1 << UInt8(index % 8)) != 0 }
        set {
            guard index >= 0 && index < count else { return }
            if newValue { bytes[index / 8] |= 1 << UInt8(index % 8) } else { bytes[index / 8] &= ~(1 << UInt8(index % 8)) }
        }
    }

    /// Indices of the set bits, ascending.
    public var setIndices: [Int] { (0..<count).filter { self[$0] } }
    public var setCount: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
    public var isEmpty: Bool { setCount == 0 }

    /// Every bit set here is set in `other`.
    public func isSubset(of other: QuorumBitset) -> Bool {
        count == other.count && zip(bytes, other.bytes).allSatisfy { $0 & ~$1 == 0 }
    }

    public func encode(to writer: inout ByteWriter) {
        writer.writeCompactSize(UInt64(count))
        writer.write(bytes: bytes)
    }

    public static func decode(from reader: inout ByteReader) throws -> QuorumBitset {
        let count = try reader.readCompactSize("bit_count", limit: UInt64(QuorumType.maxSize))
        var set = QuorumBitset(count: Int(count))
        set.bytes = try reader.readBytes(set.bytes.count, "bits")
        if count % 8 != 0, let last = set.bytes.last, last >> UInt8(count % 8) != 0 {
            throw reader.invalid("bits", "bits set past the count \(count)")
        }
        return set
    }
}
