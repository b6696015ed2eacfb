// Module OpenCLRuntime: the OpenCL layer shared by the GPU backends: platforms, devices,
// contexts, programs and their binary cache, buffers, launches and the `--backend` choice.
// It must not know what a kernel computes (the backend modules do) nor depend on the
// engine's types beyond Primitives' helpers.

import COpenCL
import Foundation

/// What kind of device a platform reports.
public enum OpenCLDeviceType: String, Sendable, Codable, CustomStringConvertible {
    case gpu, cpu, accelerator, custom, other

    init(bits: cl_device_type) {
        if bits & cl_device_type(CL_DEVICE_TYPE_GPU) != 0 { self = .gpu }
        else if bits & cl_device_type(CL_DEVICE_TYPE_ACCELERATOR) != 0 { self = .accelerator }
        else if bits & cl_device_type(CL_DEVICE_TYPE_CPU) != 0 { self = .cpu }
        else if bits & cl_device_type(CL_DEVICE_TYPE_CUSTOM) != 0 { self = .custom }
        else { self = .other }
    }

    public var description: String { rawValue }
}

/// One OpenCL device and the facts the backends and `rusty devices` need.
public struct OpenCLDevice: @unchecked Sendable, Hashable, CustomStringConvertible {
    public let id: cl_device_id
    public let platformName: String
    public let name: String
    public let vendor: String
    public let type: OpenCLDeviceType
    public let computeUnits: Int
    public let globalMemory: UInt64
    public let maxWorkGroupSize: Int
    public let openCLCVersion: String
    public let deviceVersion: String
    public let driverVersion: String
    public let isLittleEndian: Bool
    public let isAvailable: Bool
    public let compilerAvailable: Bool

    public static func == (lhs: OpenCLDevice, rhs: OpenCLDevice) -> Bool { lhs.id == rhs.id }
    public func hash(into hasher: inout Hasher) { hasher.combine(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(id)))) }

    /// Whether the device is a GPU or an accelerator (what `auto` prefers over the CPU).
    public var isGPULike: Bool { type == .gpu || type == .accelerator }

    public var description: String { "\(name) [\(type), \(platformName)]" }

    init(id: cl_device_id, platformName: String) throws(OpenCLError) {
        self.id = id
        self.platformName = platformName
        name = try Self.string(id, CL_DEVICE_NAME)
        vendor = try Self.string(id, CL_DEVICE_VENDOR)
        type = OpenCLDeviceType(bits: try Self.value(id, CL_DEVICE_TYPE, as: cl_device_type.self))
        computeUnits = Int(try Self.value(id, CL_DEVICE_MAX_COMPUTE_UNITS, as: cl_uint.self))
        globalMemory = try Self.value(id, CL_DEVICE_GLOBAL_MEM_SIZE, as: cl_ulong.self)
        maxWorkGroupSize = try Self.value(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, as: Int.self)
        openCLCVersion = (try? Self.string(id, CL_DEVICE_OPENCL_C_VERSION)) ?? "OpenCL C 1.0"
        deviceVersion = try Self.string(id, CL_DEVICE_VERSION)
        driverVersion = try Self.string(id, CL_DRIVER_VERSION)
        isLittleEndian = try Self.value(id, CL_DEVICE_ENDIAN_LITTLE, as: cl_bool.self) != 0
        isAvailable = try Self.value(id, CL_DEVICE_AVAILABLE, as: cl_bool.self) != 0
        compilerAvailable = try Self.value(id, CL_DEVICE_COMPILER_AVAILABLE, as: cl_bool.self) != 0
    }

    static func string(_ id: cl_device_id, _ parameter: Int32) throws(OpenCLError) -> String {
        var size = 0
        try check(clGetDeviceInfo(id, cl_device_info(parameter), 0, nil, &size), "clGetDeviceInfo")
        var bytes = [CChar](repeating: 0, count: size + 1)
        try check(clGetDeviceInfo(id, cl_device_info(parameter), size, &bytes, nil), "clGetDeviceInfo")
        return trimmed(bytes)
    }

    static func value<T: FixedWidthInteger>(_ id: cl_device_id, _ parameter: Int32, as: T.Type) throws(OpenCLError) -> T {
        var value = T.zero
        try check(clGetDeviceInfo(id, cl_device_info(parameter), MemoryLayout<T>.size, &value, nil), "clGetDeviceInfo")
        return value
    }
}

/// One OpenCL platform (an installed driver) and its devices.
public struct OpenCLPlatform: @unchecked Sendable, CustomStringConvertible {
    public let id: cl_platform_id
    public let name: String
    public let vendor: String
    public let version: String
    public let devices: [OpenCLDevice]

    public var description: String { "\(name) (\(vendor), \(version))" }

    static func string(_ id: cl_platform_id, _ parameter: Int32) throws(OpenCLError) -> String {
        var size = 0
        try check(clGetPlatformInfo(id, cl_platform_info(parameter), 0, nil, &size), "clGetPlatformInfo")
        var bytes = [CChar](repeating: 0, count: size + 1)
        try check(clGetPlatformInfo(id, cl_platform_info(parameter), size, &bytes, nil), "clGetPlatformInfo")
        return trimmed(bytes)
    }
}

func trimmed(_ bytes: [CChar]) -> String {
    let text = bytes.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Entry point: the platforms and devices of this machine.
public enum OpenCL {
    /// Every platform with its devices. No ICD loader configuration, no installed driver
    /// (CL_PLATFORM_NOT_FOUND_KHR) or zero platforms give an empty list, never an error.
    ///
    /// The first call enumerates under a process-wide lock and later calls return the same
    /// list: the ICD loader's (and some drivers') first-call initialisation is not safe to
    /// run from several threads at once (concurrent first calls saw no platform, or crashed).
    public static func platforms() throws(OpenCLError) -> [OpenCLPlatform] {
        enumerationLock.lock()
        defer { enumerationLock.unlock() }
        if let cached = cachedPlatforms { return cached }
        let platforms = try enumeratePlatforms()
        cachedPlatforms = platforms
        return platforms
    }

    private static let enumerationLock = NSLock()
    nonisolated(unsafe) private static var cachedPlatforms: [OpenCLPlatform]?

    /// Serialises program builds process-wide (driver compilers are not all reentrant).
    static let buildLock = NSLock()

    private static func enumeratePlatforms() throws(OpenCLError) -> [OpenCLPlatform] {
        var count: cl_uint = 0
        let status = clGetPlatformIDs(0, nil, &count)
        if status == -1001 || (status == CL_SUCCESS && count == 0) { return [] }
        try check(status, "clGetPlatformIDs")
        var ids = [cl_platform_id?](repeating: nil, count: Int(count))
        try check(clGetPlatformIDs(count, &ids, nil), "clGetPlatformIDs")
        var platforms = [OpenCLPlatform]()
        for case let id? in ids {
            let name = try OpenCLPlatform.string(id, CL_PLATFORM_NAME)
            var deviceCount: cl_uint = 0
            let all = cl_device_type(CL_DEVICE_TYPE_ALL)
            let deviceStatus = clGetDeviceIDs(id, all, 0, nil, &deviceCount)
            var devices = [OpenCLDevice]()
            if deviceStatus != CL_DEVICE_NOT_FOUND {
                try check(deviceStatus, "clGetDeviceIDs")
                var deviceIDs = [cl_device_id?](repeating: nil, count: Int(deviceCount))
                try check(clGetDeviceIDs(id, all, deviceCount, &deviceIDs, nil), "clGetDeviceIDs")
                for case let deviceID? in deviceIDs {
                    devices.append(try OpenCLDevice(id: deviceID, platformName: name))
                }
            }
            platforms.append(OpenCLPlatform(
                id: id, name: name,
                vendor: try OpenCLPlatform.string(id, CL_PLATFORM_VENDOR),
                version: try OpenCLPlatform.string(id, CL_PLATFORM_VERSION),
                devices: devices))
        }
        return platforms
    }

    /// Every available device of every platform (empty when OpenCL is absent or broken).
    public static func devices() -> [OpenCLDevice] {
        ((try? platforms()) ?? []).flatMap(\.devices).filter { $0.isAvailable && $0.compilerAvailable }
    }

    /// The devices a compute backend should use: the GPUs and accelerators when there are
    /// any, otherwise every device (a CPU driver such as PoCL).
    public static func computeDevices() -> [OpenCLDevice] {
        let all = devices()
        let gpus = all.filter(\.isGPULike)
        return gpus.isEmpty ? all : gpus
    }

    /// Whether a GPU or accelerator device exists (what `--backend auto` asks).
    public static var hasGPU: Bool { devices().contains(where: \.isGPULike) }
}
