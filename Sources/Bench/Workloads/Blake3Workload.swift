import BLAKE3
import Foundation
import OpenCLRuntime
import Primitives

/// `rusty bench` section blake3: BLAKE3 hashing at every SIMD level and on OpenCL, against the b3sum anchor.
enum Blake3Workload: BenchWorkload {
    static let section = BenchSectionName.blake3

    static func run(_ r: Recorder) throws {
        var random = BenchRandom(seed: 3)
        let messages = random.bytes(64 * 1024)
        let key = random.bytes(32)
        var output = [UInt8](repeating: 0, count: 32 * 1024)
        for level in levels(r) {
            try r.rate("one-block compressions", backend: level.description, unit: "compressions/s") { k in
                messages.withUnsafeBytes { m in
                    output.withUnsafeMutableBytes { o in
                        for _ in 0..<k {
                            BLAKE3.hashManySingleBlock(messages: m.baseAddress!, stride: 64, length: 64, count: 1024, key: key,
                                                       output: o.baseAddress!, level: level)
                        }
                    }
                }
                return Double(k * 1024)
            }
        }

        let bulk = random.bytes(r.mode == .tiny ? 64 << 10 : 1 << 20)
        let fileName = "bulk hashing (file, 1 thread)"
        let b3sum = r.options.anchors ? B3Sum.executable() : nil
        let anchor = b3sum == nil ? nil : (name: fileName, backend: "b3sum")
        for level in levels(r) {
            try r.rate("bulk hashing (in memory, 1 thread)", backend: level.description, unit: "GiB/s", scale: 1_073_741_824,
                       anchor: anchor) { k in
                for _ in 0..<k {
                    var hasher = BLAKE3Hasher(level: level)
                    bulk.withUnsafeBytes { hasher.update($0) }
                    _ = hasher.finalize()
                }
                return Double(k * bulk.count)
            }
        }

        // From a file in the page cache, side by side with b3sum when it is installed.
        let fileSize: Int
        switch r.mode {
        case .tiny: fileSize = 1 << 20
        case .quick: fileSize = 64 << 20
        case .full: fileSize = 256 << 20
        }
        let path = temporaryDirectory("b3") + ".bin"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? FileManager.default.removeItem(atPath: path) }
        var written = 0
        var chunk = bulk
        while written < fileSize {
            chunk[0] &+= 1
            let piece = Data(chunk.prefix(fileSize - written))
            handle.write(piece)
            written += piece.count
        }
        try handle.close()
        let level = BLAKE3Level.default
        let ownDigest = { () throws -> String in
            let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
            var hasher = BLAKE3Hasher(level: level)
            data.withUnsafeBytes { hasher.update($0) }
            return HexCoding.encode(hasher.finalize())
        }
        if let b3sum {
            let theirs = try B3Sum.hash(b3sum, file: path)
            let ours = try ownDigest()
            guard theirs == ours else { throw BenchError.mismatch("b3sum \(theirs) != rusty \(ours)") }
            try r.rate(fileName, backend: "b3sum", unit: "GiB/s", scale: 1_073_741_824) { k in
                for _ in 0..<k { try B3Sum.run(b3sum, file: path) }
                return Double(k * fileSize)
            }
        }
        if level == .scalar || r.options.runs(.simd) {
            try r.rate(fileName, backend: level.description, unit: "GiB/s", scale: 1_073_741_824, anchor: anchor) { k in
                for _ in 0..<k { _ = try ownDigest() }
                return Double(k * fileSize)
            }
        }
    }
}
