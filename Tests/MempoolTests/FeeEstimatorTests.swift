import Foundation
@testable import Mempool
import Primitives
import Testing

/// The fee estimator on synthetic blocks: which fee rates confirm how fast.
@Suite struct FeeEstimatorTests {
    static let highRate: UInt64 = 50_000
    static let lowRate: UInt64 = 2_000

    static func txid(_ counter: inout UInt64) -> Hash256 {
        counter += 1
        var bytes = [UInt8](repeating: 0, count: 32)
        withUnsafeBytes(of: counter.littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        return Hash256(bytes: bytes)!
    }

    /// `blocks` blocks from height 101 on: each tip takes `perBlock` transactions at the high
    /// rate, which the next block confirms, and as many at the low rate, which confirm
    /// `lowDelay` blocks later; with `stuckShare`, that share of the low ones never confirm
    /// and, with `removeStuckAfter`, leave the pool (expired, replaced) that many blocks after
    /// entering. Then `drain` blocks with no new entries. Returns the tip.
    @discardableResult
    static func simulate(_ estimator: FeeEstimator, blocks: Int = 60, perBlock: Int = 8, lowDelay: UInt64 = 5,
                         stuckShare: Double = 0, removeStuckAfter: UInt64? = nil, drain: Int = 0) -> UInt64 {
        var counter: UInt64 = 0
        var confirming: [UInt64: [Hash256]] = [:]
        var leaving: [UInt64: [Hash256]] = [:]
        var tip: UInt64 = 100
        let stuckPerBlock = Int((Double(perBlock) * stuckShare).rounded())
        for step in 0..<(blocks + drain) {
            if step < blocks {
                for index in 0..<perBlock {
                    let high = txid(&counter), low = txid(&counter)
                    estimator.entered(txid: high, feeRate: highRate, height: tip)
                    estimator.entered(txid: low, feeRate: lowRate, height: tip)
                    confirming[tip + 1, default: []].append(high)
                    if index >= stuckPerBlock {
                        confirming[tip + lowDelay, default: []].append(low)
                    } else if let removeStuckAfter {
                        leaving[tip + removeStuckAfter, default: []].append(low)
                    }
                }
            }
            tip += 1
            estimator.blockConnected(height: tip, txids: confirming.removeValue(forKey: tip) ?? [])
            for txid in leaving.removeValue(forKey: tip) ?? [] { estimator.removed(txid: txid) }
        }
        return tip
    }

    @Test("without data there is no estimate, for any target or mode")
    func noData() {
        let estimator = FeeEstimator()
        for target in [1, 2, 6, 12, 144, 1_008, 5_000] {
            #expect(estimator.estimate(targetBlocks: target, conservative: false) == nil)
            #expect(estimator.estimate(targetBlocks: target, conservative: true) == nil)
        }
        // Blocks alone, with nothing watched, teach nothing either.
        for height in UInt64(1)...50 { estimator.blockConnected(height: height, txids: []) }
        #expect(estimator.estimate(targetBlocks: 6, conservative: false) == nil)
    }

    @Test("fee rates confirming next block answer short targets; slower cheaper ones answer longer targets")
    func learnsFromBlocks() throws {
        let estimator = FeeEstimator()
        Self.simulate(estimator)
        // Target 1 is answered for 2, as bitcoind does.
        let fast = try #require(estimator.estimate(targetBlocks: 1, conservative: false))
        #expect(fast == FeeEstimate(feeRate: Self.highRate, blocks: 2))
        #expect(estimator.estimate(targetBlocks: 2, conservative: false) == fast)
        // Low-rate transactions confirm within 5 blocks: enough for 12 (half of it, 6, too).
        let slow = try #require(estimator.estimate(targetBlocks: 12, conservative: false))
        #expect(slow == FeeEstimate(feeRate: Self.lowRate, blocks: 12))
        // Target 6 needs 3 at 60%: only the high rate confirms within 3.
        #expect(estimator.estimate(targetBlocks: 6, conservative: false)?.feeRate == Self.highRate)
        // Conservative is never below economical.
        for target in [1, 3, 6, 12, 20] {
            let economical = try #require(estimator.estimate(targetBlocks: target, conservative: false))
            let conservative = try #require(estimator.estimate(targetBlocks: target, conservative: true))
            #expect(conservative.feeRate >= economical.feeRate && conservative.blocks == economical.blocks)
        }
        // 60 blocks observed: targets beyond 29 are answered for 29.
        #expect(estimator.estimate(targetBlocks: 500, conservative: false)?.blocks == 29)
    }

    @Test("transactions that wait or leave unconfirmed count as failures at their fee rate")
    func failures() throws {
        // Half the low-rate transactions confirm within 5 blocks, as before, but the other
        // half stay in the pool: waiting counts against the low rate.
        let waiting = FeeEstimator()
        Self.simulate(waiting, stuckShare: 0.5)
        #expect(waiting.estimate(targetBlocks: 12, conservative: false)?.feeRate == Self.highRate)
        #expect(waiting.tracked.count == 4 * 60 + 4 * 4) // the stuck, and the last 4 blocks' low ones

        // The other half leave the pool 15 blocks after entering: failures for every target
        // up to 15, so 12 is not met at the low rate either.
        let leaving = FeeEstimator()
        Self.simulate(leaving, stuckShare: 0.5, removeStuckAfter: 15)
        #expect(leaving.estimate(targetBlocks: 12, conservative: false)?.feeRate == Self.highRate)
        #expect(leaving.tracked.count == 4 * 14 + 4 * 4)

        // The same confirmations without the stuck half do answer 12 with the low rate.
        let control = FeeEstimator()
        Self.simulate(control, perBlock: 4)
        #expect(control.estimate(targetBlocks: 12, conservative: false)?.feeRate == Self.lowRate)
    }

    @Test("blocks at or below the best seen are ignored, and so are entries on another tip")
    func staleBlocksAndTips() {
        let estimator = FeeEstimator()
        let tip = Self.simulate(estimator)
        let before = estimator.estimate(targetBlocks: 12, conservative: false)
        var counter: UInt64 = 9_000_000
        let late = Self.txid(&counter)
        estimator.entered(txid: late, feeRate: 1_000, height: tip - 3) // a stale tip: not watched
        #expect(estimator.tracked[late] == nil)
        estimator.blockConnected(height: tip, txids: []) // again: no decay, no change
        #expect(estimator.estimate(targetBlocks: 12, conservative: false) == before)
        #expect(estimator.bestSeenHeight == tip)
    }

    @Test("a transaction waiting maxTarget blocks is forgotten: memory stays bounded")
    func forgetsAfterMaxTarget() {
        let estimator = FeeEstimator()
        var counter: UInt64 = 0
        let old = Self.txid(&counter)
        estimator.entered(txid: old, feeRate: 5_000, height: 10)
        var height: UInt64 = 10
        while height < 10 + UInt64(FeeEstimator.maxTarget) - 1 {
            height += 1
            estimator.blockConnected(height: height, txids: [])
        }
        #expect(estimator.tracked[old] != nil)
        estimator.blockConnected(height: height + 1, txids: [])
        #expect(estimator.tracked[old] == nil && estimator.trackedByHeight.isEmpty)
        #expect(estimator.waiting.allSatisfy { $0.allSatisfy { $0 == 0 } })
        // It counted as failing every target at its rate.
        let bucket = FeeBuckets.index(of: 5_000)
        #expect(estimator.horizons.allSatisfy { stats in stats.failed.allSatisfy { $0[bucket] > 0 } })
    }

    @Test("buckets are exponentially spaced from 1,000 to 10,000,000 per kB")
    func buckets() {
        #expect(FeeBuckets.upperBounds.first == 1_000 && FeeBuckets.upperBounds.last == .infinity)
        #expect(FeeBuckets.count == 190)
        #expect(FeeBuckets.index(of: 0) == 0 && FeeBuckets.index(of: 1_000) == 0 && FeeBuckets.index(of: 1_001) == 1)
        #expect(FeeBuckets.index(of: 1_050) == 1 && FeeBuckets.index(of: .max) == FeeBuckets.count - 1)
        let bounds = FeeBuckets.upperBounds.dropLast()
        #expect(zip(bounds, bounds.dropFirst()).allSatisfy { abs($1 / $0 - 1.05) < 1e-9 })
    }

    static func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-fees-\(UUID().uuidString).dat").path
    }

    @Test("save then load gives the same estimates, and the file is private")
    func roundTrip() throws {
        let estimator = FeeEstimator()
        Self.simulate(estimator, drain: 6) // nothing left waiting: the pool is not saved
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try estimator.save(to: path)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        let loaded = FeeEstimator()
        try loaded.load(from: path)
        for target in [1, 2, 3, 6, 12, 24, 48, 100] {
            for conservative in [false, true] {
                let original = estimator.estimate(targetBlocks: target, conservative: conservative)
                #expect(original != nil)
                #expect(loaded.estimate(targetBlocks: target, conservative: conservative) == original)
            }
        }
        // Saving the loaded one writes the same statistics again.
        let again = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: again) }
        try loaded.save(to: again)
        #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: path))
    }

    @Test("a damaged or foreign file is refused with its problem named, and nothing changes")
    func corruptFiles() throws {
        let estimator = FeeEstimator()
        Self.simulate(estimator, drain: 6)
        let good = estimator.encodeFile()
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }

        func resealed(_ bytes: [UInt8]) -> [UInt8] {
            let body = Array(bytes.dropLast(32))
            return body + PoolFiles.checksum(body)
        }
        var badMagic = good
        badMagic[0] ^= 0xFF
        var badVersion = good
        badVersion[8] = 9
        var flipped = good
        flipped[good.count / 2] ^= 0x01
        var badBuckets = good
        badBuckets[28] &+= 1 // bucket count, after magic, version and the two heights
        var negative = good
        let firstValue = 8 + 4 + 16 + 4 + 4 + 4 + 4 + 8 // the first f64 of the first horizon
        withUnsafeBytes(of: (-1.0).bitPattern.littleEndian) { negative.replaceSubrange(firstValue..<(firstValue + 8), with: $0) }
        let cases: [(String, [UInt8], String)] = [
            ("empty", [], "truncated"),
            ("bad magic", badMagic, "bad magic"),
            ("unknown version", badVersion, "unsupported version 9"),
            ("truncated", Array(good.prefix(good.count - 100)), "checksum mismatch"),
            ("flipped bit", flipped, "checksum mismatch"),
            ("other buckets", resealed(badBuckets), "fee-rate buckets"),
            ("negative count", resealed(negative), "is not a count"),
            ("trailing bytes", resealed(Array(good.dropLast(32)) + [0, 0, 0] + [UInt8](repeating: 0, count: 32)), "bytes after"),
        ]
        let fresh = FeeEstimator()
        for (name, bytes, message) in cases {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                try fresh.load(from: path)
                Issue.record("\(name): loaded")
            } catch let error as PoolFileError {
                #expect(error.description.contains(message), "\(name): \(error)")
                #expect(error.path == path)
            }
            #expect(fresh.estimate(targetBlocks: 2, conservative: false) == nil, "\(name) changed the estimator")
        }
        #expect(throws: PoolFileError.self) { try fresh.load(from: path + ".missing") }
    }
}
