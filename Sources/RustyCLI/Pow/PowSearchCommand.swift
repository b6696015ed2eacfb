import ArgumentParser
import Foundation
import OpenCLRuntime
import Primitives
import ProofOfWorkSearch

/// `rusty pow search`: every nonce of a range whose header hash meets a target.
extension PowCommand {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print every nonce in a range whose header hash meets a target.",
            discussion: """
                Each nonce from --start (--count of them) is written into the header's nonce field \
                (bytes 120..127, little-endian) and the header is hashed with BLAKE3. Standard output \
                gets one line per hit, `NONCE HASHHEX`, in ascending nonce order, and nothing else; \
                speed and progress go to standard error. Backends: opencl (the pow_search kernel on the \
                GPUs, or on every OpenCL device when there is no GPU), simd (the C SIMD nonce \
                search at the best BLAKE3 level on every core), scalar (one thread, the reference), auto (opencl when \
                a GPU exists, else simd).
                """
        )

        @Option(help: "The 128-byte header as 256 hex digits (its nonce field is replaced).")
        var header: String

        @Option(help: "The 256-bit target as 64 hex digits, big-endian; a hash meets it when hash <= target.")
        var target: String

        @Option(help: "First nonce (decimal, or hex with 0x).")
        var start: String = "0"

        @Option(help: "Number of nonces to try (decimal, or hex with 0x).")
        var count: String = "1048576"

        @Option(help: "auto, opencl, simd or scalar.")
        var backend: String = "auto"

        func validate() throws {
            _ = try parsed()
        }

        func parsed() throws -> (header: [UInt8], target: UInt256, range: NonceRange, backend: BackendChoice) {
            guard let headerBytes = HexCoding.decode(header), headerBytes.count == BlockHeader.encodedLength else {
                throw ValidationError("--header needs 128 bytes as 256 hex digits (got \(header.count) characters)")
            }
            guard target.count == 64, let targetBytes = HexCoding.decode(target), targetBytes.count == 32 else {
                throw ValidationError("--target needs 32 bytes as 64 hex digits, big-endian (got \(target.count) characters)")
            }
            guard let first = parseUInt64(start) else { throw ValidationError("--start must be an integer in 0...2^64-1") }
            guard let number = parseUInt64(count) else { throw ValidationError("--count must be an integer in 0...2^64-1") }
            guard let range = NonceRange(start: first, count: number) else {
                throw ValidationError("--start + --count runs past the last nonce, 2^64 - 1")
            }
            guard let choice = BackendChoice(rawValue: backend) else {
                throw ValidationError("unknown --backend '\(backend)' (auto, opencl, simd, scalar)")
            }
            return (headerBytes, UInt256(bigEndian: targetBytes), range, choice)
        }

        func run() throws {
            let (headerBytes, targetValue, range, choice) = try parsed()
            let searcher = try makeBackend(choice, command: "pow search", PoWSearchBackends.make)
            let job = PoWJob(header: headerBytes, target: targetValue)
            let meter = ProgressMeter(total: range.count, label: searcher.name)
            let began = DispatchTime.now().uptimeNanoseconds
            // Hits stream out in ascending order: the range is searched in consecutive
            // windows (each on every core or device), and a window's hits are printed as
            // soon as it is done, so a hit waits at most one window (about a quarter of a
            // second; a second on OpenCL, whose launches are longer) behind the search.
            let windowSeconds = searcher is OpenCLPoWSearch ? 1.0 : 0.25
            var window: UInt64 = 1 << 16
            var next = range.start
            var remaining = range.count
            var hitCount = 0
            // Per device over all windows; devices of the same name (two PoCL devices) are
            // told apart by their order in each search's report.
            var shares = [(device: String, nonces: UInt64, launch: UInt64)]()
            var rejected = 0
            while remaining > 0 {
                let count = min(window, remaining)
                let slice = NonceRange(start: next, count: count)!
                let done = range.count - remaining
                let windowBegan = DispatchTime.now().uptimeNanoseconds
                let hits: [PoWHit]
                do {
                    hits = try searcher.search(job, range: slice) { meter.update(done + $0) }
                } catch {
                    meter.clear()
                    throw CommandFailure(.invalid, "pow search: \(error)")
                }
                if !hits.isEmpty {
                    meter.clear()
                    var lines = ""
                    for hit in hits { lines += "\(hit.nonce) \(hit.hash.hex)\n" }
                    print(lines, terminator: "")
                    flushOutput()
                    try checkStandardOutput()
                    hitCount += hits.count
                }
                if let opencl = searcher as? OpenCLPoWSearch {
                    var seen = [String: Int]()
                    for share in opencl.lastSearchShares {
                        let occurrence = seen[share.device, default: 0]
                        seen[share.device] = occurrence + 1
                        let matching = shares.indices.filter { shares[$0].device == share.device }
                        if occurrence < matching.count {
                            shares[matching[occurrence]].nonces += share.nonces
                            shares[matching[occurrence]].launch = share.launchNonces
                        } else {
                            shares.append((share.device, share.nonces, share.launchNonces))
                        }
                    }
                    rejected = opencl.rejectedCandidates // cumulative over the searcher's life
                }
                remaining -= count
                next &+= count
                // Aim the next window at the target time (at most 4x larger each step).
                let seconds = max(1e-6, Double(DispatchTime.now().uptimeNanoseconds - windowBegan) / 1e9)
                let scaled = Double(count) * min(4, windowSeconds / seconds)
                window = UInt64(max(Double(1 << 12), min(Double(1 << 40), scaled)))
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            meter.clear()
            let rate = Double(range.count) / max(seconds, 1e-9)
            printError(String(format: "rusty pow search: %llu nonces in %.3f s (%.2f MH/s), %d hits, backend ",
                              range.count, seconds, rate / 1e6, hitCount) + searcher.name)
            for share in shares {
                printError("rusty pow search: \(share.device): \(share.nonces) nonces, \(share.launch) per launch")
            }
            if rejected > 0 {
                printError("rusty pow search: warning: \(rejected) kernel candidates failed the host check")
            }
        }
    }
}

/// Decimal or 0x-prefixed hex.
func parseUInt64(_ text: String) -> UInt64? {
    let lowered = text.lowercased()
    if lowered.hasPrefix("0x") { return UInt64(lowered.dropFirst(2), radix: 16) }
    return UInt64(text)
}
