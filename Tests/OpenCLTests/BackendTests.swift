import BLAKE3
import Foundation
import MerkleBackends
import OpenCLRuntime
import Primitives
import ProofOfWorkSearch
import Testing
import TestSupport

/// Built once per test process (the PoCL compile takes seconds).
enum Shared {
    static let powOpenCL: Result<OpenCLPoWSearch, Error> = Result { try OpenCLPoWSearch(devices: OpenCL.computeDevices()) }
    static let merkleOpenCL: Result<OpenCLMerkleRoot, Error> = Result {
        try OpenCLMerkleRoot(device: try #require(OpenCL.computeDevices().first, "no OpenCL device"))
    }
}

/// A target whose top byte is `topByte` and the rest all ones: about (topByte + 1) / 256 of hashes meet it.
func easyTarget(topByte: UInt8) -> UInt256 {
    UInt256(bigEndian: [topByte] + [UInt8](repeating: 0xFF, count: 31))
}

@Suite struct PoWBackendTests {
    static let ranges: [(String, UInt64, UInt64)] = [
        ("from zero", 0, 4000),
        ("across 2^32", (1 << 32) - 1777, 4000),
        ("across 2^33", (1 << 33) - 3, 3000),
        ("ending at 2^64 - 1", UInt64.max - 3999, 4000),
        ("single last nonce", UInt64.max, 1),
        ("odd length", 123_456_789, 1234),
    ]

    @Test("scalar, cpu threads, simd (every level) and opencl find the same nonces", arguments: 0..<6)
    func sameNonces(rangeIndex: Int) throws {
        let opencl = try Shared.powOpenCL.get()
        var rng = SeededGenerator(testSeed: 0xB10C + UInt64(rangeIndex))
        let (label, start, count) = Self.ranges[rangeIndex]
        let range = try #require(NonceRange(start: start, count: count))
        for topByte: UInt8 in [0x03, 0x00] {
            let job = PoWJob(header: rng.bytes(128), target: easyTarget(topByte: topByte))
            let scalar = try ScalarPoWSearch().search(job, range: range)
            let threads = try ThreadedPoWSearch(threads: 3).search(job, range: range)
            let gpu = try opencl.search(job, range: range)
            #expect(threads == scalar, "cpu threads, \(label)")
            for level in BLAKE3Level.supported {
                #expect(try SIMDPoWSearch(threads: 2, level: level).search(job, range: range) == scalar, "simd \(level), \(label)")
            }
            #expect(gpu == scalar, "opencl, \(label)")
            #expect(scalar == scalar.sorted())
            #expect(scalar.allSatisfy { range.contains($0.nonce) && ProofOfWork.meets($0.hash, target: job.target) })
            if count >= 1000 && topByte == 0x03 { #expect(!scalar.isEmpty, "\(label): no hits to compare") }
        }
        #expect(opencl.rejectedCandidates == 0)
    }

    @Test("opencl over several calibrated launches equals the cpu threads")
    func longRange() throws {
        let opencl = try Shared.powOpenCL.get()
        var rng = SeededGenerator(testSeed: 77)
        let job = PoWJob(header: rng.bytes(128), target: easyTarget(topByte: 0x00))
        let range = try #require(NonceRange(start: (1 << 32) - 150_000, count: 400_001))
        let expected = try ThreadedPoWSearch().search(job, range: range)
        #expect(try opencl.search(job, range: range) == expected)
        #expect(!expected.isEmpty)
    }

    @Test("more hits than the result buffer holds are all found")
    func resultOverflow() throws {
        let opencl = try Shared.powOpenCL.get()
        var rng = SeededGenerator(testSeed: 5)
        let job = PoWJob(header: rng.bytes(128), target: .max)
        let range = try #require(NonceRange(start: UInt64.max - 9999, count: 10_000))
        let hits = try opencl.search(job, range: range)
        #expect(hits.map(\.nonce) == Array(range.start...UInt64.max))
        #expect(hits == (try ThreadedPoWSearch().search(job, range: range)))
        #expect(hits == (try SIMDPoWSearch().search(job, range: range)))
    }

    @Test("a target equal to the best hash is met; one less is not")
    func exactBoundary() throws {
        let opencl = try Shared.powOpenCL.get()
        var rng = SeededGenerator(testSeed: 9)
        let header = rng.bytes(128)
        let range = try #require(NonceRange(start: 1000, count: 2000))
        let best = (range.start...range.last!).map { PoWJob(header: header, target: .zero).hash(nonce: $0) }.min()!
        let bestValue = UInt256(best)
        let hit = try opencl.search(PoWJob(header: header, target: bestValue), range: range)
        #expect(hit.count == 1 && hit.first?.hash == best)
        let below = bestValue.subtractingReportingOverflow(UInt256(1)).partialValue
        #expect(try opencl.search(PoWJob(header: header, target: below), range: range).isEmpty)
        #expect(try ScalarPoWSearch().search(PoWJob(header: header, target: below), range: range).isEmpty)
    }

    @Test("ranges past 2^64 - 1 are refused")
    func rangeLimits() {
        #expect(NonceRange(start: UInt64.max, count: 2) == nil)
        #expect(NonceRange(start: 2, count: UInt64.max) == nil)
        #expect(NonceRange(start: 1, count: UInt64.max)?.last == UInt64.max)
        #expect(NonceRange(start: 0, count: UInt64.max)?.last == UInt64.max - 1)
        #expect(NonceRange(start: UInt64.max, count: 0)?.last == nil)
    }
}

@Suite struct MerkleBackendTests {
    static func leaves(_ count: Int, seed: UInt64) -> [Hash256] {
        var rng = SeededGenerator(testSeed: seed)
        return (0..<count).map { _ in Hash256(bytes: rng.bytes(32))! }
    }

    static let sizes: [Int] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129,
                               255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 2047, 2048, 2049]

    @Test("opencl, simd and scalar roots agree for 1...2049 leaves (sampled) and random sizes")
    func rootsAgree() throws {
        let opencl = try Shared.merkleOpenCL.get()
        var rng = SeededGenerator(testSeed: 4242)
        let randomSizes = (0..<12).map { _ in Int.random(in: 1...5000, using: &rng) } + [70_001]
        for (index, count) in (Self.sizes + randomSizes).enumerated() {
            let leaves = Self.leaves(count, seed: UInt64(index))
            let scalar = try CPUMerkleRoot(level: .scalar).root(of: leaves)
            #expect(try CPUMerkleRoot(level: .default).root(of: leaves) == scalar, "simd, \(count) leaves")
            #expect(try opencl.root(of: leaves) == scalar, "opencl, \(count) leaves")
            if count <= 129 { #expect(scalar == Merkle.referenceRoot(of: leaves[...]), "reference, \(count) leaves") }
        }
        #expect(try opencl.root(of: []) == .zero)
    }
}
