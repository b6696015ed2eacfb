import Ed25519
import Foundation
import OpenCLKernels
import OpenCLRuntime

/// Ed25519 verification with the `ed25519_verify` kernel (Kernels/ed25519_*.cl) on one
/// or more OpenCL devices, one signature per work-item, straight from a flat `SignatureBatch`.
///
/// Each device builds the program once per process (through the binary cache) and the
/// 129-entry base table once, with the `ed25519_base_table` kernel. The items are handed
/// out in consecutive slices through `DeviceWorkLoop` (OpenCLRuntime); each device sizes its
/// slices so one launch takes about `targetLaunchSeconds` (calibrated from its own
/// launches). A slice whose messages are all 32 bytes uses the kernel's fixed-length path
/// (`msg_offsets` NULL), any other slice the offsets path. Every launch uses the same
/// explicit local size (at most 64; PoCL crashes with a driver-chosen one for large n).
/// A launch carries at most `maxLaunchMessageBytes` of messages (the kernel's offsets are
/// 32-bit); a longer single message is verified on the host with `Ed25519.verify`.
public final class OpenCLSignatureVerifier: SignatureBatchVerifier, @unchecked Sendable {
    public let devices: [OpenCLDevice]
    let workers: [Worker]
    private let lock = NSLock()
    private var shares: [DeviceShare] = []

    public static let targetLaunchSeconds = 0.2
    /// Message bytes per launch at most.
    public let maxLaunchMessageBytes: Int

    /// What one device did in the last call: signatures it verified, launches, and its
    /// calibrated launch size at the end.
    public struct DeviceShare: Sendable, CustomStringConvertible {
        public let device: String
        public let signatures: Int
        public let launches: Int
        public let launchItems: Int
        public var description: String { "\(device): \(signatures) signatures in \(launches) launches, \(launchItems) per launch" }
    }

    /// The per-device split of the last `verify`.
    public var lastShares: [DeviceShare] { lock.withLock { shares } }

    /// Builds (or loads from the binary cache) the program, and the base table, on every
    /// device. The same device named twice is used once.
    public init(devices: [OpenCLDevice], cache: ProgramBinaryCache? = .standard, maxLaunchMessageBytes: Int = 1 << 28) throws {
        var unique = [OpenCLDevice]()
        for device in devices where !unique.contains(device) { unique.append(device) }
        guard !unique.isEmpty else { throw BackendUnavailable.noOpenCLDevice }
        self.devices = unique
        self.maxLaunchMessageBytes = max(1, min(maxLaunchMessageBytes, Int(UInt32.max)))
        workers = try unique.map { device in try Worker.shared(for: device, cache: cache) }
    }

    public var name: String { "opencl(" + devices.map(\.name).joined(separator: ", ") + ")" }

    public func verify(_ batch: SignatureBatch) throws -> [Bool] {
        guard !batch.isEmpty else { return [] }
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: batch.count)
        defer { results.deallocate() }
        results.initialize(repeating: false)
        // A message too long for one launch is verified on the host; the rest go to the
        // devices, through `order` only when some were taken out.
        var onHost = false
        for index in 0..<batch.count where batch.messageLength(index) > maxLaunchMessageBytes {
            let item = batch.item(index)
            results[index] = Ed25519.verify(signature: item.signature, message: item.message, publicKey: item.publicKey)
            onHost = true
        }
        let order = onHost ? (0..<batch.count).filter { batch.messageLength($0) <= maxLaunchMessageBytes } : nil
        let work = Work(batch: batch, order: order, output: Output(results.baseAddress!))
        let maxBytes = maxLaunchMessageBytes
        let cursor = WorkCursor(total: UInt64(order?.count ?? batch.count)) { start, wanted in
            UInt64(work.fitting(from: Int(start), wanted: Int(wanted), maxBytes: maxBytes))
        }
        let reports = try DeviceWorkLoop.run(workers, work: work, cursor: cursor)
        lock.withLock {
            shares = reports.map { DeviceShare(device: $0.device, signatures: Int($0.units), launches: $0.launches,
                                               launchItems: Int($0.launchUnits)) }
        }
        return Array(results)
    }

    /// One call as the devices see it: slice positions index `order` (or the batch itself
    /// when `order` is nil); verdicts go straight into the caller's buffer.
    struct Work: @unchecked Sendable {
        let batch: SignatureBatch
        let order: [Int]?
        let output: Output

        func item(at position: Int) -> Int { order?[position] ?? position }

        /// How many items from `position` fit in one launch: at least one, at most
        /// `wanted`, at most `maxBytes` of messages.
        func fitting(from position: Int, wanted: Int, maxBytes: Int) -> Int {
            let end = min(position + wanted, order?.count ?? batch.count)
            var count = 0
            var bytes = 0
            while position + count < end {
                let length = batch.messageLength(item(at: position + count))
                if count > 0 && bytes + length > maxBytes { break }
                bytes += length
                count += 1
            }
            return count
        }
    }

    /// The caller's result buffer; workers write disjoint indices.
    struct Output: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Bool>
        init(_ pointer: UnsafeMutablePointer<Bool>) { self.pointer = pointer }
    }

    /// One device: its kernel, base table, growable buffers and calibrated launch size.
    /// Shared per process so the build, the table and the calibration carry over between
    /// calls; one call at a time per device.
    final class Worker: LaunchWorker, @unchecked Sendable {
        let context: OpenCLContext
        let kernel: OpenCLKernel
        let baseTable: OpenCLBuffer
        var calibrator: LaunchCalibrator
        let busy = NSLock()

        private var publicKeys: OpenCLBuffer?
        private var signatures: OpenCLBuffer?
        private var messages: OpenCLBuffer?
        private var offsets: OpenCLBuffer?
        private var results: OpenCLBuffer?

        /// 129 entries of 30 `int`s.
        static let baseTableBytes = 129 * 30 * 4

        private static let workers = PerDeviceRegistry<Worker>()

        static func shared(for device: OpenCLDevice, cache: ProgramBinaryCache?) throws -> Worker {
            try workers.value(for: device) { try Worker(device: device, cache: cache) }
        }

        init(device: OpenCLDevice, cache: ProgramBinaryCache?) throws {
            context = try OpenCLContext.shared(for: device)
            let program = try context.program(source: KernelSources.ed25519Verify, options: KernelSources.buildOptions, cache: cache)
            kernel = try program.kernel(named: "ed25519_verify")
            let tableKernel = try program.kernel(named: "ed25519_base_table")
            baseTable = try context.buffer(size: Self.baseTableBytes, access: .readWrite)
            try tableKernel.setArgument(0, baseTable)
            try context.enqueue(tableKernel, globalSize: 1, localSize: 1).wait()
            calibrator = LaunchCalibrator(device: device, targetSeconds: OpenCLSignatureVerifier.targetLaunchSeconds, maxItems: 1 << 22)
        }

        var deviceName: String { context.device.name }
        var localSize: Int { calibrator.localSize }

        func launch(_ work: Work, slice: WorkSlice) throws {
            let verdicts = try launch(work, positions: slice.indices)
            for (position, verdict) in zip(slice.indices, verdicts) { work.output.pointer[work.item(at: position)] = verdict != 0 }
        }

        /// A buffer of at least `size` bytes in `slot`, reallocated (with headroom) when too small.
        private func ensure(_ slot: inout OpenCLBuffer?, size: Int, access: OpenCLBuffer.Access) throws -> OpenCLBuffer {
            if let buffer = slot, buffer.size >= size { return buffer }
            let buffer = try context.buffer(size: max(size + size / 4, 64), access: access)
            slot = buffer
            return buffer
        }

        /// One launch over the items at `positions`: 1 valid, 0 invalid per item. The
        /// launch's arrays are copied from the batch's flat arrays, in one run each when
        /// the positions are consecutive items.
        private func launch(_ work: Work, positions: Range<Int>) throws -> [UInt8] {
            let batch = work.batch
            let count = positions.count
            var keyBytes = [UInt8]()
            var signatureBytes = [UInt8]()
            var messageBytes = [UInt8]()
            var messageOffsets = [UInt32]()
            let fixed = positions.allSatisfy { batch.messageLength(work.item(at: $0)) == 32 }
            let swap = !context.device.isLittleEndian
            if work.order == nil {
                keyBytes = Array(batch.publicKeys[positions.lowerBound * 32..<positions.upperBound * 32])
                signatureBytes = Array(batch.signatures[positions.lowerBound * 64..<positions.upperBound * 64])
                let base = batch.messageStart(positions.lowerBound)
                messageBytes = Array(batch.messages[base..<batch.messageEnds[positions.upperBound - 1]])
                if !fixed {
                    messageOffsets.reserveCapacity(count + 1)
                    messageOffsets.append(0)
                    for index in positions {
                        let end = UInt32(batch.messageEnds[index] - base)
                        messageOffsets.append(swap ? end.byteSwapped : end)
                    }
                }
            } else {
                keyBytes.reserveCapacity(count * 32)
                signatureBytes.reserveCapacity(count * 64)
                if !fixed { messageOffsets.reserveCapacity(count + 1) }
                for position in positions {
                    let index = work.item(at: position)
                    if !fixed {
                        let offset = UInt32(messageBytes.count)
                        messageOffsets.append(swap ? offset.byteSwapped : offset)
                    }
                    keyBytes += batch.publicKeys[index * 32..<(index + 1) * 32]
                    signatureBytes += batch.signatures[index * 64..<(index + 1) * 64]
                    messageBytes += batch.messages[batch.messageStart(index)..<batch.messageEnds[index]]
                }
                if !fixed {
                    let end = UInt32(messageBytes.count)
                    messageOffsets.append(swap ? end.byteSwapped : end)
                }
            }

            let keys = try ensure(&publicKeys, size: keyBytes.count, access: .readOnly)
            let sigs = try ensure(&signatures, size: signatureBytes.count, access: .readOnly)
            // OpenCL has no zero-size buffers: all-empty messages still get a 1-byte buffer.
            let msgs = try ensure(&messages, size: max(messageBytes.count, 1), access: .readOnly)
            let out = try ensure(&results, size: count, access: .writeOnly)
            try keyBytes.withUnsafeBytes { try context.write(keys, from: $0) }
            try signatureBytes.withUnsafeBytes { try context.write(sigs, from: $0) }
            try messageBytes.withUnsafeBytes { try context.write(msgs, from: $0) }
            try kernel.setArgument(0, keys)
            try kernel.setArgument(1, sigs)
            try kernel.setArgument(2, msgs)
            if fixed {
                try kernel.setNullArgument(3)
            } else {
                let table = try ensure(&offsets, size: messageOffsets.count * 4, access: .readOnly)
                try messageOffsets.withUnsafeBytes { try context.write(table, from: $0) }
                try kernel.setArgument(3, table)
            }
            try kernel.setArgument(4, baseTable)
            try kernel.setArgument(5, UInt32(count))
            try kernel.setArgument(6, out)
            let global = (count + localSize - 1) / localSize * localSize
            try context.enqueue(kernel, globalSize: global, localSize: localSize).wait()
            var verdicts = [UInt8](repeating: 0, count: count)
            try verdicts.withUnsafeMutableBytes { try context.read(out, into: $0) }
            return verdicts
        }
    }
}
