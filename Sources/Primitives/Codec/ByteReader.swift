/// Strict reader over an encoded byte string. Every read is bounds-checked and throws a
/// `DecodingError` naming the field; nothing here traps or allocates more than the bytes
/// actually present, whatever the input claims.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var offset: Int
    /// Field path prefix used in error messages (for example `block.tx[2]`).
    public var path: String {
        get { components.isEmpty ? basePath : resolvedPath() }
        set { basePath = newValue; components.removeAll() }
    }

    /// `within` components not yet joined into a string: the path is only built when an
    /// error message (or a caller) asks for it.
    enum PathComponent {
        case text(String)
        case indexed(StaticString, Int)
        /// A type's name: `String(describing:)` reflects (microseconds), so only on an error.
        case typeName(Any.Type)

        var string: String {
            switch self {
            case .text(let text): return text
            case .indexed(let name, let index): return "\(name)[\(index)]"
            case .typeName(let type): return String(describing: type)
            }
        }
    }

    private var basePath: String
    private var components: [PathComponent] = []

    public init(_ bytes: [UInt8], path: String = "") {
        self.bytes = bytes
        self.offset = 0
        self.basePath = path
    }

    /// A reader whose path starts with `type`'s name, built only if an error needs it.
    public init(_ bytes: [UInt8], pathType type: Any.Type) {
        self.init(bytes)
        components = [.typeName(type)]
    }

    private func resolvedPath() -> String {
        var out = basePath
        for component in components {
            let text = component.string
            out = out.isEmpty ? text : "\(out).\(text)"
        }
        return out
    }

    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset == bytes.count }

    func fieldName(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }

    /// Runs `body` with `component` appended to the path, restoring it afterwards.
    public mutating func within<T>(_ component: String, _ body: (inout ByteReader) throws -> T) rethrows -> T {
        try within(.text(component), body)
    }

    /// `within("name[index]")` without building that string unless the path is read.
    public mutating func within<T>(_ name: StaticString, index: Int, _ body: (inout ByteReader) throws -> T) rethrows -> T {
        try within(.indexed(name, index), body)
    }

    private mutating func within<T>(_ component: PathComponent, _ body: (inout ByteReader) throws -> T) rethrows -> T {
        let savedBase = basePath, savedCount = components.count
        components.append(component)
        defer {
            if components.count == savedCount + 1 {
                components.removeLast()
            } else {
                // `body` replaced the path: restore the one from before (rare, unused in practice).
                path = savedBase
            }
        }
        return try body(&self)
    }

    mutating func require(_ count: Int, _ field: String) throws {
        if count < 0 { throw invalid(field, "negative length \(count)") }
        if count > remaining {
            throw DecodingError.truncated(field: fieldName(field), offset: offset, needed: count, available: remaining)
        }
    }

    public mutating func readBytes(_ count: Int, _ field: String) throws -> [UInt8] {
        try require(count, field)
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    public mutating func readUInt8(_ field: String) throws -> UInt8 {
        try require(1, field)
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readUInt32(_ field: String) throws -> UInt32 {
        try require(4, field)
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * i) }
        offset += 4
        return value
    }

    public mutating func readUInt64(_ field: String) throws -> UInt64 {
        try require(8, field)
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * i) }
        offset += 8
        return value
    }

    public mutating func readHash(_ field: String) throws -> Hash256 {
        try require(32, field)
        defer { offset += 32 }
        return bytes.withUnsafeBytes { Hash256(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + 32])) }
    }

    /// Bitcoin's CompactSize, minimal encoding required, value at most `limit`.
    public mutating func readCompactSize(_ field: String, limit: UInt64) throws -> UInt64 {
        let start = offset
        let first = try readUInt8(field)
        let value: UInt64
        let minimum: UInt64
        switch first {
        case 0..<0xFD:
            value = UInt64(first); minimum = 0
        case 0xFD:
            try require(2, field)
            value = UInt64(bytes[offset]) | UInt64(bytes[offset + 1]) << 8
            offset += 2; minimum = 0xFD
        case 0xFE:
            value = UInt64(try readUInt32(field)); minimum = 0x1_0000
        default:
            value = try readUInt64(field); minimum = 0x1_0000_0000
        }
        if value < minimum {
            throw DecodingError.nonMinimalCompactSize(field: fieldName(field), offset: start, value: value)
        }
        if value > limit {
            throw DecodingError.countTooLarge(field: fieldName(field), offset: start, count: value, limit: limit)
        }
        return value
    }

    /// A count of items each at least `minimumItemSize` bytes long: rejected before any
    /// allocation when the remaining input cannot possibly hold that many.
    public mutating func readCount(_ field: String, limit: UInt64, minimumItemSize: Int) throws -> Int {
        let start = offset
        // A limit past Int.max would let a count through that Int cannot hold.
        let count = try readCompactSize(field, limit: min(limit, UInt64(Int.max)))
        if minimumItemSize > 0, count > UInt64(remaining / minimumItemSize) {
            // The count fits Int (limit above); the product may not: saturate in the message.
            let (needed, overflow) = Int(count).multipliedReportingOverflow(by: minimumItemSize)
            throw DecodingError.truncated(
                field: fieldName(field), offset: start,
                needed: overflow ? Int.max : needed, available: remaining)
        }
        return Int(count)
    }

    /// Length-prefixed bytes of at most `limit` bytes.
    public mutating func readVarBytes(_ field: String, limit: Int) throws -> [UInt8] {
        let start = offset
        let length = try readCompactSize(field, limit: UInt64(limit))
        if length > UInt64(remaining) {
            throw DecodingError.truncated(field: fieldName(field), offset: start, needed: Int(length), available: remaining)
        }
        return try readBytes(Int(length), field)
    }

    /// `readVarBytes("name[index]", limit:)` without building the field name unless it fails.
    public mutating func readVarBytes(_ name: StaticString, index: Int, limit: Int) throws -> [UInt8] {
        if offset < bytes.count, bytes[offset] < 0xFD {
            let length = Int(bytes[offset])
            if length <= limit, length <= bytes.count - offset - 1 {
                let start = offset + 1
                offset = start + length
                return Array(bytes[start..<start + length])
            }
        }
        return try readVarBytes("\(name)[\(index)]", limit: limit)
    }

    public func expectEnd(_ field: String) throws {
        if !isAtEnd {
            throw DecodingError.trailingBytes(field: fieldName(field), offset: offset, count: remaining)
        }
    }

    public func invalid(_ field: String, at position: Int? = nil, _ reason: String) -> DecodingError {
        .invalidValue(field: fieldName(field), offset: position ?? offset, reason: reason)
    }
}
