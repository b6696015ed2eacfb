import ArgumentParser
import BLAKE3
import Ed25519
import Foundation

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
            print(try report.jsonString())
        } else {
            print("CPU: \(report.cpuModel) (\(report.logicalCores) logical cores)")
            print("BLAKE3 SIMD: \(report.blake3Level) (detected \(report.blake3Detected); supported: \(report.blake3Supported.joined(separator: ", ")))")
            print("Ed25519 batch backend: \(report.ed25519Backend)")
            print("OpenCL: not available in this build")
        }
    }
}

struct DeviceReport: Codable {
    var cpuModel: String
    var logicalCores: Int
    var blake3Level: String
    var blake3Detected: String
    var blake3Supported: [String]
    var ed25519Backend: String

    static func current() -> DeviceReport {
        DeviceReport(
            cpuModel: cpuModelName(),
            logicalCores: activeProcessorCount(),
            blake3Level: BLAKE3Level.default.description,
            blake3Detected: BLAKE3Level.detected.description,
            blake3Supported: BLAKE3Level.supported.map(\.description),
            ed25519Backend: Ed25519.Backend.detected.rawValue)
    }

    func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
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
