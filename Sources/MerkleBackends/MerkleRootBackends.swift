import BLAKE3
import Foundation
import OpenCLKernels
import OpenCLRuntime
import Primitives

/// The backend for a resolved `--backend` choice (`MerkleRootBackend` and `CPUMerkleRoot`
/// are in Primitives, where block rules see them).
public enum MerkleRootBackends {
    public static func make(_ resolved: BackendChoice.Resolved) throws -> any MerkleRootBackend {
        switch resolved {
        case .scalar: return CPUMerkleRoot(level: .scalar)
        case .simd: return CPUMerkleRoot(level: .default)
        case .opencl(let devices): return try OpenCLMerkleRoot(device: devices[0])
        }
    }
}

public enum MerkleBackendError: Error, CustomStringConvertible, Sendable {
    case tooManyLeaves(Int)
    case bigEndianDevice(String)

    public var description: String {
        switch self {
        case .tooManyLeaves(let count): return "the OpenCL Merkle kernel takes at most 2^32 - 1 leaves, not \(count)"
        case .bigEndianDevice(let name): return "OpenCL device \(name) is big-endian; merkle.cl needs a little-endian device"
        }
    }
}

/// The `merkle_level` kernel level by level on one device: one upload of the leaves into
/// buffer A, levels ping-pong between A and B in one in-order queue, one 32-byte download.
public final class OpenCLMerkleRoot: MerkleRootBackend, @unchecked Sendable {
    public let device: OpenCLDevice
    let context: OpenCLContext
    let program: OpenCLProgram
    let keyBuffer: OpenCLBuffer
    let localSize: Int

    public init(device: OpenCLDevice, cache: ProgramBinaryCache? = .standard) throws {
        guard device.isLittleEndian else { throw MerkleBackendError.bigEndianDevice(device.name) }
        self.device = device
        localSize = max(1, min(64, device.maxWorkGroupSize))
        let context = try OpenCLContext.shared(for: device)
        self.context = context
        program = try context.program(source: KernelSources.merkle, options: KernelSources.buildOptions, cache: cache)
        keyBuffer = try DomainKeys.merkleNode.withUnsafeBytes { try context.buffer(copying: $0) }
    }

    public var name: String { "opencl(\(device.name))" }

    public func root(of leaves: [Hash256]) throws -> Hash256 {
        guard leaves.count > 1 else { return leaves.first ?? .zero }
        guard leaves.count <= Int(UInt32.max) else { throw MerkleBackendError.tooManyLeaves(leaves.count) }
        let kernel = try program.kernel(named: "merkle_level")
        var input = try leaves.withUnsafeBytes { try context.buffer(copying: $0, access: .readWrite) }
        var output = try context.buffer(size: (leaves.count + 1) / 2 * 32)
        var count = leaves.count
        try kernel.setArgument(3, keyBuffer)
        var last: OpenCLEvent?
        while count > 1 {
            try kernel.setArgument(0, input)
            try kernel.setArgument(1, UInt32(count))
            try kernel.setArgument(2, output)
            // One local size for every level (PoCL compiles a variant per local size); the
            // kernel returns at once on the extra work-items of the rounded-up global size.
            let items = (count + 1) / 2
            last = try context.enqueue(kernel, globalSize: (items + localSize - 1) / localSize * localSize, localSize: localSize)
            count = (count + 1) / 2
            swap(&input, &output)
        }
        try last?.wait()
        var root = [UInt8](repeating: 0, count: 32)
        try root.withUnsafeMutableBytes { try context.read(input, into: $0) }
        return Hash256(bytes: root)!
    }
}
