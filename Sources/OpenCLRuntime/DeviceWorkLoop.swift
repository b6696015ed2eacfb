import Foundation

/// One device's long-lived state for a backend (program, buffers, calibration), shared per
/// process so the build and the calibration carry over between calls.
public protocol LaunchWorker: AnyObject, Sendable {
    /// What one call hands every device (its inputs and where results go).
    associatedtype Work: Sendable
    /// The device's name, for the reports.
    var deviceName: String { get }
    /// The calibrated launch size; only the loop running this worker changes it.
    var calibrator: LaunchCalibrator { get set }
    /// Held for a whole call: one call at a time per device.
    var busy: NSLock { get }
    /// Called once per call before the first slice (e.g. to upload inputs every slice shares).
    func begin(_ work: Work) throws
    /// Runs one slice of the work on the device.
    func launch(_ work: Work, slice: WorkSlice) throws
}

extension LaunchWorker {
    public func begin(_ work: Work) throws {}
}

/// What one device did in one call.
public struct DeviceWorkReport: Sendable, Equatable {
    public let device: String
    public let units: UInt64
    public let launches: Int
    /// The calibrated launch size (work units) at the end of the call.
    public let launchUnits: UInt64
}

/// The per-device worker loop every multi-device backend shares: each device pulls slices
/// of its launch size from one cursor, so faster devices take more; a slice that filled a
/// whole launch recalibrates the size from its measured time.
public enum DeviceWorkLoop {
    /// Runs every worker on its own thread until the cursor is empty. The first error
    /// cancels the cursor (the other devices stop after their current launch) and is
    /// rethrown. `progress` gets the running total of finished units. Reports are in
    /// worker order.
    public static func run<Worker: LaunchWorker>(_ workers: [Worker], work: Worker.Work, cursor: WorkCursor,
                                                 progress: (@Sendable (UInt64) -> Void)? = nil) throws -> [DeviceWorkReport] {
        let collector = Collector(count: workers.count)
        DispatchQueue.concurrentPerform(iterations: workers.count) { index in
            do {
                collector.add(try runOne(workers[index], work: work, cursor: cursor, progress: progress), at: index)
            } catch {
                cursor.cancel()
                collector.fail(error)
            }
        }
        return try collector.reports()
    }

    static func runOne<Worker: LaunchWorker>(_ worker: Worker, work: Worker.Work, cursor: WorkCursor,
                                             progress: (@Sendable (UInt64) -> Void)?) throws -> DeviceWorkReport {
        worker.busy.lock()
        defer { worker.busy.unlock() }
        try worker.begin(work)
        var units: UInt64 = 0
        var launches = 0
        while true {
            let wanted = worker.calibrator.launchUnits
            guard let slice = cursor.take(wanted) else { break }
            let began = DispatchTime.now().uptimeNanoseconds
            try worker.launch(work, slice: slice)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - began) / 1e9
            // Only a full launch says how long the calibrated size takes.
            if slice.count == wanted { worker.calibrator.record(seconds: seconds) }
            units += slice.count
            launches += 1
            progress?(cursor.finished(slice.count))
        }
        return DeviceWorkReport(device: worker.deviceName, units: units, launches: launches,
                                launchUnits: worker.calibrator.launchUnits)
    }

    /// The reports (in worker order) and the first error.
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [DeviceWorkReport?]
        private var firstError: Error?
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func add(_ report: DeviceWorkReport, at index: Int) { lock.withLock { slots[index] = report } }
        func fail(_ error: Error) { lock.withLock { if firstError == nil { firstError = error } } }
        func reports() throws -> [DeviceWorkReport] {
            try lock.withLock {
                if let firstError { throw firstError }
                return slots.compactMap { $0 }
            }
        }
    }
}
