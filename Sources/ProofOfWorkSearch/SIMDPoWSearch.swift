import BLAKE3
import Foundation
import OpenCLRuntime
import Primitives

/// `--backend simd`: the C SIMD nonce search (`BLAKE3.powSearch`, several nonces per
/// compression at the best BLAKE3 level) on every core, the range split into chunks that
/// the threads take in turn. Each hit is re-hashed and confirmed with `ProofOfWork.meets`.
public struct SIMDPoWSearch: PoWSearcher {
    public let threads: Int
    public let level: BLAKE3Level

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount, level: BLAKE3Level = .default) {
        self.threads = max(1, threads)
        self.level = level
    }

    public var name: String { "simd(\(level), \(threads) threads)" }

    public func search(_ job: PoWJob, range: NonceRange, progress: (@Sendable (UInt64) -> Void)?) throws -> [PoWHit] {
        guard range.count > 0 else { return [] }
        let chunk = max(UInt64(1 << 18), range.count / UInt64(threads * 16))
        let chunks = Int((range.count - 1) / chunk + 1)
        let state = ThreadedPoWSearch.SharedState()
        let target = job.target.bigEndianBytes
        let midstate = job.midstate.words
        DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
            var local = [PoWHit]()
            while let index = state.next(limit: chunks) {
                let first = range.start + UInt64(index) * chunk
                let count = min(chunk, range.count - UInt64(index) * chunk)
                var found = BLAKE3.powSearch(midstate: midstate, secondBlock: job.secondBlock, start: first, count: count,
                                             target: target, maxResults: 256, level: level)
                if found.total > found.nonces.count {
                    // More hits than the buffer held: run the chunk again with room for all.
                    found = BLAKE3.powSearch(midstate: midstate, secondBlock: job.secondBlock, start: first, count: count,
                                             target: target, maxResults: found.total, level: level)
                }
                for nonce in found.nonces {
                    if let hit = job.check(nonce: nonce) { local.append(hit) }
                }
                progress?(state.finished(count))
            }
            state.add(local)
        }
        return state.hits.sorted()
    }
}
