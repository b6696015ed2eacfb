import Foundation

/// Busy time (and call count) per stage, added from any thread.
final class StageClock: @unchecked Sendable {
    private let lock = NSLock()
    private var nanos: [String: UInt64] = [:]
    private var counts: [String: Int] = [:]

    /// Now, in the clock's unit.
    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }

    func add(_ stage: String, _ elapsed: UInt64) {
        lock.lock()
        nanos[stage, default: 0] += elapsed
        counts[stage, default: 0] += 1
        lock.unlock()
    }

    /// Adds the time since `started`.
    func add(_ stage: String, since started: UInt64) { add(stage, Self.now - started) }

    func measure<T>(_ stage: String, _ body: () throws -> T) rethrows -> T {
        let started = Self.now
        defer { add(stage, since: started) }
        return try body()
    }

    func count(_ stage: String) -> Int { lock.lock(); defer { lock.unlock() }; return counts[stage] ?? 0 }

    func snapshot() -> [String: Double] {
        lock.lock()
        defer { lock.unlock() }
        var out = [String: Double]()
        for stage in ["read", "contextFree", "utxo", "signatures", "commit", "waitInput", "waitSignatures"] {
            out[stage] = Double(nanos[stage] ?? 0) / 1e9
        }
        return out
    }
}
