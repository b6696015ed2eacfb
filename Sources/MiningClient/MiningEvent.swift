// What `rusty mine --stratum/--rpc` reports: a cgminer-style status line per interval and one
// line per event, as text or (with --json) as one JSON object per line with an "event" field.

import Foundation
import JSONRPC

public enum MiningEvent: Sendable {
    case status(StatusSnapshot)
    /// Connected and subscribed: the pool's nonce prefix (nil for a node's RPC).
    case connect(endpoint: String, noncePrefix: String?)
    case disconnect(endpoint: String, reason: String)
    /// The next connection attempt after `delay` seconds.
    case reconnect(endpoint: String, attempt: Int, delay: Double, reason: String)
    case difficulty(Double)
    /// A share's answer; `reason` is nil when it was accepted.
    case share(job: String, nonce: UInt64, accepted: Bool, reason: String?, latency: Double?)
    /// A block found: accepted (by the node or the pool) or refused with the reason.
    case block(height: UInt64, hash: String, accepted: Bool, reason: String?)
    /// A new template or job to search on.
    case work(source: String, height: UInt64, difficulty: Double)
    case summary(StatusSnapshot, seconds: Double, stoppedBy: String)
    /// Something worth a line that changes nothing (a pool message that was ignored).
    case notice(String)

    /// The text line, or nil for events the text output leaves to the status line (accepted shares).
    public var text: String? {
        switch self {
        case .status(let snapshot):
            return Self.statusLine(snapshot)
        case .connect(let endpoint, let prefix):
            return "connected to \(endpoint)" + (prefix.map { ", nonce prefix \($0)" } ?? "")
        case .disconnect(let endpoint, let reason):
            return "disconnected from \(endpoint): \(reason)"
        case .reconnect(let endpoint, let attempt, let delay, let reason):
            return "reconnecting to \(endpoint) in \(String(format: "%.1f", delay)) s (attempt \(attempt)): \(reason)"
        case .difficulty(let value):
            return "new share difficulty \(Self.formatDifficulty(value))"
        case .share(let job, let nonce, let accepted, let reason, _):
            return accepted ? nil : "share rejected (job \(job), nonce \(String(format: "%016llx", nonce))): \(reason ?? "no reason given")"
        case .block(let height, let hash, let accepted, let reason):
            return accepted ? "block \(height) \(hash) accepted" : "block \(height) \(hash) rejected: \(reason ?? "no reason given")"
        case .work(let source, let height, let difficulty):
            return "new work from \(source): height \(height), difficulty \(Self.formatDifficulty(difficulty))"
        case .notice(let message):
            return message
        case .summary(let snapshot, let seconds, let stoppedBy):
            let counters = snapshot.counters
            return "mined for \(String(format: "%.1f", seconds)) s: \(Self.formatRate(snapshot.averageRate)) average, "
                + "A:\(counters.accepted) R:\(counters.rejected) S:\(counters.stale) HW:\(counters.hardwareErrors) "
                + "blocks \(counters.blocks); stopped by \(stoppedBy)"
        }
    }

    /// One JSON object with an "event" field.
    public var json: JSON {
        switch self {
        case .status(let snapshot):
            return .object(Self.fields(snapshot, event: "status"))
        case .connect(let endpoint, let prefix):
            return ["event": "connect", "endpoint": .string(endpoint), "nonceprefix": prefix.map(JSON.string) ?? .null]
        case .disconnect(let endpoint, let reason):
            return ["event": "disconnect", "endpoint": .string(endpoint), "reason": .string(reason)]
        case .reconnect(let endpoint, let attempt, let delay, let reason):
            return ["event": "reconnect", "endpoint": .string(endpoint), "attempt": .int(attempt), "delay": .double(delay),
                    "reason": .string(reason)]
        case .difficulty(let value):
            return ["event": "difficulty", "difficulty": .double(value)]
        case .share(let job, let nonce, let accepted, let reason, let latency):
            return ["event": "share", "job": .string(job), "nonce": .string(String(format: "%016llx", nonce)), "accepted": .bool(accepted),
                    "reason": reason.map(JSON.string) ?? .null, "latencyms": latency.map(JSON.double) ?? .null]
        case .block(let height, let hash, let accepted, let reason):
            return ["event": "block", "height": .int(height), "hash": .string(hash), "accepted": .bool(accepted),
                    "reason": reason.map(JSON.string) ?? .null]
        case .work(let source, let height, let difficulty):
            return ["event": "work", "source": .string(source), "height": .int(height), "difficulty": .double(difficulty)]
        case .notice(let message):
            return ["event": "notice", "message": .string(message)]
        case .summary(let snapshot, let seconds, let stoppedBy):
            var fields = fields(snapshot, event: "summary")
            fields["seconds"] = .double(seconds)
            fields["stoppedby"] = .string(stoppedBy)
            return .object(fields)
        }
    }

    private func fields(_ snapshot: StatusSnapshot, event: String) -> JSONObject { Self.fields(snapshot, event: event) }

    static func fields(_ snapshot: StatusSnapshot, event: String) -> JSONObject {
        let counters = snapshot.counters
        return [
            "event": .string(event),
            "interval": .double(snapshot.intervalSeconds),
            "hashrate": .double(snapshot.intervalRate),
            "hashrateavg": .double(snapshot.averageRate),
            "hashes": .int(snapshot.hashes),
            "accepted": .int(counters.accepted),
            "rejected": .int(counters.rejected),
            "stale": .int(counters.stale),
            "hardwareerrors": .int(counters.hardwareErrors),
            "blocks": .int(counters.blocks),
            "skipped": .int(counters.skipped),
            "rejectedby": .object(JSONObject(counters.rejectedByReason.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value)) })),
            "difficulty": .double(snapshot.difficulty),
            "latencyms": snapshot.latencyLast.map(JSON.double) ?? .null,
            "latencyavgms": snapshot.latencyAverage.map(JSON.double) ?? .null,
            "devices": .array(snapshot.devices.map { ["name": .string($0.name), "hashrate": .double($0.hashesPerSecond)] }),
        ]
    }

    /// `(5s):12.3 MH/s (avg):12.1 MH/s | A:120 R:2 S:1 HW:0 [K:skipped, when any] | diff 3.2e+04 | ping 1.2 ms | dev: x MH/s, ...`
    public static func statusLine(_ snapshot: StatusSnapshot) -> String {
        let counters = snapshot.counters
        var line = "(\(Int(snapshot.intervalSeconds.rounded()))s):\(formatRate(snapshot.intervalRate)) "
            + "(avg):\(formatRate(snapshot.averageRate)) | A:\(counters.accepted) R:\(counters.rejected) S:\(counters.stale) "
            + "HW:\(counters.hardwareErrors)" + (counters.skipped > 0 ? " K:\(counters.skipped)" : "") + " | diff \(formatDifficulty(snapshot.difficulty)) | ping "
            + (snapshot.latencyAverage.map { String(format: "%.1f ms", $0) } ?? "-")
        if !snapshot.devices.isEmpty {
            line += " | " + snapshot.devices.map { "\($0.name): \(formatRate($0.hashesPerSecond))" }.joined(separator: ", ")
        }
        return line
    }

    /// Hashes per second with cgminer's units and one decimal.
    public static func formatRate(_ rate: Double) -> String {
        let units = ["H/s", "kH/s", "MH/s", "GH/s", "TH/s", "PH/s"]
        var value = rate.isFinite ? max(rate, 0) : 0
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return String(format: "%.1f", value) + " " + units[unit]
    }

    public static func formatDifficulty(_ value: Double) -> String { String(format: "%.1e", value) }
}
