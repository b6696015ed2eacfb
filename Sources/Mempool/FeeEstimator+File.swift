// fee_estimates.dat (docs/PROTOCOL.md 14.9), little-endian:
//
//     magic "RUSTYFEE" (8) | version u32 = 1 | first height u64 | best height u64
//     bucket count u32 | horizon count u32
//     per horizon: scale u32 | periods u32 | decay f64
//         confirmed [periods][buckets] f64 | failed [periods][buckets] f64
//         total [buckets] f64 | fee-rate sum [buckets] f64
//     BLAKE3 of everything before (32)
//
// f64 values are IEEE 754 bit patterns. Transactions waiting in the pool are not saved (the
// pool is re-validated at start and they enter again).

import Foundation
import Primitives

extension FeeEstimator {
    static let fileMagic = Array("RUSTYFEE".utf8)
    static let fileVersion: UInt32 = 1

    /// fee_estimates.dat in the datadir, written atomically at shutdown and read at start.
    public func save(to path: String) throws {
        try PoolFiles.writeAtomically(encodeFile(), to: path)
    }

    /// Replaces the statistics with the file's; a missing, corrupt or foreign file throws an
    /// error naming what is wrong and changes nothing.
    public func load(from path: String) throws {
        guard let bytes = try PoolFiles.read(path) else {
            throw PoolFileError(path: path, problem: "no such file")
        }
        let (span, loaded) = try Self.decodeFile(bytes, path: path)
        lock.withLock {
            horizons = loaded
            historicalFirst = span.first
            historicalBest = span.best
            hasStatistics = true
        }
    }

    func encodeFile() -> [UInt8] {
        var writer = ByteWriter(capacity: 300_000)
        lock.withLock {
            writer.write(bytes: Self.fileMagic)
            writer.write(Self.fileVersion)
            // The longer of this run's span and the loaded history (Bitcoin Core's choice).
            let span = firstRecordedHeight == 0 ? 0 : bestSeenHeight - firstRecordedHeight
            let historical = historicalBest >= historicalFirst ? historicalBest - historicalFirst : 0
            if span > historical / 2 {
                writer.write(firstRecordedHeight)
                writer.write(bestSeenHeight)
            } else {
                writer.write(historicalFirst)
                writer.write(historicalBest)
            }
            writer.write(UInt32(FeeBuckets.count))
            writer.write(UInt32(horizons.count))
            for stats in horizons {
                writer.write(UInt32(stats.scale))
                writer.write(UInt32(stats.periods))
                writer.write(stats.decay.bitPattern)
                for row in stats.confirmed + stats.failed + [stats.total, stats.feeRateSum] {
                    for value in row { writer.write(value.bitPattern) }
                }
            }
        }
        var bytes = writer.bytes
        bytes += PoolFiles.checksum(bytes)
        return bytes
    }

    static func decodeFile(_ bytes: [UInt8], path: String) throws -> (span: (first: UInt64, best: UInt64), horizons: [ConfirmationStats]) {
        func corrupt(_ problem: String) -> PoolFileError { PoolFileError(path: path, problem: problem) }
        var reader = try PoolFiles.openSealed(bytes, path: path, kind: "fee_estimates.dat", magic: fileMagic, version: fileVersion,
                                              headerBytes: fileMagic.count + 4)
        do {
            let first = try reader.readUInt64("first height"), best = try reader.readUInt64("best height")
            guard first <= best else { throw corrupt("first height \(first) above best height \(best)") }
            let buckets = try reader.readUInt32("bucket count")
            guard buckets == FeeBuckets.count else {
                throw corrupt("\(buckets) fee-rate buckets where this node uses \(FeeBuckets.count)")
            }
            var expected = ConfirmationStats.horizons()
            let horizonCount = try reader.readUInt32("horizon count")
            guard horizonCount == expected.count else {
                throw corrupt("\(horizonCount) horizons where this node uses \(expected.count)")
            }
            for index in expected.indices {
                let scale = try reader.readUInt32("horizon \(index) scale")
                let periods = try reader.readUInt32("horizon \(index) periods")
                let decay = Double(bitPattern: try reader.readUInt64("horizon \(index) decay"))
                guard scale == expected[index].scale, periods == expected[index].periods, decay == expected[index].decay else {
                    throw corrupt("horizon \(index) is \(periods) periods of \(scale) blocks decaying by \(decay), "
                                  + "where this node uses \(expected[index].periods) of \(expected[index].scale) decaying by \(expected[index].decay)")
                }
                func row(_ name: String) throws -> [Double] {
                    try (0..<Int(buckets)).map { bucket in
                        let value = Double(bitPattern: try reader.readUInt64("horizon \(index) \(name)"))
                        guard value.isFinite, value >= 0 else {
                            throw corrupt("horizon \(index) \(name), bucket \(bucket): \(value) is not a count")
                        }
                        return value
                    }
                }
                expected[index].confirmed = try (0..<Int(periods)).map { try row("confirmed, period \($0)") }
                expected[index].failed = try (0..<Int(periods)).map { try row("failed, period \($0)") }
                expected[index].total = try row("total")
                expected[index].feeRateSum = try row("fee-rate sum")
            }
            guard reader.isAtEnd else { throw corrupt("\(reader.remaining) bytes after the statistics") }
            return ((first, best), expected)
        } catch let error as PoolFileError {
            throw error
        } catch {
            throw corrupt("truncated or malformed: \(error)")
        }
    }
}
