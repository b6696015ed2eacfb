import Foundation
import MerkleBackends
import OpenCLRuntime
import Primitives

/// `rusty bench` section merkle: Merkle roots on each backend.
enum MerkleWorkload: BenchWorkload {
    static let section = BenchSectionName.merkle

    static func run(_ r: Recorder) throws {
        let leafCount: Int
        switch r.mode {
        case .tiny: leafCount = 1024
        case .quick: leafCount = 1 << 16
        case .full: leafCount = 1 << 20
        }
        var random = BenchRandom(seed: 5)
        let leaves = (0..<leafCount).map { _ in Hash256(bytes: random.bytes(32))! }
        let expected = Merkle.root(of: leaves, level: .scalar)
        for level in levels(r) {
            try r.rate("parent nodes (\(leafCount) leaves)", backend: level.description, unit: "nodes/s") { k in
                for _ in 0..<k {
                    guard Merkle.root(of: leaves, level: level) == expected else { throw BenchError.mismatch("Merkle root at \(level)") }
                }
                return Double(k * (leafCount - 1))
            }
        }
        for device in openCLDevices(r) {
            do {
                let backend = try OpenCLMerkleRoot(device: device)
                try r.rate("parent nodes (\(leafCount) leaves)", backend: "opencl", device: device.name, unit: "nodes/s") { k in
                    for _ in 0..<k {
                        guard try backend.root(of: leaves) == expected else { throw BenchError.mismatch("Merkle root on \(device.name)") }
                    }
                    return Double(k * (leafCount - 1))
                }
            } catch let error as BenchError {
                throw error
            } catch {
                r.options.progress("bench: merkle on \(device.name) failed: \(error)")
            }
        }
    }
}
