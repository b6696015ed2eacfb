import Foundation

/// A run of consecutive work units, as offsets from the start of the work.
public struct WorkSlice: Sendable, Equatable {
    public let start: UInt64
    public let count: UInt64

    public init(start: UInt64, count: UInt64) {
        self.start = start
        self.count = count
    }

    /// The offsets as an `Int` range (for work that indexes an array).
    public var indices: Range<Int> { Int(start)..<Int(start + count) }
}

/// Hands out consecutive slices of `0..<total` to devices that pull them, each asking for
/// as many units as its calibrated launch holds; every unit goes to exactly one slice.
/// `limit`, when given, may shorten a slice (e.g. to bound its bytes): it gets the slice's
/// start and the units wanted and returns how many to take, at least one.
public final class WorkCursor: @unchecked Sendable {
    public let total: UInt64
    private let limit: (@Sendable (UInt64, UInt64) -> UInt64)?
    private let lock = NSLock()
    private var next: UInt64 = 0
    private var done: UInt64 = 0
    private var cancelled = false

    public init(total: UInt64, limit: (@Sendable (_ start: UInt64, _ wanted: UInt64) -> UInt64)? = nil) {
        self.total = total
        self.limit = limit
    }

    /// The next slice of at most `wanted` units (at least one), or nil when none is left
    /// or the work was cancelled.
    public func take(_ wanted: UInt64) -> WorkSlice? {
        lock.withLock {
            guard !cancelled, next < total else { return nil }
            var count = min(max(wanted, 1), total - next)
            if let limit { count = min(count, max(1, limit(next, count))) }
            let slice = WorkSlice(start: next, count: count)
            next += count
            return slice
        }
    }

    /// Adds `count` finished units; returns the total finished so far (for progress).
    public func finished(_ count: UInt64) -> UInt64 { lock.withLock { done += count; return done } }

    /// Stops handing out slices (after a device failed).
    public func cancel() { lock.withLock { cancelled = true } }
}
