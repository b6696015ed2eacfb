// Stratum v1 messages (docs/PROTOCOL.md section 15): one JSON object per line, requests
// with an id, responses to them, and notifications (a request whose id is null). The codec
// is shared by the node's server and `rusty mine --stratum`; it does no I/O.

import JSONRPC

/// Stratum's error codes (the slush pool / cgminer convention every pool uses).
public enum StratumErrorCode: Int, Sendable, CaseIterable {
    case other = 20
    /// An unknown job, or a job built on a block that is no longer the tip.
    case jobNotFound = 21
    case duplicateShare = 22
    case lowDifficultyShare = 23
    case unauthorizedWorker = 24
    case notSubscribed = 25
}

/// A refusal as it travels: `[code, message, null]` in a response's `error`.
public struct StratumError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: Int
    public var message: String

    public init(_ code: StratumErrorCode, _ message: String) {
        self.code = code.rawValue
        self.message = message
    }

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var json: JSON { .array([.int(code), .string(message), .null]) }
    public var description: String { "\(code) \(message)" }

    /// The error of a response: the array form, or an object {code, message} some pools send.
    public init?(json: JSON) {
        if let items = json.arrayValue, items.count >= 2, let code = items[0].int64Value, let message = items[1].stringValue {
            self.init(code: Int(clamping: code), message: message)
        } else if let code = json["code"]?.int64Value {
            self.init(code: Int(clamping: code), message: json["message"]?.stringValue ?? "")
        } else {
            return nil
        }
    }
}

/// A message whose line could not be understood; the reason names what is wrong.
public struct StratumDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// One line of the protocol.
public enum StratumMessage: Sendable, Equatable {
    /// A call that expects a response with the same id.
    case request(id: JSON, method: String, params: [JSON])
    /// A call without an id (or with id null): `mining.notify`, `mining.set_difficulty`.
    case notification(method: String, params: [JSON])
    /// The answer to a request: a result, or an error.
    case response(id: JSON, result: JSON, error: StratumError?)

    /// Longest line the server reads (requests are a few hundred bytes); a longer one closes the connection.
    public static let maxServerLineBytes = 16_384
    /// Longest line the client reads (a job is about 400 bytes; an answer may carry a message).
    public static let maxClientLineBytes = 65_536

    /// Parses one line (without its newline).
    public init(line: some Collection<UInt8>) throws(StratumDecodingError) {
        let value: JSON
        do {
            value = try JSONParser.parse(line, maxDepth: 16)
        } catch {
            throw StratumDecodingError("malformed JSON: \(error)")
        }
        guard let object = value.objectValue else { throw StratumDecodingError("a message must be a JSON object, not \(value.typeName)") }
        let id = object["id"] ?? .null
        switch id {
        case .null, .number, .string: break
        default: throw StratumDecodingError("id must be a number, a string or null, not \(id.typeName)")
        }
        if let method = object["method"] {
            guard let name = method.stringValue else { throw StratumDecodingError("method must be a string") }
            let params: [JSON]
            switch object["params"] ?? .array([]) {
            case .array(let items): params = items
            case .null: params = []
            default: throw StratumDecodingError("params must be an array")
            }
            self = id.isNull ? .notification(method: name, params: params) : .request(id: id, method: name, params: params)
            return
        }
        guard object["result"] != nil || object["error"] != nil else {
            throw StratumDecodingError("a message needs a method (a call) or a result or error (a response)")
        }
        let errorValue = object["error"] ?? .null
        var error: StratumError?
        if !errorValue.isNull {
            guard let parsed = StratumError(json: errorValue) else { throw StratumDecodingError("error must be [code, message, data]") }
            error = parsed
        }
        self = .response(id: id, result: object["result"] ?? .null, error: error)
    }

    /// The message as one line, newline included.
    public var line: [UInt8] {
        var bytes = json.serialized()
        bytes.append(0x0A)
        return bytes
    }

    public var json: JSON {
        switch self {
        case .request(let id, let method, let params):
            return .object(["id": id, "method": .string(method), "params": .array(params)])
        case .notification(let method, let params):
            return .object(["id": .null, "method": .string(method), "params": .array(params)])
        case .response(let id, let result, let error):
            return .object(["id": id, "result": error == nil ? result : .null, "error": error?.json ?? .null])
        }
    }
}

/// The methods this protocol uses, by their Stratum names.
public enum StratumMethod {
    public static let subscribe = "mining.subscribe"
    public static let authorize = "mining.authorize"
    public static let configure = "mining.configure"
    public static let submit = "mining.submit"
    public static let notify = "mining.notify"
    public static let setDifficulty = "mining.set_difficulty"
    public static let extranonceSubscribe = "mining.extranonce.subscribe"
}
