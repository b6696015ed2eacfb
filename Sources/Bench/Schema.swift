import Foundation

/// The `rusty bench --json` document (schema in docs/PERFORMANCE.md, "rusty bench JSON schema").
/// Version 1. Fields are only ever added; a reader should ignore fields it does not know.
public struct BenchDocument: Codable, Sendable, Equatable {
    public static let currentVersion = 1

    /// Schema version (1).
    public var version: Int
    /// The `rusty` version that produced the document.
    public var rustyVersion: String?
    public var machine: BenchMachine
    /// ISO 8601, UTC, when the run started.
    public var timestamp: String
    /// `tiny`, `quick` or `full`.
    public var mode: String
    /// Wall time of the whole run in seconds.
    public var seconds: Double?
    public var sections: [BenchSection]
    /// Published anchors (DESIGN.md section 8), not measured here; for reference only.
    public var references: [BenchReference]?

    public init(version: Int = BenchDocument.currentVersion, rustyVersion: String? = nil, machine: BenchMachine, timestamp: String,
                mode: String, seconds: Double? = nil, sections: [BenchSection], references: [BenchReference]? = nil) {
        self.version = version
        self.rustyVersion = rustyVersion
        self.machine = machine
        self.timestamp = timestamp
        self.mode = mode
        self.seconds = seconds
        self.sections = sections
        self.references = references
    }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> BenchDocument {
        try JSONDecoder().decode(BenchDocument.self, from: data)
    }
}

public struct BenchMachine: Codable, Sendable, Equatable {
    /// CPU model name (from /proc/cpuinfo).
    public var cpu: String
    /// Logical cores available to the process.
    public var cores: Int
    /// BLAKE3 SIMD level in use (`avx512`, `avx2`, `sse4.1`, `scalar`).
    public var simd: String
    /// Ed25519 batch backend detected (`avx512ifma`, `avx2`, `scalar`).
    public var ed25519Backend: String
    /// Every available OpenCL device, `name [type, platform]`.
    public var openCLDevices: [String]
    /// 1-minute load average when the run started (other work on the machine).
    public var loadAverage: Double?

    public init(cpu: String, cores: Int, simd: String, ed25519Backend: String, openCLDevices: [String], loadAverage: Double? = nil) {
        self.cpu = cpu
        self.cores = cores
        self.simd = simd
        self.ed25519Backend = ed25519Backend
        self.openCLDevices = openCLDevices
        self.loadAverage = loadAverage
    }
}

public struct BenchSection: Codable, Sendable, Equatable {
    public var name: String
    public var figures: [BenchFigure]

    public init(name: String, figures: [BenchFigure]) {
        self.name = name
        self.figures = figures
    }
}

public struct BenchFigure: Codable, Sendable, Equatable {
    /// What is measured, e.g. `one-block compressions` or `batch 256`.
    public var name: String
    /// `scalar`, a SIMD level or engine (`avx512`, `avx512ifma`, ...), `opencl`, or an
    /// anchor's implementation (`libsodium`, `b3sum`).
    public var backend: String
    /// The OpenCL device, for `opencl` figures.
    public var device: String?
    /// Unit of median/min/max, e.g. `hashes/s`, `GiB/s`, `ms`, `bytes`.
    public var unit: String
    public var median: Double
    public var min: Double
    public var max: Double
    /// Measured runs after the warm-up.
    public var runs: Int
    /// Speed relative to the scalar backend's figure of the same name (higher is faster,
    /// also for time units).
    public var ratioToScalar: Double?
    /// Speed relative to `anchor`, measured in the same run.
    public var ratioToAnchor: Double?
    /// The anchor figure's name and backend, e.g. `libsodium single verify`.
    public var anchor: String?

    public init(name: String, backend: String, device: String? = nil, unit: String, median: Double, min: Double, max: Double,
                runs: Int, ratioToScalar: Double? = nil, ratioToAnchor: Double? = nil, anchor: String? = nil) {
        self.name = name
        self.backend = backend
        self.device = device
        self.unit = unit
        self.median = median
        self.min = min
        self.max = max
        self.runs = runs
        self.ratioToScalar = ratioToScalar
        self.ratioToAnchor = ratioToAnchor
        self.anchor = anchor
    }

    /// Time and size units: lower is better.
    public var lowerIsBetter: Bool { unit == "ms" || unit == "s" || unit == "bytes" }
}

/// A published figure from DESIGN.md section 8: printed for reference, never measured here.
public struct BenchReference: Codable, Sendable, Equatable {
    public var section: String
    public var hotPath: String
    public var anchor: String
    public var figure: String

    public init(section: String, hotPath: String, anchor: String, figure: String) {
        self.section = section
        self.hotPath = hotPath
        self.anchor = anchor
        self.figure = figure
    }

    public static let published: [BenchReference] = [
        BenchReference(section: "blake3", hotPath: "one-block compressions", anchor: "reference BLAKE3 C hash_many, AVX-512, one core",
                       figure: "~100 M/s"),
        BenchReference(section: "blake3", hotPath: "bulk hashing", anchor: "PyPI blake3 (official Rust crate), one thread, 64 MiB",
                       figure: "~4.4 GiB/s"),
        BenchReference(section: "ed25519", hotPath: "single verify", anchor: "libsodium crypto_sign_verify_detached, one core",
                       figure: "~18 k/s"),
        BenchReference(section: "ed25519", hotPath: "batch verify", anchor: "ed25519-dalek AVX2 batch of 256 (desktop i7)",
                       figure: "11.3 us/sig vs 26 us single"),
        BenchReference(section: "pow", hotPath: "BLAKE3 PoW on GPU", anchor: "Decred gominer, one compression per nonce",
                       figure: "V100 ~14 GH/s; H100 estimated 23-35 GH/s"),
        BenchReference(section: "ed25519", hotPath: "Ed25519 on GPU", anchor: "Solana sigverify, one signature per thread",
                       figure: "300 k/s on a GTX 1080 Ti (2019)"),
    ]
}
