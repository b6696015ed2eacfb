import ArgumentParser
import BLAKE3
import Ed25519
import Foundation
import OpenCLRuntime

/// `rusty devices`: what this machine offers the hot paths.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "Show the CPU SIMD level in use and the compute devices available."
    )

    @Flag(name: .long, help: "Print JSON.")
    var json = false

    func run() throws {
        let report = DeviceReport.current()
        if json {
            try printJSON(report, pretty: true)
        } else {
            print("CPU: \(report.cpuModel) (\(report.logicalCores) logical cores)")
            print("BLAKE3 SIMD: \(report.blake3Level) (detected \(report.blake3Detected); supported: \(report.blake3Supported.joined(separator: ", ")))")
            print("Ed25519 batch backend: \(report.ed25519Backend)")
            if let problem = report.openCLError { print("OpenCL: error: \(problem)") }
            if report.openCL.isEmpty {
                print("OpenCL: no platform found (no ICD loader configuration or driver installed)")
            }
            for platform in report.openCL {
                print("OpenCL platform: \(platform.name) (\(platform.vendor); \(platform.version))")
                if platform.devices.isEmpty { print("  no devices") }
                for device in platform.devices {
                    let memory = String(format: "%.1f GiB", Double(device.globalMemoryBytes) / 1_073_741_824)
                    print("  \(device.type) \(device.name): vendor \(device.vendor), \(device.computeUnits) compute units, "
                        + "\(memory) global memory, \(device.openCLCVersion), driver \(device.driverVersion)")
                }
            }
        }
    }
}
