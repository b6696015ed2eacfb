// The method table and the JSON-RPC request/response rules: single and batch requests,
// 1.0-style responses (`result`, `error`, `id`) as bitcoind sends them, JSON-RPC 2.0 when the
// request says so (no `error` with a result, notifications unanswered), HTTP status as
// bitcoind sets it for each case.

import Foundation

/// Every method the server answers. Registration happens before the server starts; after
/// that the table is only read.
public final class RPCRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var methods: [String: RPCMethod] = [:]

    public init() {
        register(RPCMethod("help", category: "Control", parameters: [RPCParameter("command", "string", required: false, "The command to get help on")],
                           help: "List all commands, or get help for a specified command.") { [unowned self] arguments in
            .string(try self.help(for: arguments.optionalString(0)))
        })
    }

    /// Adds (or replaces) a method.
    public func register(_ method: RPCMethod) { lock.withLock { methods[method.name] = method } }

    public func method(_ name: String) -> RPCMethod? { lock.withLock { methods[name] } }
    public var names: [String] { lock.withLock { methods.keys.sorted() } }

    /// bitcoind's `help`: the index by category, or one method's full text.
    public func help(for name: String?) throws(RPCError) -> String {
        if let name {
            guard let method = method(name) else { return "help: unknown command: \(name)" }
            return method.fullHelp
        }
        let all = lock.withLock { Array(methods.values) }
        let byCategory = Dictionary(grouping: all, by: \.category)
        return byCategory.keys.sorted().map { category in
            "== \(category) ==\n" + byCategory[category]!.sorted { $0.name < $1.name }.map(\.synopsis).joined(separator: "\n")
        }.joined(separator: "\n\n")
    }
}

/// An HTTP answer to a JSON-RPC POST: the status and the body (nil: 204, a notification).
public struct RPCReply: Sendable {
    public var status: Int
    public var body: [UInt8]?
}

public struct RPCDispatcher: Sendable {
    public let registry: RPCRegistry
    /// The largest batch answered (each entry runs a method; more is a denial-of-service lever).
    public var maxBatch: Int
    /// Nesting bound for request bodies.
    public var maxDepth: Int
    /// Called after every call with the method name (or "unknown"), its seconds and whether it succeeded.
    public var observer: (@Sendable (String, Double, Bool) -> Void)?

    public init(registry: RPCRegistry, maxBatch: Int = 1_000, maxDepth: Int = 64, observer: (@Sendable (String, Double, Bool) -> Void)? = nil) {
        self.registry = registry
        self.maxBatch = maxBatch
        self.maxDepth = maxDepth
        self.observer = observer
    }

    /// Answers one HTTP request body.
    public func handle(body: [UInt8]) async -> RPCReply {
        let request: JSON
        do {
            request = try JSONParser.parse(body, maxDepth: maxDepth)
        } catch {
            return RPCReply(status: 500, body: Self.response(id: .null, result: nil, error: .parseError(error.description), version2: false))
        }
        if case .array(let entries) = request {
            guard !entries.isEmpty else {
                return RPCReply(status: 400, body: Self.response(id: .null, result: nil, error: .invalidRequest("empty batch"), version2: true))
            }
            guard entries.count <= maxBatch else {
                return RPCReply(status: 400, body: Self.response(id: .null, result: nil,
                                                                 error: .invalidRequest("batch of \(entries.count) requests (at most \(maxBatch))"),
                                                                 version2: true))
            }
            var answers: [JSON] = []
            for entry in entries {
                if let answer = await call(entry).json { answers.append(answer) }
            }
            return RPCReply(status: 200, body: JSON.array(answers).serialized() + [0x0A])
        }
        let answer = await call(request)
        guard let json = answer.json else { return RPCReply(status: 204, body: nil) }
        return RPCReply(status: answer.status, body: json.serialized() + [0x0A])
    }

    struct Answer {
        var json: JSON?
        var status: Int
    }

    /// One request object: its response and the HTTP status bitcoind gives it when alone.
    func call(_ request: JSON) async -> Answer {
        guard case .object(let fields) = request else {
            return Answer(json: Self.responseJSON(id: .null, result: nil, error: .invalidRequest("a request must be an object"), version2: false),
                          status: 400)
        }
        let id = fields["id"] ?? .null
        var version2 = false
        if let version = fields["jsonrpc"] {
            guard version == .string("2.0") || version == .string("1.0") else {
                return Answer(json: Self.responseJSON(id: id, result: nil, error: .invalidRequest("jsonrpc must be \"2.0\""), version2: true),
                              status: 400)
            }
            version2 = version == .string("2.0")
        }
        // A JSON-RPC 2.0 request without an id is a notification: run it, answer nothing.
        let isNotification = version2 && fields["id"] == nil
        switch id {
        case .null, .string, .number: break
        default:
            return Answer(json: Self.responseJSON(id: .null, result: nil, error: .invalidRequest("id must be a string, number or null"), version2: version2),
                          status: 400)
        }
        guard let name = fields["method"]?.stringValue else {
            return Answer(json: Self.responseJSON(id: id, result: nil, error: .invalidRequest("method must be a string"), version2: version2),
                          status: 400)
        }
        let started = DispatchTime.now().uptimeNanoseconds
        let result: Result<JSON, RPCError>
        if let method = registry.method(name) {
            do {
                let arguments = try Self.arguments(for: method, params: fields["params"])
                result = .success(try await method.handler(arguments))
            } catch let error as RPCError {
                result = .failure(error)
            } catch {
                result = .failure(RPCError(RPCError.miscError, "\(error)"))
            }
        } else {
            result = .failure(.methodNotFound(name))
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        observer?(registry.method(name) == nil ? "unknown" : name, seconds, (try? result.get()) != nil)
        if isNotification { return Answer(json: nil, status: 204) }
        switch result {
        case .success(let value):
            return Answer(json: Self.responseJSON(id: id, result: value, error: nil, version2: version2), status: 200)
        case .failure(let error):
            // bitcoind: 404 for an unknown method, 500 for other errors (1.0); always 200 for 2.0.
            let status = version2 ? 200 : (error.code == RPCError.methodNotFoundCode ? 404 : error.code == RPCError.invalidRequestCode ? 400 : 500)
            return Answer(json: Self.responseJSON(id: id, result: nil, error: error, version2: version2), status: status)
        }
    }

    /// Places positional (array) or named (object) parameters into the method's slots.
    static func arguments(for method: RPCMethod, params: JSON?) throws(RPCError) -> RPCArguments {
        var values = [JSON?](repeating: nil, count: method.parameters.count)
        switch params {
        case nil, .null?:
            break
        case .array(let items)?:
            guard items.count <= method.parameters.count else {
                throw RPCError.invalidParams("\(method.name) takes at most \(method.parameters.count) parameters, got \(items.count)\n\n\(method.fullHelp)")
            }
            for (index, item) in items.enumerated() { values[index] = item }
        case .object(let named)?:
            for (key, value) in named {
                guard let index = method.parameters.firstIndex(where: { $0.name == key }) else {
                    throw RPCError.invalidParameter("Unknown named parameter \(key)")
                }
                values[index] = value
            }
        case let other?:
            throw RPCError.invalidRequest("params must be an array or an object, not \(other.typeName)")
        }
        for (index, parameter) in method.parameters.enumerated() where parameter.required {
            if values[index] == nil || values[index]!.isNull {
                throw RPCError.invalidParams("missing required parameter '\(parameter.name)'\n\n\(method.fullHelp)")
            }
        }
        return RPCArguments(method: method.name, parameters: method.parameters, values: values)
    }

    static func responseJSON(id: JSON, result: JSON?, error: RPCError?, version2: Bool) -> JSON {
        var object = JSONObject()
        if version2 {
            object["jsonrpc"] = "2.0"
            if let error { object["error"] = error.json } else { object["result"] = result ?? .null }
        } else {
            object["result"] = result ?? .null
            object["error"] = error?.json ?? .null
        }
        object["id"] = id
        return .object(object)
    }

    static func response(id: JSON, result: JSON?, error: RPCError?, version2: Bool) -> [UInt8] {
        responseJSON(id: id, result: result, error: error, version2: version2).serialized() + [0x0A]
    }
}
