import BLAKE3
import Foundation
import OpenCLRuntime
import Primitives

/// A second CPU reference: the range split across threads, each running the scalar
/// compression per nonce (no SIMD lanes). Candidates pass a 64-bit prefix test and are then
/// confirmed with `ProofOfWork.meets` on the full hash. `--backend simd` uses
/// `SIMDPoWSearch`; this one is kept for the tests and for checking it.
public struct ThreadedPoWSearch: PoWSearcher {
    public let threads: Int

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.threads = max(1, threads)
    }

    public var name: String { "cpu-threads(\(threads), scalar compression)" }

    public func search(_ job: PoWJob, range: NonceRange, progress: (@Sendable (UInt64) -> Void)?) throws -> [PoWHit] {
        guard range.count > 0 else { return [] }
        let chunk = max(UInt64(1 << 16), range.count / UInt64(threads * 16))
        let chunks = Int((range.count - 1) / chunk + 1)
        let state = SharedState()
        let topLimb = job.target.limbs.3
        DispatchQueue.concurrentPerform(iterations: min(threads, chunks)) { _ in
            var cv = [UInt32](repeating: 0, count: 8)
            var block = job.secondBlock
            let midstate = job.midstate.words
            var local = [PoWHit]()
            while let index = state.next(limit: chunks) {
                let first = range.start + UInt64(index) * chunk
                let count = min(chunk, range.count - UInt64(index) * chunk)
                var nonce = first
                for _ in 0..<count {
                    PoWJob.setNonce(nonce, in: &block)
                    for i in 0..<8 { cv[i] = midstate[i] }
                    block.withUnsafeBytes { bytes in
                        BLAKE3.compress(chainingValue: &cv, block: bytes.baseAddress!, blockLength: 64, counter: 0,
                                        flags: BLAKE3.Flag.chunkEnd | BLAKE3.Flag.root)
                    }
                    // Hash bytes 0..7 read big-endian: the target's top 64 bits decide most nonces.
                    let top = UInt64(cv[0].byteSwapped) << 32 | UInt64(cv[1].byteSwapped)
                    if top <= topLimb {
                        let hash = cv.withUnsafeBytes { Hash256($0) }
                        if ProofOfWork.meets(hash, target: job.target) { local.append(PoWHit(nonce: nonce, hash: hash)) }
                    }
                    nonce &+= 1
                }
                let done = state.finished(count)
                progress?(done)
            }
            state.add(local)
        }
        return state.hits.sorted()
    }

    final class SharedState: @unchecked Sendable {
        private let lock = NSLock()
        private var cursor = 0
        private var done: UInt64 = 0
        private(set) var hits = [PoWHit]()

        func next(limit: Int) -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard cursor < limit else { return nil }
            cursor += 1
            return cursor - 1
        }

        func finished(_ count: UInt64) -> UInt64 {
            lock.lock(); defer { lock.unlock() }
            done += count
            return done
        }

        func add(_ more: [PoWHit]) {
            lock.lock(); defer { lock.unlock() }
            hits += more
        }
    }
}
