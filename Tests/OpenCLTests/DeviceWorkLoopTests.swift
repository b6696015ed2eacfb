import Foundation
import OpenCLRuntime
import Testing

/// A simulated device: records the slices it ran and takes `secondsPerUnit` per unit, so
/// devices of uneven speed compete for one cursor. Fails on its `failAt`-th launch.
final class SimulatedDevice: LaunchWorker, @unchecked Sendable {
    struct Work: Sendable {}
    let deviceName: String
    var calibrator: LaunchCalibrator
    let busy = NSLock()
    let secondsPerUnit: Double
    let failAt: Int?
    private(set) var slices = [WorkSlice]()
    private(set) var begun = 0

    struct Failure: Error {}

    init(_ name: String, secondsPerUnit: Double, items: Int = 4, failAt: Int? = nil) {
        deviceName = name
        self.secondsPerUnit = secondsPerUnit
        self.failAt = failAt
        calibrator = LaunchCalibrator(localSize: 2, items: items, targetSeconds: 0.004, maxItems: 64)
    }

    func begin(_ work: Work) throws { begun += 1 }

    func launch(_ work: Work, slice: WorkSlice) throws {
        if let failAt, slices.count == failAt { throw Failure() }
        slices.append(slice)
        Thread.sleep(forTimeInterval: secondsPerUnit * Double(slice.count))
    }
}

@Suite struct DeviceWorkLoopTests {
    /// The units of 0..<total not handed out exactly once over all devices (the first 10).
    static func miscounted(_ devices: [SimulatedDevice], total: Int) -> [Int] {
        var seen = [Int](repeating: 0, count: total)
        for device in devices {
            for slice in device.slices {
                #expect(slice.count > 0)
                for unit in slice.indices where unit < total { seen[unit] += 1 }
                #expect(slice.indices.upperBound <= total, "slice \(slice) past \(total)")
            }
        }
        return Array(seen.indices.filter { seen[$0] != 1 }.prefix(10))
    }

    @Test("several devices of uneven speed: every unit is handed out exactly once, and the fast one takes more")
    func everyUnitOnce() throws {
        let devices = [SimulatedDevice("fast", secondsPerUnit: 0.00002), SimulatedDevice("slow", secondsPerUnit: 0.0004),
                       SimulatedDevice("medium", secondsPerUnit: 0.0001)]
        let total = 3001
        let reports = try DeviceWorkLoop.run(devices, work: SimulatedDevice.Work(), cursor: WorkCursor(total: UInt64(total)))
        #expect(Self.miscounted(devices, total: total) == [])
        #expect(reports.map(\.device) == ["fast", "slow", "medium"])
        #expect(reports.reduce(0) { $0 + $1.units } == UInt64(total))
        for (report, device) in zip(reports, devices) {
            #expect(report.launches == device.slices.count)
            #expect(report.units == UInt64(device.slices.reduce(0) { $0 + $1.count }))
            #expect(device.begun == 1)
        }
        #expect(reports[0].units > reports[1].units, "\(reports)")
        // Calibration towards 4 ms: the slow device's launches end up smaller than the fast one's.
        #expect(reports[0].launchUnits > reports[1].launchUnits, "\(reports)")
    }

    @Test("an empty batch hands out nothing and launches nothing")
    func emptyBatch() throws {
        let devices = [SimulatedDevice("a", secondsPerUnit: 0), SimulatedDevice("b", secondsPerUnit: 0)]
        let reports = try DeviceWorkLoop.run(devices, work: SimulatedDevice.Work(), cursor: WorkCursor(total: 0))
        #expect(reports.map(\.units) == [0, 0] && reports.map(\.launches) == [0, 0])
        #expect(devices.allSatisfy { $0.slices.isEmpty })
    }

    @Test("a limit shortens slices (never below one unit) and every unit is still handed out once")
    func limitedSlices() throws {
        let devices = [SimulatedDevice("a", secondsPerUnit: 0.00001, items: 16), SimulatedDevice("b", secondsPerUnit: 0.00003, items: 16)]
        // At most 3 units per slice, and a slice never crosses a multiple of 10.
        let cursor = WorkCursor(total: 257) { start, wanted in min(wanted, 3, 10 - start % 10) }
        _ = try DeviceWorkLoop.run(devices, work: SimulatedDevice.Work(), cursor: cursor)
        #expect(Self.miscounted(devices, total: 257) == [])
        for slice in devices.flatMap(\.slices) {
            #expect(slice.count <= 3 && slice.start / 10 == (slice.start + slice.count - 1) / 10, "\(slice)")
        }
        // A limit of 0 still moves on by one unit.
        let stubborn = WorkCursor(total: 2) { _, _ in 0 }
        #expect(stubborn.take(5) == WorkSlice(start: 0, count: 1))
        #expect(stubborn.take(5) == WorkSlice(start: 1, count: 1))
        #expect(stubborn.take(5) == nil)
    }

    @Test("a failing device stops the others and its error is thrown")
    func failureCancels() {
        let devices = [SimulatedDevice("ok", secondsPerUnit: 0.0001), SimulatedDevice("broken", secondsPerUnit: 0.0001, failAt: 2)]
        #expect(throws: SimulatedDevice.Failure.self) {
            _ = try DeviceWorkLoop.run(devices, work: SimulatedDevice.Work(), cursor: WorkCursor(total: 1_000_000))
        }
        let handed = devices.reduce(0) { $0 + $1.slices.reduce(0) { $0 + Int($1.count) } }
        #expect(handed < 1_000_000)
    }

    @Test("calibration: whole work-groups, at most x8 / at least /4 per step, within [localSize, maxItems]")
    func calibration() {
        var calibrator = LaunchCalibrator(localSize: 64, items: 1000, targetSeconds: 0.2, maxItems: 1 << 22, unitsPerItem: 256)
        #expect(calibrator.items == 960 && calibrator.launchUnits == 960 * 256)
        calibrator.record(seconds: 0.001)
        #expect(calibrator.items == 960 * 8)
        calibrator.record(seconds: 10)
        #expect(calibrator.items == 960 * 2)
        calibrator.record(seconds: 0.1)
        #expect(calibrator.items == 960 * 4)
        for _ in 0..<20 { calibrator.record(seconds: 100) }
        #expect(calibrator.items == 64)
        for _ in 0..<20 { calibrator.record(seconds: 0) }
        #expect(calibrator.items == 1 << 22)
    }
}
