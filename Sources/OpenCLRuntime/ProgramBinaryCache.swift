import BLAKE3
import Foundation
import Primitives

/// Compiled program binaries on disk, one file per (device name, driver version, build
/// options, source), named by the BLAKE3 hash of those. A binary the driver rejects is
/// deleted and the program is rebuilt from source.
public struct ProgramBinaryCache: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    /// `$RUSTY_OPENCL_CACHE`, else `$XDG_CACHE_HOME/rusty/opencl`, else `~/.cache/rusty/opencl`;
    /// nil when none can be named.
    public static var standard: ProgramBinaryCache? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["RUSTY_OPENCL_CACHE"], !path.isEmpty {
            return ProgramBinaryCache(directory: URL(fileURLWithPath: path))
        }
        if let path = environment["XDG_CACHE_HOME"], path.hasPrefix("/") {
            return ProgramBinaryCache(directory: URL(fileURLWithPath: path).appendingPathComponent("rusty/opencl"))
        }
        if let home = environment["HOME"], !home.isEmpty {
            return ProgramBinaryCache(directory: URL(fileURLWithPath: home).appendingPathComponent(".cache/rusty/opencl"))
        }
        return nil
    }

    public static func key(device: OpenCLDevice, options: String, source: String) -> String {
        var hasher = BLAKE3Hasher()
        for part in [device.name, device.vendor, device.driverVersion, device.deviceVersion, options, source] {
            hasher.update(Array(part.utf8))
            hasher.update([0])
        }
        return HexCoding.encode(hasher.finalize())
    }

    func url(key: String) -> URL { directory.appendingPathComponent(key + ".bin") }

    public func load(key: String) -> [UInt8]? {
        guard let data = try? Data(contentsOf: url(key: key)), !data.isEmpty else { return nil }
        return [UInt8](data)
    }

    /// Best effort: a cache that cannot be written is skipped silently.
    public func store(key: String, binary: [UInt8]) {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let temporary = directory.appendingPathComponent(".\(key).\(getpid()).tmp")
            try Data(binary).write(to: temporary)
            if rename(temporary.path, url(key: key).path) != 0 { try? FileManager.default.removeItem(at: temporary) }
        } catch {}
    }

    public func remove(key: String) {
        try? FileManager.default.removeItem(at: url(key: key))
    }
}
