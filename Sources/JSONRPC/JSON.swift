// A JSON value that keeps what RPC needs and Foundation's JSONSerialization loses: object key
// order (results read like bitcoind's) and numbers as their exact text (amounts such as
// 0.00001000 are decimal, never binary floating point on the way through).

/// A JSON document. Numbers are kept as validated JSON number text; objects as ordered pairs.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    /// JSON number text (RFC 8259 grammar), e.g. "12", "-0.5", "1e3".
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public static func int<I: BinaryInteger>(_ value: I) -> JSON { .number(String(value)) }

    /// A finite double in the shortest text that reads back the same (non-finite: null).
    public static func double(_ value: Double) -> JSON {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e15 { return .number(String(Int64(value))) }
        return .number("\(value)")
    }

    /// A fixed-point decimal: `units` / 10^`scale` (amounts: base units with scale 8).
    public static func decimal(_ units: UInt64, scale: Int = 8, negative: Bool = false) -> JSON {
        .number(JSONNumber.fixedPoint(units, scale: scale, negative: negative))
    }

    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }
    public var numberText: String? { if case .number(let n) = self { return n } else { return nil } }

    /// The number as an exact Int64 (nil for fractions, exponents that leave a fraction, or out of range).
    public var int64Value: Int64? { numberText.flatMap(JSONNumber.integer) }
    public var doubleValue: Double? { numberText.flatMap(Double.init) }

    /// The member `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSON? { objectValue?[key] }

    /// The name JSON-RPC errors use for a value's type ("number", "string", ...).
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// An object whose members keep their insertion order. A key set twice keeps its first
/// position and takes the new value; a parsed object with a repeated key keeps the last value.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var members: [(key: String, value: JSON)] = []

    public init() {}
    public init(dictionaryLiteral elements: (String, JSON)...) {
        for (key, value) in elements { self[key] = value }
    }
    public init(_ pairs: [(String, JSON)]) {
        for (key, value) in pairs { self[key] = value }
    }

    /// Members whose keys the caller knows to be distinct (txids, hashes): appended without
    /// the duplicate search, so a large object is built in linear time.
    public init(uniqueKeysWithValues pairs: [(String, JSON)]) {
        members = pairs.map { (key: $0.0, value: $0.1) }
    }

    public subscript(key: String) -> JSON? {
        get { members.first { $0.key == key }?.value }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSON)]> { members.makeIterator() }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral {
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
}

/// Number text helpers.
public enum JSONNumber {
    /// "units / 10^scale" as fixed-point text with exactly `scale` fraction digits.
    public static func fixedPoint(_ units: UInt64, scale: Int, negative: Bool = false) -> String {
        guard scale > 0 else { return (negative && units > 0 ? "-" : "") + String(units) }
        var divisor: UInt64 = 1
        for _ in 0..<scale { divisor *= 10 }
        let fraction = String(units % divisor)
        return (negative && units > 0 ? "-" : "") + "\(units / divisor)." + String(repeating: "0", count: scale - fraction.count) + fraction
    }

    /// An exact integer: digits with an optional minus, or a form like "5.0" / "1e3" whose value is whole.
    public static func integer(_ text: String) -> Int64? {
        if let value = Int64(text) { return value }
        guard let units = fixedPointUnits(text, scale: 0) else { return nil }
        return units
    }

    /// The number as an exact multiple of 10^-scale (amounts: scale 8), or nil when it has
    /// more precision than that or leaves Int64. Parsed from the text, never through a double.
    public static func fixedPointUnits(_ text: String, scale: Int) -> Int64? {
        var digits = Array(text.utf8)
        var negative = false
        if digits.first == UInt8(ascii: "-") { negative = true; digits.removeFirst() }
        var exponent = 0
        if let e = digits.firstIndex(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            guard let value = Int(String(decoding: digits[(e + 1)...], as: UTF8.self)), abs(value) < 400 else { return nil }
            exponent = value
            digits.removeSubrange(e...)
        }
        var mantissa = digits
        if let dot = mantissa.firstIndex(of: UInt8(ascii: ".")) {
            exponent -= mantissa.count - dot - 1
            mantissa.remove(at: dot)
        }
        guard !mantissa.isEmpty, mantissa.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        // value = mantissa * 10^(exponent + scale)
        var shift = exponent + scale
        while shift < 0 {
            if mantissa.allSatisfy({ $0 == UInt8(ascii: "0") }) { return 0 }
            // A nonzero digit would be cut off: more precision than the scale allows.
            guard mantissa.last == UInt8(ascii: "0") else { return nil }
            mantissa.removeLast()
            shift += 1
        }
        var value: Int64 = 0
        for digit in mantissa {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(digit - 48))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        for _ in 0..<shift {
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = times
        }
        return negative ? -value : value
    }
}
