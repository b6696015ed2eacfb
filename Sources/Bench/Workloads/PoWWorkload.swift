import BLAKE3
import Foundation
import OpenCLRuntime
import Primitives
import ProofOfWorkSearch

/// `rusty bench` section pow: the proof-of-work nonce search on each backend.
enum PoWWorkload: BenchWorkload {
    static let section = BenchSectionName.pow

    static func run(_ r: Recorder) throws {
        let header = (0..<BlockHeader.encodedLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let job = PoWJob(header: header, target: .zero)   // never met: every nonce is hashed
        var start: UInt64 = 0
        func range(_ count: Int) -> NonceRange {
            defer { start &+= UInt64(count) }
            return NonceRange(start: start, count: UInt64(count))!
        }
        let name = "hashes"
        try r.rate(name, backend: "scalar", unit: "hashes/s", initial: 1024) { n in
            _ = try ScalarPoWSearch().search(job, range: range(n))
            return Double(n)
        }
        guard r.options.runs(.simd) else { return openCLPoW(r, job: job, range: range) }
        for level in levels(r) {
            try r.rate(name, backend: "simd-\(level)", unit: "hashes/s", initial: 1 << 14) { n in
                _ = try SIMDPoWSearch(threads: 1, level: level).search(job, range: range(n))
                return Double(n)
            }
        }
        if cores > 1 {
            try r.rate(name, backend: "simd-\(BLAKE3Level.default), \(cores) threads", unit: "hashes/s", initial: 1 << 16) { n in
                _ = try SIMDPoWSearch(threads: cores, level: .default).search(job, range: range(n))
                return Double(n)
            }
        }
        openCLPoW(r, job: job, range: range)
    }

    static func openCLPoW(_ r: Recorder, job: PoWJob, range: (Int) -> NonceRange) {
        for device in openCLDevices(r) {
            do {
                let search = try OpenCLPoWSearch(devices: [device])
                try r.rate("hashes", backend: "opencl", device: device.name, unit: "hashes/s", initial: 1 << 16) { n in
                    _ = try search.search(job, range: range(n))
                    return Double(n)
                }
            } catch {
                r.options.progress("bench: pow on \(device.name) failed: \(error)")
            }
        }
    }
}
