import ChainState
import Foundation
import Primitives
import ProofOfWorkSearch

/// Searches a template's nonce space in rounds. Each round is one range handed to the
/// searcher (which splits it over its devices and threads without overlap); between rounds
/// the miner checks for a stop request and rolls the time, and when the 2^64 nonces of a
/// header are used up it rolls the extra nonce.
public final class Miner {
    public let searcher: any PoWSearcher
    /// Nonces per round; sized so a round takes a fraction of a second on the searcher.
    public var roundSize: UInt64
    public private(set) var hashes: UInt64 = 0
    public private(set) var seconds: Double = 0

    public init(searcher: any PoWSearcher, roundSize: UInt64 = 1 << 24) {
        self.searcher = searcher
        self.roundSize = max(1, roundSize)
    }

    public struct Solution: Sendable {
        public var block: Block
        public var hash: Hash256
        public var hashesTried: UInt64
    }

    /// Finds a block for `template`, or nil when `shouldStop` turns true first.
    /// `clock` returns the current time (for rolling the header time); `report` is called
    /// after every round with the total nonces tried so far and the seconds spent.
    public func solve(_ template: BlockTemplate, clock: () -> UInt64, shouldStop: () -> Bool,
                      report: (UInt64, Double) -> Void = { _, _ in }) throws -> Solution? {
        var template = template
        var next: UInt64 = 0
        var tried: UInt64 = 0
        // On easy targets a full round would find (and check) thousands of solutions:
        // start near the expected number of hashes per block and grow from there.
        let expected = ProofOfWork.work(target: template.target).approximateDouble
        var size = UInt64(max(256, min(Double(roundSize), expected * 2)))
        while !shouldStop() {
            let count = next > UInt64.max - (size - 1) ? UInt64.max - next + 1 : size
            let range = NonceRange(start: next, count: count)!
            let job = PoWJob(header: template.header.encoded, target: template.target)
            let began = DispatchTime.now().uptimeNanoseconds
            let hits = try searcher.search(job, range: range)
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            tried += count
            hashes += count
            seconds += elapsed
            // Aim for rounds of about half a second.
            if elapsed > 0 {
                let ideal = Double(count) * 0.5 / elapsed
                roundSize = UInt64(max(4096, min(Double(1 << 40), ideal)))
                size = min(roundSize, size * 4)
            }
            report(hashes, seconds)
            if let hit = hits.first {
                return Solution(block: template.block(nonce: hit.nonce), hash: hit.hash, hashesTried: tried)
            }
            if range.last == UInt64.max {
                template.rollExtraNonce()
                next = 0
            } else {
                next = range.last! + 1
            }
            // A newer time keeps the block's timestamp honest during long searches.
            let now = clock()
            if now > template.header.time {
                template.roll(time: now)
            }
        }
        return nil
    }
}
