import BLAKE3
import Testing
import TestSupport

/// Every SIMD level against the portable scalar code on the same inputs.
struct BLAKE3DifferentialTests {
    static let simdLevels = BLAKE3Level.supported.filter { $0 != .scalar }

    /// Hashes `input` with updates split at `splits` (sorted offsets), keyed when `key` is given.
    static func digest(_ input: [UInt8], level: BLAKE3Level, splits: [Int] = [], key: [UInt8]? = nil, count: Int = 32) -> [UInt8] {
        var hasher = key.map { BLAKE3Hasher(key: $0, level: level) } ?? BLAKE3Hasher(level: level)
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
        var rng = SeededGenerator(seed: 0xB1A4E3)
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
        var rng = SeededGenerator(seed: 0xC4C4)
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
        var rng = SeededGenerator(seed: 77)
        let input = rng.bytes(1 << 20 | 12345)
        let splits = stride(from: 0, to: input.count, by: 65_537).map { $0 }
        #expect(Self.digest(input, level: level, splits: splits) == Self.digest(input, level: .scalar))
    }

    @Test("single-block batch: 1...100 messages of every length 0...64, plain and keyed", arguments: BLAKE3Level.supported)
    func singleBlockBatch(level: BLAKE3Level) {
        var rng = SeededGenerator(seed: 0x5EED)
        let key = rng.bytes(32)
        for count in 1...100 {
            for length in [0, 1, 31, 32, 33, 63, 64] + [Int.random(in: 0...64, using: &rng)] {
                let stride = 64 + Int.random(in: 0...3, using: &rng)
                let messages = rng.bytes(max(1, count * stride))
                for keyed in [false, true] {
                    var output = [UInt8](repeating: 0, count: count * 32)
                    messages.withUnsafeBytes { input in
                        output.withUnsafeMutableBytes { out in
                            BLAKE3.hashManySingleBlock(messages: input.baseAddress!, stride: stride, length: length, count: count,
                                                       key: keyed ? key : nil, output: out.baseAddress!, level: level)
                        }
                    }
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
        var rng = SeededGenerator(seed: 0x3E4C)
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
                        BLAKE3.merkleLevel(nodes: input.baseAddress!, nodeCount: nodeCount, key: keyBytes.baseAddress!,
                                           output: out.baseAddress!, level: level)
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

    @Test("default level can be lowered and restored, never above what the CPU has")
    func defaultLevelClamps() {
        let original = BLAKE3Level.default
        defer { BLAKE3Level.setDefault(original) }
        BLAKE3Level.setDefault(.scalar)
        #expect(BLAKE3Level.default == .scalar)
        BLAKE3Level.setDefault(.avx512)
        #expect(BLAKE3Level.default == BLAKE3Level.detected)
        #expect(BLAKE3Level.supported.first == .scalar)
        #expect(BLAKE3Level(name: "sse4.1") == .sse41)
        #expect(BLAKE3Level(name: "mmx") == nil)
    }
}

/// Multi-threaded hashing of one input (subtrees on several threads) against one thread.
struct BLAKE3ThreadedTests {
    @Test("update(threads:) equals the single-threaded hash for any sizes, positions and modes", arguments: [2, 3, 4, 8])
    func threadedEqualsSingle(threads: Int) {
        var rng = SeededGenerator(seed: UInt64(threads) * 77)
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
