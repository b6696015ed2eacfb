import Foundation

/// One long-lived object per device (a backend's compiled kernel, buffers and calibration),
/// made on first use and shared by every later search in the process.
public final class PerDeviceRegistry<Value: AnyObject>: @unchecked Sendable {
    private var values: [OpenCLDevice: Value] = [:]
    private let lock = NSLock()

    public init() {}

    public func value(for device: OpenCLDevice, make: () throws -> Value) throws -> Value {
        lock.lock()
        defer { lock.unlock() }
        if let value = values[device] { return value }
        let value = try make()
        values[device] = value
        return value
    }
}
