/// Appends the canonical encoding of values; the inverse of `ByteReader`.
public struct ByteWriter {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: UInt8) { bytes.append(value) }

    public mutating func write(_ value: UInt32) {
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    public mutating func write(_ value: UInt64) {
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * i))) }
    }

    public mutating func write(_ hash: Hash256) { hash.withUnsafeBytes { bytes.append(contentsOf: $0) } }

    public mutating func write(bytes other: some Sequence<UInt8>) { bytes.append(contentsOf: other) }

    public mutating func writeCompactSize(_ value: UInt64) {
        switch value {
        case 0..<0xFD: write(UInt8(value))
        case 0xFD...0xFFFF:
            write(UInt8(0xFD)); write(UInt8(truncatingIfNeeded: value)); write(UInt8(truncatingIfNeeded: value >> 8))
        case 0x1_0000...0xFFFF_FFFF:
            write(UInt8(0xFE)); write(UInt32(value))
        default:
            write(UInt8(0xFF)); write(value)
        }
    }

    public mutating func writeVarBytes(_ data: [UInt8]) {
        writeCompactSize(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    public static func compactSizeLength(_ value: UInt64) -> Int {
        switch value {
        case 0..<0xFD: return 1
        case 0xFD...0xFFFF: return 3
        case 0x1_0000...0xFFFF_FFFF: return 5
        default: return 9
        }
    }
}

/// A value with one canonical binary encoding.
public protocol BinaryCodable {
    func encode(to writer: inout ByteWriter)
    static func decode(from reader: inout ByteReader) throws -> Self
}

extension BinaryCodable {
    public var encoded: [UInt8] {
        var writer = ByteWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes exactly one value: trailing bytes are an error. Errors name fields under
    /// `path`, by default the type's name.
    public init(decoding bytes: [UInt8], path: String? = nil) throws {
        var reader = path.map { ByteReader(bytes, path: $0) } ?? ByteReader(bytes, pathType: Self.self)
        self = try Self.decode(from: &reader)
        try reader.expectEnd("end")
    }
}
