// Per-connection variable difficulty: retargets each connection's share difficulty so it
// sends about `targetSharesPerSecond`, whatever its hashrate. Enough shares to measure, few
// enough that a pool of many machines is cheap to serve.

/// The knobs, shared by every connection of a server.
public struct VariableDifficultySettings: Sendable, Equatable {
    public var initial: Double
    public var minimum: Double
    public var maximum: Double
    public var targetSharesPerSecond: Double
    /// Shortest window a retarget is measured over (seconds), unless shares come far too fast.
    public var windowSeconds: Double

    public init(initial: Double, minimum: Double, maximum: Double, targetSharesPerSecond: Double = 2, windowSeconds: Double = 5) {
        self.minimum = max(minimum, .leastNormalMagnitude)
        self.maximum = max(maximum, self.minimum)
        self.initial = min(max(initial, self.minimum), self.maximum)
        self.targetSharesPerSecond = targetSharesPerSecond
        self.windowSeconds = windowSeconds
    }
}

/// One connection's difficulty. Clock values are seconds on any monotonic clock.
public struct VariableDifficulty: Sendable {
    public let settings: VariableDifficultySettings
    public private(set) var difficulty: Double
    private var windowStart: Double
    private var sharesInWindow = 0

    /// Largest single step down (a quiet miner), and up when only the window's length was waited.
    public static let maxStepDown = 4.0
    /// Largest step up at once: shares far too fast (a GPU on the starting difficulty) are
    /// brought down to the target rate in one or two retargets.
    public static let maxStepUp = 1024.0
    /// Inside [1/band, band] of the target rate nothing changes (no flapping on noise).
    public static let band = 2.0

    public init(settings: VariableDifficultySettings, now: Double) {
        self.settings = settings
        difficulty = settings.initial
        windowStart = now
    }

    /// Counts a good share; returns the new difficulty when this share triggers a retarget.
    public mutating func recordShare(at now: Double) -> Double? {
        sharesInWindow += 1
        let elapsed = now - windowStart
        // Far too many shares: retarget before the window ends (a flood costs the server).
        let flood = Double(sharesInWindow) >= settings.targetSharesPerSecond * settings.windowSeconds * 4 && elapsed > 0
        guard elapsed >= settings.windowSeconds || flood else { return nil }
        return retarget(rate: Double(sharesInWindow) / max(elapsed, 1e-3), now: now)
    }

    /// Called now and then without shares: a connection that found nothing for several
    /// windows gets an easier difficulty. Returns the new difficulty when it changed.
    public mutating func idle(at now: Double) -> Double? {
        let elapsed = now - windowStart
        guard elapsed >= settings.windowSeconds * 3 else { return nil }
        // No share at all: assume at most one share in the window, which steps down.
        return retarget(rate: Double(max(sharesInWindow, 0)) / elapsed, now: now)
    }

    private mutating func retarget(rate: Double, now: Double) -> Double? {
        let ratio = rate / settings.targetSharesPerSecond
        windowStart = now
        sharesInWindow = 0
        guard ratio > Self.band || ratio < 1 / Self.band else { return nil }
        let step = min(max(ratio, 1 / Self.maxStepDown), Self.maxStepUp)
        let next = min(max(difficulty * step, settings.minimum), settings.maximum)
        guard next != difficulty else { return nil }
        difficulty = next
        return next
    }
}
