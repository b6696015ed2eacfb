import ArgumentParser
import Bench
import Foundation
import OpenCLRuntime

/// `rusty bench`: every hot path on every backend and device, with the anchors measurable here.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark every hot path on every available backend and device.",
        discussion: """
            Sections: blake3, pow, merkle, ed25519, utxo, verify-chain, mempool, frost, dkg, governance (`rusty bench mempool` runs only that \
            one, as --only does). Each figure is calibrated, warmed up, then \
            measured over repeated runs (median, min, max), with its ratio to the scalar backend and to the anchors \
            measured in the same run (libsodium single verification, b3sum --num-threads 1) where installed. \
            --quick takes under a minute; the full run under ten. --json prints the document described in \
            docs/PERFORMANCE.md ("rusty bench JSON schema"). --compare OLD.json NEW.json prints the change of every figure. \
            The mempool section accepts simple payments (one input, two outputs) in bursts on each signature backend \
            (transactions/s, per core, and the share of the time outside signature verification), then times \
            getblocktemplate's selection and template on a full pool; --transactions sets both sizes.
            """,
        subcommands: [BenchStratumCommand.self]
    )

    @Flag(help: "Shorter runs and fewer sizes (under a minute).")
    var quick = false

    @Flag(help: .hidden)
    var tiny = false

    @Flag(help: "Print the JSON document.")
    var json = false

    @Option(help: "Backends to run, comma-separated: all, scalar, simd, opencl (the scalar baseline always runs).")
    var backend = "all"

    @Option(help: "OpenCL devices, as indices into `rusty devices` order (comma-separated), or none.")
    var devices: String?

    @Option(parsing: .upToNextOption, help: "Run only these sections (blake3, pow, merkle, ed25519, utxo, verify-chain, mempool, frost, dkg, governance).")
    var only: [String] = []

    @Flag(help: "Compare two JSON documents: rusty bench --compare OLD.json NEW.json.")
    var compare = false

    @Flag(name: .customLong("no-anchors"), help: "Skip the libsodium and b3sum anchors.")
    var noAnchors = false

    @Option(help: "Mempool section: transactions per acceptance run and in the template's pool (default: 100 and 200 with --tiny, 5,000 and 20,000 with --quick, else 20,000 and 100,000).")
    var transactions: Int?

    @Argument(help: "Sections to run (as --only), or with --compare: the old and the new JSON document.")
    var files: [String] = []

    func validate() throws {
        if compare {
            guard files.count == 2 else { throw ValidationError("--compare takes two JSON files: OLD.json NEW.json") }
            return
        }
        if let unknown = files.first(where: { BenchSectionName(rawValue: $0) == nil }) {
            throw ValidationError("unexpected argument '\(unknown)' (not a section; files are only taken with --compare)")
        }
        if let transactions { try checkRange(transactions, "--transactions", 1...1_000_000) }
        guard !(quick && tiny) else { throw ValidationError("--quick and --tiny exclude each other") }
        _ = try sections()
        _ = try backends()
    }

    func sections() throws -> [BenchSectionName] {
        let names = (only + files).flatMap { $0.split(separator: ",").map(String.init) }
        guard !names.isEmpty else { return BenchSectionName.allCases }
        return try names.map { name in
            guard let section = BenchSectionName(rawValue: name) else {
                throw ValidationError("--only: unknown section '\(name)' (\(BenchSectionName.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return section
        }
    }

    func backends() throws -> Set<BenchBackendClass> {
        var result = Set<BenchBackendClass>()
        for name in backend.split(separator: ",").map(String.init) {
            if name == "all" { result.formUnion(BenchBackendClass.allCases); continue }
            guard let parsed = BenchBackendClass(rawValue: name) else {
                throw ValidationError("--backend: unknown backend '\(name)' (all, scalar, simd, opencl)")
            }
            result.insert(parsed)
        }
        guard !result.isEmpty else { throw ValidationError("--backend: give at least one backend") }
        return result
    }

    func selectedDevices() throws -> [OpenCLDevice] {
        let all = OpenCL.devices()
        guard let devices else { return all }
        if devices == "none" { return [] }
        var selected = [OpenCLDevice]()
        for part in devices.split(separator: ",") {
            guard let index = Int(part.trimmingCharacters(in: .whitespaces)), index >= 0, index < all.count else {
                throw ValidationError("--devices: '\(part)' is not a device index (0..<\(all.count))")
            }
            if !selected.contains(all[index]) { selected.append(all[index]) }
        }
        return selected
    }

    func run() throws {
        if compare {
            let documents = try files.map { path -> BenchDocument in
                let bytes = try InputFile(path: path).readAll()
                do {
                    return try BenchDocument.decode(Data(bytes))
                } catch {
                    throw CommandFailure(.malformed, "\(path): not a rusty bench JSON document: \(error)")
                }
            }
            print(BenchCompare.text(old: documents[0], new: documents[1]))
            return
        }
        var options = BenchOptions(mode: tiny ? .tiny : (quick ? .quick : .full), sections: try sections(), backends: try backends(),
                                   devices: try selectedDevices())
        options.anchors = !noAnchors
        options.rustyVersion = Rusty.version
        options.mempool = BenchMempoolPool.factory
        options.mempoolTransactions = transactions
        let verbose = isTerminal(2)
        options.progress = { message in if verbose || message.contains("failed") { printError(message) } }
        if !json {
            // Human output streams: each figure is printed (and flushed) as soon as it is
            // measured; ratios to anchors measured later in a section follow at its end.
            let header = BenchReport.streamHeader(machine: BenchMachine.current(), mode: options.mode.rawValue,
                                                  timestamp: ISO8601DateFormatter().string(from: Date()))
            print(header.joined(separator: "\n"))
            flushOutput()
            options.onEvent = { event in
                switch event {
                case .sectionStarted(let name): print("\n== \(name)")
                case .figure(let figure): print(BenchReport.streamLine(figure))
                case .sectionFinished(let section):
                    for figure in section.figures {
                        if let ratio = figure.ratioToAnchor, let anchor = figure.anchor {
                            print("  \(figure.name), \(figure.backend): " + String(format: "%.2fx ", ratio) + anchor)
                        }
                    }
                }
                flushOutput()
            }
        }
        let document: BenchDocument
        do {
            document = try BenchSuite.run(options)
        } catch {
            throw CommandFailure(.invalid, "bench: \(error)")
        }
        if json {
            try printJSON(document, pretty: true)
        } else {
            let tail = BenchReport.footer(document)
            print(tail.joined(separator: "\n"))
        }
    }
}
