import Ed25519
import Foundation
import OpenCLKernels
import OpenCLRuntime

/// Ed25519 verification with the `ed25519_verify` kernel (Kernels/ed25519_verify.cl) on one
/// or more OpenCL devices, one signature per work-item.
///
/// Each device builds the program once per process (through the binary cache) and the
/// 129-entry base table once, with the `ed25519_base_table` kernel. Items with a key that
/// is not 32 bytes or a signature that is not 64 bytes are invalid and never reach a
/// device. The rest are handed out in consecutive slices from a shared cursor; each device
/// sizes its slices so one launch takes about `targetLaunchSeconds` (calibrated from its
/// own launches). A slice whose messages are all 32 bytes uses the kernel's fixed-length
/// path (`msg_offsets` NULL), any other slice the offsets path. Every launch uses the same
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

    public func verify(_ items: [SignatureItem]) throws -> [Bool] {
        guard !items.isEmpty else { return [] }
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: items.count)
        defer { results.deallocate() }
        results.initialize(repeating: false)
        var wellFormed = [Int]()
        wellFormed.reserveCapacity(items.count)
        for (index, item) in items.enumerated()
        where item.publicKey.count == Ed25519.publicKeyLength && item.signature.count == Ed25519.signatureLength {
            if item.message.count > maxLaunchMessageBytes {
                results[index] = Ed25519.verify(signature: item.signature, message: item.message, publicKey: item.publicKey)
            } else {
                wellFormed.append(index)
            }
        }
        let cursor = Cursor(items: items, order: wellFormed, maxBytes: maxLaunchMessageBytes)
        let output = Output(results.baseAddress!)
        let collector = Collector(count: workers.count)
        DispatchQueue.concurrentPerform(iterations: workers.count) { index in
            do {
                collector.add(try workers[index].run(items: items, cursor: cursor, output: output), at: index)
            } catch {
                cursor.cancel()
                collector.fail(error)
            }
        }
        if let error = collector.error { throw error }
        lock.withLock { shares = collector.shares }
        return Array(results)
    }

    /// Hands out consecutive slices of the well-formed items, bounded by count and by
    /// message bytes.
    final class Cursor: @unchecked Sendable {
        let items: [SignatureItem]
        let order: [Int]
        let maxBytes: Int
        private let lock = NSLock()
        private var next = 0
        private var cancelled = false

        init(items: [SignatureItem], order: [Int], maxBytes: Int) {
            self.items = items
            self.order = order
            self.maxBytes = maxBytes
        }

        /// Positions in `order`: at least one item, at most `wanted` and at most
        /// `maxBytes` of messages (one longer message cannot be in `order`); nil when nothing is left.
        func take(_ wanted: Int) -> Range<Int>? {
            lock.withLock {
                guard !cancelled, next < order.count else { return nil }
                let start = next
                var end = start
                var bytes = 0
                while end < order.count && end - start < wanted {
                    let length = items[order[end]].message.count
                    if end > start && bytes + length > maxBytes { break }
                    bytes += length
                    end += 1
                }
                next = end
                return start..<end
            }
        }

        func cancel() { lock.withLock { cancelled = true } }
    }

    /// The caller's result buffer; workers write disjoint indices.
    struct Output: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Bool>
        init(_ pointer: UnsafeMutablePointer<Bool>) { self.pointer = pointer }
    }

    /// The workers' shares (in device order) and the first error.
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [DeviceShare?]
        private var firstError: Error?
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func add(_ share: DeviceShare, at index: Int) { lock.withLock { slots[index] = share } }
        func fail(_ error: Error) { lock.withLock { if firstError == nil { firstError = error } } }
        var error: Error? { lock.withLock { firstError } }
        var shares: [DeviceShare] { lock.withLock { slots.compactMap { $0 } } }
    }

    /// One device: its kernel, base table, growable buffers and calibrated launch size.
    /// Shared per process so the build, the table and the calibration carry over between
    /// calls; one call at a time per device.
    final class Worker: @unchecked Sendable {
        let context: OpenCLContext
        let kernel: OpenCLKernel
        let baseTable: OpenCLBuffer
        let localSize: Int
        /// Signatures per full launch (calibrated).
        var items: Int
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
            localSize = max(1, min(64, device.maxWorkGroupSize))
            // A short first launch; the calibration grows it towards targetLaunchSeconds.
            items = max(1, device.computeUnits) * 4 * localSize
        }

        func run(items all: [SignatureItem], cursor: Cursor, output: Output) throws -> DeviceShare {
            busy.lock()
            defer { busy.unlock() }
            var verified = 0
            var launches = 0
            while let slice = cursor.take(items) {
                let began = DispatchTime.now().uptimeNanoseconds
                let verdicts = try launch(slice.map { all[cursor.order[$0]] })
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
                for (position, verdict) in zip(slice, verdicts) { output.pointer[cursor.order[position]] = verdict != 0 }
                if slice.count == items { calibrate(seconds: seconds) }
                verified += slice.count
                launches += 1
            }
            return DeviceShare(device: context.device.name, signatures: verified, launches: launches, launchItems: items)
        }

        private func calibrate(seconds: Double) {
            let ratio = min(8, max(0.25, OpenCLSignatureVerifier.targetLaunchSeconds / max(seconds, 1e-4)))
            let wanted = Double(items) * ratio
            items = Int(min(Double(1 << 22), max(Double(localSize), wanted))) / localSize * localSize
        }

        /// A buffer of at least `size` bytes in `slot`, reallocated (with headroom) when too small.
        private func ensure(_ slot: inout OpenCLBuffer?, size: Int, access: OpenCLBuffer.Access) throws -> OpenCLBuffer {
            if let buffer = slot, buffer.size >= size { return buffer }
            let buffer = try context.buffer(size: max(size + size / 4, 64), access: access)
            slot = buffer
            return buffer
        }

        /// One launch over well-formed items: 1 valid, 0 invalid per item.
        private func launch(_ batch: [SignatureItem]) throws -> [UInt8] {
            let count = batch.count
            var keyBytes = [UInt8]()
            keyBytes.reserveCapacity(count * 32)
            var signatureBytes = [UInt8]()
            signatureBytes.reserveCapacity(count * 64)
            let fixed = batch.allSatisfy { $0.message.count == 32 }
            let messageTotal = batch.reduce(0) { $0 + $1.message.count }
            var messageBytes = [UInt8]()
            messageBytes.reserveCapacity(messageTotal)
            var messageOffsets = [UInt32]()
            if !fixed { messageOffsets.reserveCapacity(count + 1) }
            let swap = !context.device.isLittleEndian
            for item in batch {
                keyBytes += item.publicKey
                signatureBytes += item.signature
                if !fixed {
                    let offset = UInt32(messageBytes.count)
                    messageOffsets.append(swap ? offset.byteSwapped : offset)
                }
                messageBytes += item.message
            }
            if !fixed {
                let end = UInt32(messageBytes.count)
                messageOffsets.append(swap ? end.byteSwapped : end)
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
