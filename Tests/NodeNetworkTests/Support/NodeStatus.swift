import Foundation

/// One reading of `ROOT/regtest/node-status.json` (the node rewrites it every second).
/// Parsed loosely (JSONSerialization) so a field the tests do not use never breaks them.
struct NodeStatus: CustomStringConvertible {
    let raw: [String: Any]

    init?(data: Data) {
        // The file may be read mid-rewrite: anything that is not a whole object is no reading.
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        raw = object
    }

    private func int(_ key: String) -> Int? { (raw[key] as? NSNumber)?.intValue }

    var pid: Int32? { int("pid").map { Int32($0) } }
    var state: String { raw["state"] as? String ?? "" }
    var height: Int { int("height") ?? -1 }
    var tipHash: String { raw["tipHash"] as? String ?? "" }
    /// The best header's height (headers the node has stored).
    var headers: Int { int("headers") ?? -1 }
    var peers: [[String: Any]] { raw["peers"] as? [[String: Any]] ?? [] }
    var inboundCount: Int { int("inboundCount") ?? -1 }
    var outboundCount: Int { int("outboundCount") ?? -1 }
    var bytesSent: Int { int("bytesSent") ?? -1 }
    var listening: [String] { raw["listening"] as? [String] ?? [] }

    var description: String {
        "state \(state), height \(height), headers \(headers), tip \(tipHash.prefix(16)), peers \(peers.count) "
            + "(in \(inboundCount), out \(outboundCount))"
    }
}
