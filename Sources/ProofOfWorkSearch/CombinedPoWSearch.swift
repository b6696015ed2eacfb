import Foundation

/// Several backends searching one range at once (OpenCL devices and CPU threads): the range
/// is cut into consecutive, disjoint pieces proportional to each backend's measured speed,
/// so no nonce is tried twice and all finish at about the same time.
public final class CombinedPoWSearch: PoWSearcher, @unchecked Sendable {
    public let members: [any PoWSearcher]
    private let lock = NSLock()
    private var rates: [Double]
    private var lastCounts: [UInt64]

    public init(_ members: [any PoWSearcher]) {
        precondition(!members.isEmpty)
        self.members = members
        rates = Array(repeating: 1, count: members.count)
        lastCounts = Array(repeating: 0, count: members.count)
    }

    public var name: String { members.map(\.name).joined(separator: " + ") }

    /// Nonces per second each member reached in the last search.
    public var memberRates: [(name: String, hashesPerSecond: Double)] {
        lock.lock(); defer { lock.unlock() }
        return zip(members.map(\.name), rates).map { ($0, $1) }
    }

    /// Consecutive, disjoint pieces of `range`, sized by `weights`; together exactly `range`.
    public static func split(_ range: NonceRange, weights: [Double]) -> [NonceRange] {
        let total = weights.reduce(0, +)
        var pieces = [NonceRange]()
        var start = range.start
        var remaining = range.count
        for (index, weight) in weights.enumerated() {
            let share: UInt64
            if index == weights.count - 1 {
                share = remaining
            } else {
                share = min(remaining, UInt64(Double(range.count) * (total > 0 ? weight / total : 1 / Double(weights.count))))
            }
            pieces.append(NonceRange(start: start, count: share)!)
            start &+= share // wraps only after the last piece, when it is no longer used
            remaining -= share
        }
        return pieces
    }

    public func search(_ job: PoWJob, range: NonceRange, progress: (@Sendable (UInt64) -> Void)?) throws -> [PoWHit] {
        let pieces = Self.split(range, weights: lock.withLock { rates })
        let results = UnsafeResults(count: members.count)
        DispatchQueue.concurrentPerform(iterations: members.count) { index in
            let began = DispatchTime.now().uptimeNanoseconds
            let outcome = Result { try members[index].search(job, range: pieces[index], progress: nil) }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            results.set(index, outcome, rate: seconds > 0 && pieces[index].count > 0 ? Double(pieces[index].count) / seconds : nil)
            progress?(pieces[index].count)
        }
        lock.withLock {
            for index in members.indices { if let rate = results.rates[index] { rates[index] = rate } }
        }
        var hits = [PoWHit]()
        for outcome in results.outcomes { hits += try outcome!.get() }
        return hits.sorted()
    }

    final class UnsafeResults: @unchecked Sendable {
        private let lock = NSLock()
        var outcomes: [Result<[PoWHit], Error>?]
        var rates: [Double?]
        init(count: Int) {
            outcomes = Array(repeating: nil, count: count)
            rates = Array(repeating: nil, count: count)
        }
        func set(_ index: Int, _ outcome: Result<[PoWHit], Error>, rate: Double?) {
            lock.withLock { outcomes[index] = outcome; rates[index] = rate }
        }
    }
}
