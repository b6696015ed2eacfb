// Module Bench: `rusty bench`. It owns the measuring (calibration, warm-up, median/min/max),
// the workloads (Workloads/, one file per section behind BenchWorkload), the anchors
// (libsodium, b3sum) and the JSON document and its comparison. It must not print (the
// command renders events and documents) nor define engine code of its own: workloads drive
// the library modules as the node does, with blocks from ChainGen.

import BLAKE3
import ChainGen
import Ed25519
import Foundation
import OpenCLRuntime
import Primitives

/// How long the suite runs: `tiny` (milliseconds per section, for the tests), `quick`
/// (under a minute), `full` (under ten minutes).
public enum BenchMode: String, Sendable, CaseIterable {
    case tiny, quick, full

    /// Seconds one measured run should last (sizes are calibrated to it).
    var targetSeconds: Double {
        switch self {
        case .tiny: return 0.002
        case .quick: return 0.05
        case .full: return 0.3
        }
    }

    /// Measured runs after the warm-up.
    var runs: Int {
        switch self {
        case .tiny: return 2
        case .quick: return 3
        case .full: return 7
        }
    }
}

/// The sections, in run order (names usable with `--only`).
public enum BenchSectionName: String, Sendable, CaseIterable {
    case blake3, pow, merkle, ed25519, utxo
    case verifyChain = "verify-chain"
    case mempool
    case frost
    case dkg
    case governance
}

/// Backend classes that `--backend` selects.
public enum BenchBackendClass: String, Sendable, CaseIterable {
    case scalar, simd, opencl
}

public struct BenchOptions: Sendable {
    public var mode: BenchMode
    /// Nil: every section.
    public var sections: [BenchSectionName]
    /// The backend classes to run (the scalar baseline always runs, for the ratios).
    public var backends: Set<BenchBackendClass>
    /// OpenCL devices to run on.
    public var devices: [OpenCLDevice]
    /// Measure the anchors (libsodium, b3sum) where installed.
    public var anchors = true
    /// Progress notes (standard error in the command).
    public var progress: @Sendable (String) -> Void = { _ in }
    /// Results as they are measured, for streaming output: each section's name when it
    /// starts, each figure when its runs are done (with its ratio to scalar when the scalar
    /// figure came first, as it does everywhere), each section with every ratio when it ends.
    public var onEvent: @Sendable (BenchEvent) -> Void = { _ in }
    public var rustyVersion: String?
    /// The pool the mempool section measures (the command supplies the node's).
    public var mempool: BenchMempoolFactory?
    /// The mempool section's transactions per acceptance run and in the template's pool
    /// (nil: by mode).
    public var mempoolTransactions: Int?

    public init(mode: BenchMode, sections: [BenchSectionName] = BenchSectionName.allCases,
                backends: Set<BenchBackendClass> = Set(BenchBackendClass.allCases), devices: [OpenCLDevice] = OpenCL.devices()) {
        self.mode = mode
        self.sections = sections
        self.backends = backends
        self.devices = devices
    }

    func runs(_ backend: BenchBackendClass) -> Bool { backend == .scalar || backends.contains(backend) }
}

/// What `BenchOptions.onEvent` receives, in order.
public enum BenchEvent: Sendable {
    case sectionStarted(String)
    case figure(BenchFigure)
    case sectionFinished(BenchSection)
}

/// Runs the selected sections and returns the document.
public enum BenchSuite {
    public static func run(_ options: BenchOptions) throws -> BenchDocument {
        let start = DispatchTime.now().uptimeNanoseconds
        let timestamp = ISO8601DateFormatter().string(from: Date())
        let machine = BenchMachine.current()
        var sections = [BenchSection]()
        for name in BenchSectionName.allCases where options.sections.contains(name) {
            options.progress("bench: \(name.rawValue)")
            options.onEvent(.sectionStarted(name.rawValue))
            let recorder = Recorder(options: options)
            guard let workload = benchWorkloads.first(where: { $0.section == name }) else { continue }
            try workload.run(recorder)
            let section = BenchSection(name: name.rawValue, figures: recorder.finished())
            options.onEvent(.sectionFinished(section))
            sections.append(section)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let wanted = Set(options.sections.map(\.rawValue))
        return BenchDocument(rustyVersion: options.rustyVersion, machine: machine, timestamp: timestamp, mode: options.mode.rawValue,
                             seconds: seconds, sections: sections,
                             references: BenchReference.published.filter { wanted.contains($0.section) })
    }
}

extension BenchMachine {
    public static func current() -> BenchMachine {
        BenchMachine(cpu: cpuModelName(), cores: ProcessInfo.processInfo.activeProcessorCount, simd: BLAKE3Level.default.description,
                     ed25519Backend: Ed25519.Backend.detected.rawValue, openCLDevices: OpenCL.devices().map(\.description),
                     loadAverage: loadAverage())
    }

    static func cpuModelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") { return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces) }
        }
        return "unknown CPU"
    }

    static func loadAverage() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
        return text.split(separator: " ").first.flatMap { Double($0) }
    }
}

/// Collects one section's figures: warm-up, calibration, repeated runs, median/min/max,
/// then the ratios to the scalar backend and to the anchors.
final class Recorder {
    let options: BenchOptions
    var mode: BenchMode { options.mode }
    private var figures: [BenchFigure] = []
    /// figure index -> (anchor figure name, anchor backend)
    private var anchors: [Int: (name: String, backend: String)] = [:]

    init(options: BenchOptions) { self.options = options }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since start: UInt64) -> Double { max(1e-9, Double(now() - start) / 1e9) }

    /// Times `body` once.
    static func time(_ body: () throws -> Void) rethrows -> Double {
        let start = now()
        try body()
        return seconds(since: start)
    }

    /// Adds a figure from per-run values.
    @discardableResult
    func add(_ name: String, backend: String, device: String? = nil, unit: String, values: [Double],
             anchor: (name: String, backend: String)? = nil) -> Int {
        let sorted = values.sorted()
        let median = sorted.isEmpty ? 0 : (sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                                                                  : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2)
        figures.append(BenchFigure(name: name, backend: backend, device: device, unit: unit, median: median,
                                   min: sorted.first ?? 0, max: sorted.last ?? 0, runs: values.count))
        if let anchor { anchors[figures.count - 1] = anchor }
        options.onEvent(.figure(Self.withRatios(figures, anchors: anchors)[figures.count - 1]))
        return figures.count - 1
    }

    /// A rate: `body(size)` does `size` units of work (returning the units done, which may
    /// differ from `size`). The size grows from `initial` until one run lasts about the
    /// mode's target time (these calibration runs are the warm-up), then `mode.runs` runs
    /// give units per second (divided by `scale`, e.g. 2^30 for GiB/s).
    @discardableResult
    func rate(_ name: String, backend: String, device: String? = nil, unit: String, scale: Double = 1,
              initial: Int = 1, maxSize: Int = 1 << 40, anchor: (name: String, backend: String)? = nil,
              _ body: (Int) throws -> Double) throws -> Int {
        var size = max(1, initial)
        let target = mode.targetSeconds
        var calibrations = 0
        while true {
            var units = 0.0
            let seconds = try Self.time { units = try body(size) }
            _ = units
            calibrations += 1
            if seconds >= target * 0.5 || size >= maxSize || calibrations >= 12 { break }
            let factor = Swift.min(64, Swift.max(2, target / seconds))
            size = Swift.min(maxSize, Int(Double(size) * factor))
        }
        var values = [Double]()
        for _ in 0..<mode.runs {
            var units = 0.0
            let seconds = try Self.time { units = try body(size) }
            values.append(units / seconds / scale)
        }
        return add(name, backend: backend, device: device, unit: unit, values: values, anchor: anchor)
    }

    /// The figures with their ratios filled in.
    func finished() -> [BenchFigure] { Self.withRatios(figures, anchors: anchors) }

    /// Ratios from the figures measured so far (a figure's scalar or anchor figure may come later).
    static func withRatios(_ figures: [BenchFigure], anchors: [Int: (name: String, backend: String)]) -> [BenchFigure] {
        var result = figures
        for index in result.indices {
            let figure = result[index]
            // A share (%) has no speed to compare.
            if figure.backend != "scalar", figure.median > 0, figure.unit != "%",
               let scalar = result.first(where: { $0.backend == "scalar" && $0.name == figure.name && $0.unit == figure.unit }),
               scalar.median > 0 {
                result[index].ratioToScalar = figure.lowerIsBetter ? scalar.median / figure.median : figure.median / scalar.median
            }
            if let anchor = anchors[index],
               let reference = result.first(where: { $0.name == anchor.name && $0.backend == anchor.backend }), reference.median > 0 {
                result[index].anchor = "\(anchor.backend): \(anchor.name)"
                result[index].ratioToAnchor = figure.lowerIsBetter ? reference.median / figure.median : figure.median / reference.median
            }
        }
        return result
    }
}

/// Deterministic inputs: the package's seeded generator (the chain generator's too).
typealias BenchRandom = SeededGenerator
