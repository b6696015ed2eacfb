import Bench
import Foundation
import Testing
import TestSupport

/// `rusty bench` end to end in its tiny mode (every section in milliseconds), the JSON
/// schema, `--compare`, `--only` and usage errors.
struct BenchCommandTests {
    /// One tiny run of every section, shared by the tests (the OpenCL figures run on
    /// whatever devices exist, e.g. PoCL in CI).
    static let tinyRun: Result<(json: Data, document: BenchDocument), Error> = Result {
        let result = try runProcess(TestPaths.rustyExecutable, ["bench", "--tiny", "--json"])
        guard result.status == 0 else {
            throw BenchTestError("rusty bench --tiny --json exited with \(result.status): \(result.stderrText)")
        }
        return (result.stdout, try BenchDocument.decode(result.stdout))
    }

    struct BenchTestError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func temporaryFile(_ data: Data) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-bench-test-\(UUID().uuidString).json")
        try data.write(to: url)
        return url
    }

    @Test("tiny mode: every section, every figure measured (> 0), a well-formed JSON document")
    func tinyEverySection() throws {
        let (json, document) = try Self.tinyRun.get()
        #expect(document.version == BenchDocument.currentVersion)
        #expect(document.mode == "tiny")
        #expect(document.machine.cores > 0 && !document.machine.cpu.isEmpty && !document.machine.simd.isEmpty)
        #expect(document.sections.map(\.name) == BenchSectionName.allCases.map(\.rawValue))
        for section in document.sections {
            #expect(!section.figures.isEmpty, "\(section.name) has no figures")
            for figure in section.figures {
                #expect(figure.median > 0 && figure.min > 0 && figure.max >= figure.median && figure.median >= figure.min,
                        "\(section.name) \(figure.name) \(figure.backend): \(figure.min) \(figure.median) \(figure.max)")
                #expect(figure.runs >= 2 && !figure.unit.isEmpty)
                if let ratio = figure.ratioToScalar { #expect(ratio > 0) }
                if let ratio = figure.ratioToAnchor { #expect(ratio > 0 && figure.anchor != nil) }
            }
            // Every section has its scalar baseline, and the other backends have ratios to it.
            if ["blake3", "pow", "merkle", "ed25519", "verify-chain"].contains(section.name) {
                #expect(section.figures.contains { $0.backend == "scalar" }, "\(section.name) lacks a scalar figure")
                #expect(section.figures.contains { $0.ratioToScalar != nil }, "\(section.name) has no ratio to scalar")
            }
        }
        let utxo = try #require(document.sections.first { $0.name == "utxo" })
        for wanted in ["cache hit lookups", "cache adds and spends", "bytes written per connected block", "flush after block"] {
            #expect(utxo.figures.contains { $0.name == wanted }, "utxo lacks \(wanted)")
        }
        #expect(utxo.figures.contains { $0.name.hasPrefix("block connect (") && $0.unit == "ms" })
        let verify = try #require(document.sections.first { $0.name == "verify-chain" })
        #expect(Set(verify.figures.map(\.unit)).isSuperset(of: ["signatures/s", "blocks/s"]))
        #expect(document.references?.isEmpty == false)
        // The JSON is an object with the documented top-level keys.
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        for key in ["version", "machine", "timestamp", "mode", "sections"] { #expect(object[key] != nil, "missing \(key)") }
        let machine = try #require(object["machine"] as? [String: Any])
        for key in ["cpu", "cores", "simd", "ed25519Backend", "openCLDevices"] { #expect(machine[key] != nil, "missing machine.\(key)") }
    }

    @Test("--compare OLD NEW prints every figure with old, new and the change")
    func compare() throws {
        let (json, document) = try Self.tinyRun.get()
        var faster = document
        for s in faster.sections.indices {
            for f in faster.sections[s].figures.indices { faster.sections[s].figures[f].median *= 1.5 }
        }
        let old = try Self.temporaryFile(json), new = try Self.temporaryFile(try faster.jsonData())
        defer { try? FileManager.default.removeItem(at: old); try? FileManager.default.removeItem(at: new) }
        let result = try runProcess(TestPaths.rustyExecutable, ["bench", "--compare", old.path, new.path])
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n").map(String.init)
        let figureCount = document.sections.reduce(0) { $0 + $1.figures.count }
        #expect(lines.filter { $0.hasSuffix("+50.0%") }.count == figureCount, "\(result.stdoutText)")
        for section in document.sections {
            for figure in section.figures {
                #expect(lines.contains { $0.hasPrefix(section.name) && $0.contains(figure.name) && $0.contains(figure.backend) },
                        "\(section.name) \(figure.name) \(figure.backend) missing")
            }
        }
        // Matching is by (section, name, backend, device): a figure only in one document is named.
        var fewer = document
        fewer.sections.removeLast()
        let partial = try Self.temporaryFile(try fewer.jsonData())
        defer { try? FileManager.default.removeItem(at: partial) }
        let one = try runProcess(TestPaths.rustyExecutable, ["bench", "--compare", old.path, partial.path])
        #expect(one.status == 0 && one.stdoutText.contains("old only"))
        // Not a bench document: malformed input, exit 2.
        let garbage = try Self.temporaryFile(Data("{\"hello\": 1}".utf8))
        defer { try? FileManager.default.removeItem(at: garbage) }
        let bad = try runProcess(TestPaths.rustyExecutable, ["bench", "--compare", old.path, garbage.path])
        #expect(bad.status == 2 && bad.stderrText.contains("not a rusty bench JSON document"))
    }

    @Test("--only limits the sections; the table names the section and the published anchors")
    func only() throws {
        let result = try runProcess(TestPaths.rustyExecutable, ["bench", "--tiny", "--json", "--only", "blake3"])
        #expect(result.status == 0, "\(result.stderrText)")
        let document = try BenchDocument.decode(result.stdout)
        // Round trip: the document re-encodes to the bytes rusty printed (the one encoder, sorted keys).
        #expect(String(decoding: try document.jsonData(), as: UTF8.self) + "\n" == result.stdoutText)
        #expect(document.sections.map(\.name) == ["blake3"])
        #expect(document.references?.allSatisfy { $0.section == "blake3" } == true)

        let text = try runProcess(TestPaths.rustyExecutable, ["bench", "--tiny", "--only", "merkle,pow", "--backend", "scalar"])
        #expect(text.status == 0, "\(text.stderrText)")
        #expect(text.stdoutText.contains("== pow") && text.stdoutText.contains("== merkle") && !text.stdoutText.contains("== blake3"))
        #expect(text.stdoutText.contains("hashes/s") && text.stdoutText.contains("machine:"))
        #expect(text.stdoutText.contains("not measured here"))
    }

    @Test("usage errors exit 64", arguments: [
        ["bench", "--only", "nothing"],
        ["bench", "--backend", "gpu"],
        ["bench", "--devices", "999"],
        ["bench", "--compare", "one.json"],
        ["bench", "stray.json"],
        ["bench", "--quick", "--tiny"],
    ])
    func usageErrors(arguments: [String]) throws {
        let result = try runProcess(TestPaths.rustyExecutable, arguments)
        #expect(result.status == 64, "\(arguments): \(result.status) \(result.stderrText)")
    }

    @Test("compare rows and the schema round trip, in process")
    func library() throws {
        let machine = BenchMachine(cpu: "cpu", cores: 2, simd: "avx512", ed25519Backend: "avx512ifma", openCLDevices: [])
        let old = BenchDocument(machine: machine, timestamp: "2026-01-01T00:00:00Z", mode: "quick", sections: [
            BenchSection(name: "pow", figures: [
                BenchFigure(name: "hashes", backend: "scalar", unit: "hashes/s", median: 100, min: 90, max: 110, runs: 3),
                BenchFigure(name: "hashes", backend: "opencl", device: "gpu0", unit: "hashes/s", median: 1000, min: 900, max: 1100, runs: 3,
                            ratioToScalar: 10),
            ]),
        ])
        var new = old
        new.sections[0].figures[0].median = 120
        new.sections[0].figures[1].device = "gpu1"
        let rows = BenchCompare.rows(old: old, new: new)
        #expect(rows.count == 3)
        #expect(rows[0].changePercent.map { abs($0 - 20) < 1e-9 } == true)
        #expect(rows[1].new == nil && rows[2].old == nil)
        #expect(try BenchDocument.decode(try old.jsonData()) == old)
    }

    @Test("results stream: every figure reaches onEvent as it is measured, before its section ends, and equals the document's")
    func eventsStream() throws {
        final class Log: @unchecked Sendable {
            let lock = NSLock()
            var events = [String]()
            var figures = [BenchFigure]()
        }
        let log = Log()
        var options = BenchOptions(mode: .tiny, sections: [.merkle, .pow], backends: [.scalar, .simd], devices: [])
        options.anchors = false
        options.onEvent = { event in
            log.lock.lock()
            defer { log.lock.unlock() }
            switch event {
            case .sectionStarted(let name): log.events.append("start \(name)")
            case .figure(let figure): log.events.append("figure"); log.figures.append(figure)
            case .sectionFinished(let section): log.events.append("end \(section.name) \(section.figures.count)")
            }
        }
        let document = try BenchSuite.run(options)
        let counts = document.sections.map(\.figures.count)
        let expected = ["start pow"] + Array(repeating: "figure", count: counts[0]) + ["end pow \(counts[0])", "start merkle"]
            + Array(repeating: "figure", count: counts[1]) + ["end merkle \(counts[1])"]
        #expect(log.events == expected)
        let measured = document.sections.flatMap(\.figures)
        #expect(log.figures.map(\.median) == measured.map(\.median))
        // A streamed figure has its ratio to scalar once the scalar figure came first.
        #expect(log.figures.filter { $0.backend != "scalar" }.allSatisfy { $0.ratioToScalar != nil })
    }
}

