// A method's declaration (name, parameters, help) and its handler; the arguments a call
// received, with typed accessors whose errors use bitcoind's codes and wording.

import Primitives

/// One declared parameter. Named arguments (`-named`, or a params object) are matched by `name`.
public struct RPCParameter: Sendable {
    public var name: String
    /// What it takes, for help: "number", "string", "hex", "boolean", "array", "object", "amount", "any".
    public var type: String
    public var required: Bool
    public var help: String

    public init(_ name: String, _ type: String, required: Bool = true, _ help: String) {
        self.name = name
        self.type = type
        self.required = required
        self.help = help
    }
}

public struct RPCMethod: Sendable {
    public typealias Handler = @Sendable (RPCArguments) async throws -> JSON

    public var name: String
    /// Section in `help`: "Blockchain", "Control", "Mining", "Network", "Rawtransactions", "Wallet", ...
    public var category: String
    public var parameters: [RPCParameter]
    /// What it does and returns (the text after the call line in `help METHOD`).
    public var help: String
    public var handler: Handler

    public init(_ name: String, category: String, parameters: [RPCParameter] = [], help: String, handler: @escaping Handler) {
        self.name = name
        self.category = category
        self.parameters = parameters
        self.help = help
        self.handler = handler
    }

    /// "getblockhash height" (optional parameters in parentheses), as help's index shows it.
    public var synopsis: String {
        ([name] + parameters.map { $0.required ? $0.name : "( \($0.name) )" }).joined(separator: " ")
    }

    public var fullHelp: String {
        var text = synopsis + "\n\n" + help
        if !parameters.isEmpty {
            text += "\n\nArguments:\n"
            for (index, parameter) in parameters.enumerated() {
                text += "\(index + 1). \(parameter.name)    (\(parameter.type), \(parameter.required ? "required" : "optional")) \(parameter.help)\n"
            }
        }
        return text
    }
}

/// The arguments of one call, positional after named arguments have been placed.
public struct RPCArguments: Sendable {
    public let method: String
    public let parameters: [RPCParameter]
    /// One slot per declared parameter (nil: not given, or JSON null, which bitcoind treats as omitted).
    public let values: [JSON?]

    public init(method: String, parameters: [RPCParameter], values: [JSON?]) {
        self.method = method
        self.parameters = parameters
        self.values = values
    }

    public subscript(index: Int) -> JSON? {
        guard index < values.count, let value = values[index], !value.isNull else { return nil }
        return value
    }

    func name(_ index: Int) -> String { index < parameters.count ? parameters[index].name : "#\(index + 1)" }

    func typeError(_ index: Int, _ value: JSON, expected: String) -> RPCError {
        RPCError(RPCError.typeError, "JSON value of type \(value.typeName) for '\(name(index))' is not of expected type \(expected)")
    }

    public func has(_ index: Int) -> Bool { self[index] != nil }

    public func required(_ index: Int) throws(RPCError) -> JSON {
        guard let value = self[index] else { throw RPCError.invalidParams("missing required parameter '\(name(index))'") }
        return value
    }

    public func string(_ index: Int) throws(RPCError) -> String {
        let value = try required(index)
        guard let text = value.stringValue else { throw typeError(index, value, expected: "string") }
        return text
    }

    public func optionalString(_ index: Int) throws(RPCError) -> String? {
        has(index) ? try string(index) : nil
    }

    /// An integer in `range` (a number with a fraction or out of range: -8, invalid parameter).
    public func int(_ index: Int, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(RPCError) -> Int64 {
        let value = try required(index)
        guard value.numberText != nil else { throw typeError(index, value, expected: "number") }
        guard let number = value.int64Value else {
            throw RPCError.invalidParameter("'\(name(index))' must be an integer, got \(value.numberText!)")
        }
        guard range.contains(number) else {
            throw RPCError.invalidParameter("'\(name(index))' \(number) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return number
    }

    public func optionalInt(_ index: Int, in range: ClosedRange<Int64> = Int64.min...Int64.max) throws(RPCError) -> Int64? {
        has(index) ? try int(index, in: range) : nil
    }

    public func bool(_ index: Int) throws(RPCError) -> Bool {
        let value = try required(index)
        guard let flag = value.boolValue else { throw typeError(index, value, expected: "bool") }
        return flag
    }

    public func optionalBool(_ index: Int) throws(RPCError) -> Bool? {
        has(index) ? try bool(index) : nil
    }

    /// A double (fee rates, ratios).
    public func double(_ index: Int) throws(RPCError) -> Double {
        let value = try required(index)
        guard let number = value.doubleValue else { throw typeError(index, value, expected: "number") }
        return number
    }

    /// Hex text of any even length (raw transactions, blocks): -22 for bad hex, as bitcoind's decoders say.
    public func hexBytes(_ index: Int) throws(RPCError) -> [UInt8] {
        let text = try string(index)
        guard let bytes = HexCoding.decode(text) else {
            throw RPCError(RPCError.deserializationError, "'\(name(index))' is not hex: \(text.prefix(80))")
        }
        return bytes
    }

    /// A 32-byte hash as 64 hex characters (-8 otherwise, bitcoind's "must be of length 64").
    public func hash(_ index: Int) throws(RPCError) -> [UInt8] {
        let text = try string(index)
        guard text.utf8.count == 64 else {
            throw RPCError.invalidParameter("\(name(index)) must be of length 64 (not \(text.utf8.count), for '\(text.prefix(80))')")
        }
        guard let bytes = HexCoding.decode(text) else {
            throw RPCError.invalidParameter("\(name(index)) must be hexadecimal string (not '\(text)')")
        }
        return bytes
    }

    /// An amount in coins (a number or a numeric string, at most 8 decimals) as base units.
    public func amount(_ index: Int) throws(RPCError) -> UInt64 {
        let value = try required(index)
        let text: String
        switch value {
        case .number(let number): text = number
        case .string(let string): text = string
        default: throw typeError(index, value, expected: "number")
        }
        guard let units = JSONNumber.fixedPointUnits(text, scale: 8) else { throw RPCError(RPCError.typeError, "Invalid amount") }
        guard units >= 0 else { throw RPCError(RPCError.typeError, "Amount out of range") }
        return UInt64(units)
    }

    public func array(_ index: Int) throws(RPCError) -> [JSON] {
        let value = try required(index)
        guard let items = value.arrayValue else { throw typeError(index, value, expected: "array") }
        return items
    }

    public func object(_ index: Int) throws(RPCError) -> JSONObject {
        let value = try required(index)
        guard let members = value.objectValue else { throw typeError(index, value, expected: "object") }
        return members
    }
}
