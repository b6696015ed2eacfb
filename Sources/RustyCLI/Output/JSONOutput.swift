import Foundation

/// The one way a command writes `--json`: a `Codable` value through `JSONEncoder` with
/// sorted keys, so the output is stable and every document decodes back into its type.
func jsonText<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// Prints `value` as one JSON document (one line unless `pretty`).
func printJSON<T: Encodable>(_ value: T, pretty: Bool = false) throws {
    print(try jsonText(value, pretty: pretty))
}

/// An optional that is written as `null` rather than left out, for keys a document always
/// has (a synthesized `Encodable` drops a nil optional's key).
struct Nullable<Wrapped: Codable>: Codable {
    var value: Wrapped?
    init(_ value: Wrapped?) { self.value = value }

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        value = container.decodeNil() ? nil : try container.decode(Wrapped.self)
    }

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let value { try container.encode(value) } else { try container.encodeNil() }
    }
}

extension Nullable: Equatable where Wrapped: Equatable {}
