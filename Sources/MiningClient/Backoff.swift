// Reconnect delays for a pool or node that went away: exponential with jitter, capped, and
// reset once a connection has worked for a while (cgminer's habit), so a restarting pool is
// not hammered by every miner at once.

public struct ReconnectBackoff: Sendable {
    public let initialSeconds: Double
    public let maximumSeconds: Double
    public private(set) var failures = 0

    public init(initialSeconds: Double = 1, maximumSeconds: Double = 60) {
        self.initialSeconds = initialSeconds
        self.maximumSeconds = max(maximumSeconds, initialSeconds)
    }

    /// The wait before the next attempt: doubles per failure up to the cap, then +-20% jitter.
    public mutating func nextDelay(jitter: Double = Double.random(in: -1...1)) -> Double {
        let base = min(maximumSeconds, initialSeconds * Double(1 << min(failures, 30)))
        failures += 1
        return max(0, base * (1 + 0.2 * min(max(jitter, -1), 1)))
    }

    /// A connection that lasted (or, for a pool, got a share accepted) resets the schedule.
    public mutating func succeeded() { failures = 0 }
}
