import BLAKE3
import Dispatch
import Foundation
import Testing
import TestSupport

/// Every SIMD level against the portable scalar code on the same inputs.
struct BLAKE3DifferentialTests {
    static let simdLevels = BLAKE3Level.supported.filter { $0 != .scalar }

    /// Hashes `input` with updates split at `splits` (sorted offsets), keyed when `key` is given.
    static func digest(_ input: [UInt8], level: BLAKE3Level, splits: [Int] = [], key: [UInt8]? = nil, count: Int = 32) -> [UInt8] {
        var hasher = key.map { BLAKE3Hasher(key: $0, level: level) } ?? BLAKE3Hasher(level: level)
        #expect(hasher.level == level, "the hasher runs the level it was given")
        var start = 0
        input.withUnsafeBytes { bytes in
            for split in splits + [input.count] where split >= start {
                hasher.update(UnsafeRawBufferPointer(rebasing: bytes[start..<split]))
                start = split
            }
        }
        return hasher.finalize(count: count)
    }

    @Test("every length 0...4200, one update and random splits", arguments: simdLevels)
    func everyShortLength(level: BLAKE3Level) {
        var rng = SeededGenerator(testSeed: 0xB1A4E3)
        let data = rng.bytes(4200)
        for length in 0...4200 {
            let input = Array(data[0..<length])
            let reference = Self.digest(input, level: .scalar)
            #expect(Self.digest(input, level: level) == reference, "length \(length)")
            if length % 7 == 0 {
                let splits = (0..<3).map { _ in Int.random(in: 0...length, using: &rng) }.sorted()
                #expect(Self.digest(input, level: level, splits: splits) == reference, "length \(length) splits \(splits)")
            }
        }
    }

    @Test("around every chunk boundary up to 64 KiB, with random splits and keyed mode", arguments: simdLevels)
    func chunkBoundaries(level: BLAKE3Level) {
        var rng = SeededGenerator(testSeed: 0xC4C4)
        let data = rng.bytes(64 * 1024 + 1)
        let key = rng.bytes(32)
        for chunks in 1...64 {
            for delta in [-1, 0, 1] {
                let length = chunks * 1024 + delta
                guard length <= data.count else { continue }
                let input = Array(data[0..<length])
                #expect(Self.digest(input, level: level) == Self.digest(input, level: .scalar), "length \(length)")
                let splits = (0..<4).map { _ in Int.random(in: 0...length, using: &rng) }.sorted()
                #expect(Self.digest(input, level: level, splits: splits, key: key, count: 100)
                        == Self.digest(input, level: .scalar, key: key, count: 100), "keyed length \(length) splits \(splits)")
            }
        }
    }

    @Test("large input fed in odd-sized pieces", arguments: simdLevels)
    func largeInput(level: BLAKE3Level) {
        var rng = SeededGenerator(testSeed: 77)
        let input = rng.bytes(1 << 20 | 12345)
        let splits = stride(from: 0, to: input.count, by: 65_537).map { $0 }
        #expect(Self.digest(input, level: level, splits: splits) == Self.digest(input, level: .scalar))
    }

    /// `rusty hash` feeds a mapped file in power-of-two windows (4 MiB), so every update but the
    /// last ends exactly on a subtree boundary and may leave the chunk state empty. Smaller
    /// windows here give the same shapes (an update consumed whole, the next one starting
    /// aligned, a last window of 0, 1 or many bytes) on sizes around the windows and chunks.
    @Test("updates in power-of-two windows, sizes around window and chunk boundaries", arguments: simdLevels)
    func powerOfTwoWindows(level: BLAKE3Level) {
        var rng = SeededGenerator(testSeed: 0x4D1B)
        let data = rng.bytes((1 << 20) + 1)
        let sizes = [0, 1, 1023, 1024, 1025, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1,
                     64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 3 * 64 * 1024 + 1, (1 << 20) + 1]
        for window in [1024, 16 * 1024, 64 * 1024] {
            for length in sizes {
                let input = Array(data[0..<length])
                let splits = stride(from: window, to: length, by: window).map { $0 }
                #expect(Self.digest(input, level: level, splits: splits) == Self.digest(input, level: .scalar),
                        "length \(length), window \(window)")
            }
        }
    }

    @Test("single-block batch: 1...100 messages of every length 0...64, plain and keyed", arguments: BLAKE3Level.supported)
    func singleBlockBatch(level: BLAKE3Level) {
        var rng = SeededGenerator(testSeed: 0x5EED)
        let key = rng.bytes(32)
        for count in 1...100 {
            for length in [0, 1, 31, 32, 33, 63, 64] + [Int.random(in: 0...64, using: &rng)] {
                let stride = 64 + Int.random(in: 0...3, using: &rng)
                let messages = rng.bytes(max(1, count * stride))
                for keyed in [false, true] {
                    var output = [UInt8](repeating: 0, count: count * 32)
                    let ran = messages.withUnsafeBytes { input in
                        output.withUnsafeMutableBytes { out in
                            BLAKE3.hashManySingleBlockReporting(messages: input.baseAddress!, stride: stride, length: length, count: count,
                                                       key: keyed ? key : nil, output: out.baseAddress!, level: level)
                        }
                    }
                    // The C code reports the implementation it dispatched to: this test
                    // really exercised `level`, whatever runs beside it.
                    #expect(ran == level, "count \(count) len \(length)")
                    for i in 0..<count {
                        let message = Array(messages[i * stride..<i * stride + length])
                        let expected = keyed ? BLAKE3.keyedHash(key: key, message, level: .scalar) : BLAKE3.hash(message, level: .scalar)
                        #expect(Array(output[i * 32..<(i + 1) * 32]) == expected, "count \(count) len \(length) item \(i) keyed \(keyed)")
                    }
                }
            }
        }
    }

    @Test("Merkle level in place and out of place, 1...300 nodes", arguments: BLAKE3Level.supported)
    func merkleLevel(level: BLAKE3Level) {
        var rng = SeededGenerator(testSeed: 0x3E4C)
        let key = rng.bytes(32)
        for nodeCount in 1...300 {
            let nodes = rng.bytes(nodeCount * 32)
            var expected = [UInt8]()
            for pair in stride(from: 0, to: nodeCount, by: 2) {
                if pair + 1 < nodeCount {
                    expected += BLAKE3.keyedHash(key: key, nodes[pair * 32..<(pair + 2) * 32], level: .scalar)
                } else {
                    expected += nodes[pair * 32..<(pair + 1) * 32]
                }
            }
            var outOfPlace = [UInt8](repeating: 0, count: (nodeCount + 1) / 2 * 32)
            var inPlace = nodes
            key.withUnsafeBytes { keyBytes in
                nodes.withUnsafeBytes { input in
                    outOfPlace.withUnsafeMutableBytes { out in
                        let ran = BLAKE3.merkleLevelReporting(nodes: input.baseAddress!, nodeCount: nodeCount, key: keyBytes.baseAddress!,
                                                     output: out.baseAddress!, level: level)
                        #expect(ran == (nodeCount > 1 ? level : .scalar), "nodes \(nodeCount)")
                    }
                }
                inPlace.withUnsafeMutableBytes { buffer in
                    BLAKE3.merkleLevel(nodes: buffer.baseAddress!, nodeCount: nodeCount, key: keyBytes.baseAddress!,
                                       output: buffer.baseAddress!, level: level)
                }
            }
            #expect(outOfPlace == expected, "nodes \(nodeCount)")
            #expect(Array(inPlace[0..<expected.count]) == expected, "in place, nodes \(nodeCount)")
        }
    }

    @Test("calls at every level at once each run their own level (no process-wide level) and agree")
    func concurrentLevelsRunTheirOwn() {
        #expect(BLAKE3Level.default == BLAKE3Level.detected)
        let levels = BLAKE3Level.supported
        var rng = SeededGenerator(testSeed: 0x1E7E1)
        let messages = rng.bytes(64 * 64)
        let reference = Array((0..<64).map { BLAKE3.hash(messages[$0 * 64..<($0 + 1) * 64], level: .scalar) }.joined())
        // Threads interleave the levels; a shared mutable level would make some call run
        // another thread's level, which the per-call report would show.
        let failures = NSLock(), failureCount = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        failureCount.initialize(to: 0)
        defer { failureCount.deallocate() }
        let counter = SendablePointer(failureCount)
        DispatchQueue.concurrentPerform(iterations: levels.count * 50) { index in
            let level = levels[index % levels.count]
            var output = [UInt8](repeating: 0, count: 64 * 32)
            let ran = messages.withUnsafeBytes { input in
                output.withUnsafeMutableBytes { out in
                    BLAKE3.hashManySingleBlockReporting(messages: input.baseAddress!, stride: 64, length: 64, count: 64,
                                               output: out.baseAddress!, level: level)
                }
            }
            if ran != level || output != reference { failures.withLock { counter.pointer.pointee += 1 } }
        }
        #expect(failureCount.pointee == 0)
        // A level above the CPU's runs the best one it has, and says so.
        var one = [UInt8](repeating: 0, count: 32)
        let clamped = messages.withUnsafeBytes { input in
            one.withUnsafeMutableBytes { BLAKE3.hashManySingleBlockReporting(messages: input.baseAddress!, stride: 64, length: 64, count: 1,
                                                                     output: $0.baseAddress!, level: .avx512) }
        }
        #expect(clamped == BLAKE3Level.detected)
        #expect(BLAKE3Level.supported.first == .scalar)
        #expect(BLAKE3Level(name: "sse4.1") == .sse41)
        #expect(BLAKE3Level(name: "mmx") == nil)
    }
}

/// Multi-threaded hashing of one input (subtrees on several threads) against one thread.
struct BLAKE3ThreadedTests {
    @Test("update(threads:) equals the single-threaded hash for any sizes, positions and modes", arguments: [2, 3, 4, 8])
    func threadedEqualsSingle(threads: Int) {
        var rng = SeededGenerator(testSeed: UInt64(threads) * 77)
        let data = rng.bytes(3 << 20)
        let key = rng.bytes(32)
        for round in 0..<40 {
            // Random pieces, so subtrees start at every kind of chunk alignment.
            var splits = (0..<Int.random(in: 1...5, using: &rng)).map { _ in Int.random(in: 0...data.count, using: &rng) }.sorted()
            if round % 5 == 0 { splits = [1024 * Int.random(in: 1...40, using: &rng)] }
            let length = Int.random(in: 0...data.count, using: &rng)
            let input = Array(data[0..<length])
            var single = round % 2 == 0 ? BLAKE3Hasher(level: .default) : BLAKE3Hasher(key: key, level: .default)
            var threaded = single
            input.withUnsafeBytes { bytes in
                single.update(bytes)
                var start = 0
                for split in splits.map({ min($0, length) }) + [length] where split >= start {
                    threaded.update(UnsafeRawBufferPointer(rebasing: bytes[start..<split]), threads: threads)
                    start = split
                }
            }
            #expect(threaded.finalize(count: 64) == single.finalize(count: 64), "round \(round) length \(length) splits \(splits)")
        }
    }
}

/// A pointer handed to concurrent test workers that synchronise through a lock.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Int>
    init(_ pointer: UnsafeMutablePointer<Int>) { self.pointer = pointer }
}
