import Foundation
import OpenCLKernels
import OpenCLRuntime
import Primitives

/// PoW search with the `pow_search` kernel on one or more OpenCL devices. The devices pull
/// slices of the range through `DeviceWorkLoop` (OpenCLRuntime), each slice sized so one
/// launch takes about `targetLaunchSeconds` on that device (calibrated from the launches). Every
/// candidate the kernel reports is re-hashed on the host and kept only if
/// `ProofOfWork.meets`; the hits come back sorted by nonce.
public final class OpenCLPoWSearch: PoWSearcher, @unchecked Sendable {
    public let devices: [OpenCLDevice]
    let workers: [Worker]
    private let lock = NSLock()
    private var rejected = 0
    private var shares: [DeviceShare] = []

    /// What one device did in the last search: nonces it searched, and its calibrated
    /// launch size (nonces per full launch) at the end.
    public struct DeviceShare: Sendable, CustomStringConvertible {
        public let device: String
        public let nonces: UInt64
        public let launchNonces: UInt64
        public var description: String { "\(device): \(nonces) nonces, \(launchNonces) per launch" }
    }

    /// The per-device split of the last search.
    public var lastSearchShares: [DeviceShare] { lock.withLock { shares } }

    public static let targetLaunchSeconds = 0.15
    public static let noncesPerItem: UInt32 = 256

    /// Builds (or loads from the binary cache) the kernel on every device.
    public init(devices: [OpenCLDevice], cache: ProgramBinaryCache? = .standard) throws {
        guard !devices.isEmpty else { throw BackendUnavailable.noOpenCLDevice }
        self.devices = devices
        workers = try devices.map { device in try Worker.shared(for: device, cache: cache) }
    }

    public var name: String {
        "opencl(" + devices.map(\.name).joined(separator: ", ") + ")"
    }

    /// Candidates the kernel reported that failed the host's check (always 0 unless a
    /// device miscomputes).
    public var rejectedCandidates: Int { lock.withLock { rejected } }

    public func search(_ job: PoWJob, range: NonceRange, progress: (@Sendable (UInt64) -> Void)?) throws -> [PoWHit] {
        guard range.count > 0 else { return [] }
        let candidates = Candidates()
        let reports = try DeviceWorkLoop.run(workers, work: Work(job: job, start: range.start, candidates: candidates),
                                             cursor: WorkCursor(total: range.count), progress: progress)
        var hits = [PoWHit]()
        var failed = 0
        // The last launch of a slice may run a few nonces past it (into another device's
        // slice, or past the range): those are dropped or deduplicated here.
        for nonce in Set(candidates.nonces).sorted() where range.contains(nonce) {
            if let hit = job.check(nonce: nonce) { hits.append(hit) } else { failed += 1 }
        }
        lock.withLock {
            rejected += failed
            shares = reports.map { DeviceShare(device: $0.device, nonces: $0.units, launchNonces: $0.launchUnits) }
        }
        return hits
    }

    /// One search as the devices see it: slice offsets count from `start`.
    struct Work: Sendable {
        let job: PoWJob
        let start: UInt64
        let candidates: Candidates
    }

    /// The nonces every device's kernel reported.
    final class Candidates: @unchecked Sendable {
        private let lock = NSLock()
        private var found = [UInt64]()
        func add(_ more: [UInt64]) { lock.withLock { found += more } }
        var nonces: [UInt64] { lock.withLock { found } }
    }

    /// One device: its program, kernel, buffers and calibrated launch size. Shared per
    /// process, so the calibration carries over between searches; one search at a time.
    final class Worker: LaunchWorker, @unchecked Sendable {
        let context: OpenCLContext
        let kernel: OpenCLKernel
        let midstateBuffer: OpenCLBuffer
        let blockBuffer: OpenCLBuffer
        let targetBuffer: OpenCLBuffer
        let countBuffer: OpenCLBuffer
        var resultsBuffer: OpenCLBuffer
        var maxResults: Int
        var calibrator: LaunchCalibrator
        let busy = NSLock()

        private static let workers = PerDeviceRegistry<Worker>()

        static func shared(for device: OpenCLDevice, cache: ProgramBinaryCache?) throws -> Worker {
            try workers.value(for: device) { try Worker(device: device, cache: cache) }
        }

        init(device: OpenCLDevice, cache: ProgramBinaryCache?) throws {
            context = try OpenCLContext.shared(for: device)
            let program = try context.program(source: KernelSources.powSearch, options: KernelSources.buildOptions, cache: cache)
            kernel = try program.kernel(named: "pow_search")
            midstateBuffer = try context.buffer(size: 32, access: .readOnly)
            blockBuffer = try context.buffer(size: 64, access: .readOnly)
            targetBuffer = try context.buffer(size: 32, access: .readOnly)
            countBuffer = try context.buffer(size: 4)
            maxResults = 4096
            resultsBuffer = try context.buffer(size: maxResults * 8)
            calibrator = LaunchCalibrator(device: device, targetSeconds: OpenCLPoWSearch.targetLaunchSeconds, maxItems: 1 << 24,
                                          unitsPerItem: UInt64(OpenCLPoWSearch.noncesPerItem))
        }

        var deviceName: String { context.device.name }
        var localSize: Int { calibrator.localSize }
        /// Nonces per full launch at the current calibration.
        var launchNonces: UInt64 { calibrator.launchUnits }

        func begin(_ work: Work) throws {
            try upload(work.job.midstate.words, to: midstateBuffer)
            try upload(work.job.secondBlock, to: blockBuffer)
            try upload(work.job.targetWords, to: targetBuffer)
            try kernel.setArgument(0, midstateBuffer)
            try kernel.setArgument(1, blockBuffer)
            try kernel.setArgument(4, targetBuffer)
            try kernel.setArgument(5, countBuffer)
        }

        func launch(_ work: Work, slice: WorkSlice) throws {
            let perItem = OpenCLPoWSearch.noncesPerItem
            let start = work.start &+ slice.start
            // Whole work-groups of `perItem` nonces per item first, then the rest in one
            // work-group with fewer nonces per item. Every launch uses the same local size;
            // the last launch may run up to localSize - 1 nonces past the slice, and those
            // candidates are dropped by the host's range check.
            let groupNonces = UInt64(localSize) * UInt64(perItem)
            let fullItems = slice.count / groupNonces * UInt64(localSize)
            let rest = slice.count - fullItems * UInt64(perItem)
            var found = [UInt64]()
            if fullItems > 0 { found += try launch(start: start, items: Int(fullItems), perItem: perItem) }
            if rest > 0 {
                let restPerItem = (rest + UInt64(localSize) - 1) / UInt64(localSize)
                found += try launch(start: start &+ fullItems * UInt64(perItem), items: localSize, perItem: UInt32(restPerItem))
            }
            if !found.isEmpty { work.candidates.add(found) }
        }

        private func launch(start: UInt64, items: Int, perItem: UInt32) throws -> [UInt64] {
            while true {
                var zero: UInt32 = 0
                try withUnsafeBytes(of: &zero) { try context.write(countBuffer, from: $0) }
                try kernel.setArgument(2, start)
                try kernel.setArgument(3, perItem)
                try kernel.setArgument(6, resultsBuffer)
                try kernel.setArgument(7, UInt32(maxResults))
                try context.enqueue(kernel, globalSize: items, localSize: localSize).wait()
                var count: UInt32 = 0
                try withUnsafeMutableBytes(of: &count) { try context.read(countBuffer, into: $0) }
                if Int(count) > maxResults {
                    // Some hits were dropped: grow the buffer and run this launch again.
                    maxResults = Int(count).roundedUp(to: 4096)
                    resultsBuffer = try context.buffer(size: maxResults * 8)
                    continue
                }
                var nonces = [UInt64](repeating: 0, count: Int(count))
                try nonces.withUnsafeMutableBytes { try context.read(resultsBuffer, into: $0) }
                return nonces
            }
        }

        private func upload<T>(_ array: [T], to buffer: OpenCLBuffer) throws {
            try array.withUnsafeBytes { try context.write(buffer, from: $0) }
        }
    }
}

extension Int {
    func roundedUp(to multiple: Int) -> Int { (self + multiple - 1) / multiple * multiple }
}
