import BLAKE3
import Ed25519
import Foundation
import OpenCLRuntime

/// `rusty devices --json`: the CPU's SIMD levels and every OpenCL platform and device.
struct DeviceReport: Codable {
    var cpuModel: String
    var logicalCores: Int
    var blake3Level: String
    var blake3Detected: String
    var blake3Supported: [String]
    var ed25519Backend: String
    var openCL: [OpenCLPlatformReport]
    var openCLError: String?

    static func current() -> DeviceReport {
        let openCL = OpenCLPlatformReport.all()
        return DeviceReport(
            cpuModel: cpuModelName(),
            logicalCores: activeProcessorCount(),
            blake3Level: BLAKE3Level.default.description,
            blake3Detected: BLAKE3Level.detected.description,
            blake3Supported: BLAKE3Level.supported.map(\.description),
            ed25519Backend: Ed25519.Backend.detected.rawValue,
            openCL: openCL.platforms,
            openCLError: openCL.error)
    }
}

func cpuModelName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
        if let colon = line.firstIndex(of: ":") {
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }
    return "unknown CPU"
}

struct OpenCLPlatformReport: Codable {
    var name: String
    var vendor: String
    var version: String
    var devices: [OpenCLDeviceReport]

    /// Every platform and device; an OpenCL failure is reported, not fatal.
    static func all() -> (platforms: [OpenCLPlatformReport], error: String?) {
        do {
            let platforms = try OpenCL.platforms().map { platform in
                OpenCLPlatformReport(
                    name: platform.name, vendor: platform.vendor, version: platform.version,
                    devices: platform.devices.map(OpenCLDeviceReport.init))
            }
            return (platforms, nil)
        } catch {
            return ([], "\(error)")
        }
    }
}

struct OpenCLDeviceReport: Codable {
    var name: String
    var vendor: String
    var type: String
    var computeUnits: Int
    var globalMemoryBytes: UInt64
    var openCLCVersion: String
    var deviceVersion: String
    var driverVersion: String

    init(_ device: OpenCLDevice) {
        name = device.name
        vendor = device.vendor
        type = device.type.rawValue
        computeUnits = device.computeUnits
        globalMemoryBytes = device.globalMemory
        openCLCVersion = device.openCLCVersion
        deviceVersion = device.deviceVersion
        driverVersion = device.driverVersion
    }
}
