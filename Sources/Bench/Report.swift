import Foundation

/// Human-readable output: the machine, one table per section, the published anchors.
public enum BenchReport {
    public static func text(_ document: BenchDocument) -> String {
        var lines = [String]()
        let machine = document.machine
        lines.append("rusty bench (\(document.mode)) \(document.timestamp)")
        lines.append("machine: \(machine.cpu), \(machine.cores) cores, SIMD \(machine.simd), Ed25519 \(machine.ed25519Backend)"
            + (machine.loadAverage.map { String(format: ", load %.2f", $0) } ?? ""))
        lines.append("OpenCL: " + (machine.openCLDevices.isEmpty ? "no devices" : machine.openCLDevices.joined(separator: "; ")))
        for section in document.sections {
            lines.append("")
            lines.append("== \(section.name)")
            let header = ["figure", "backend", "median", "min", "max", "unit", "x scalar", "x anchor"]
            var rows = [header]
            for figure in section.figures {
                let backend = figure.device.map { "\(figure.backend) (\($0))" } ?? figure.backend
                rows.append([figure.name, backend, number(figure.median, figure.unit), number(figure.min, figure.unit),
                             number(figure.max, figure.unit), figure.unit,
                             figure.ratioToScalar.map { String(format: "%.2fx", $0) } ?? "",
                             figure.ratioToAnchor.map { String(format: "%.2fx", $0) + " " + (figure.anchor?.split(separator: ":").first.map(String.init) ?? "") } ?? ""])
            }
            lines += table(rows, rightAligned: [2, 3, 4, 6])
        }
        lines += footer(document)
        return lines.joined(separator: "\n")
    }

    /// The lines after the sections: the published anchors and the total time.
    public static func footer(_ document: BenchDocument) -> [String] {
        var lines = [String]()
        if let references = document.references, !references.isEmpty {
            lines.append("")
            lines.append("== published anchors (DESIGN.md section 8; not measured here)")
            lines += table([["hot path", "anchor", "figure"]] + references.map { [$0.hotPath, $0.anchor, $0.figure] }, rightAligned: [])
        }
        if let seconds = document.seconds { lines.append(""); lines.append(String(format: "total %.1f s", seconds)) }
        return lines
    }

    /// The lines before any figure when results stream: what `text` starts with.
    public static func streamHeader(machine: BenchMachine, mode: String, timestamp: String) -> [String] {
        ["rusty bench (\(mode)) \(timestamp)",
         "machine: \(machine.cpu), \(machine.cores) cores, SIMD \(machine.simd), Ed25519 \(machine.ed25519Backend)"
            + (machine.loadAverage.map { String(format: ", load %.2f", $0) } ?? ""),
         "OpenCL: " + (machine.openCLDevices.isEmpty ? "no devices" : machine.openCLDevices.joined(separator: "; "))]
    }

    /// One figure as a line of fixed-width columns (streamed output cannot size its columns
    /// from rows not measured yet): name, backend, median [min-max] unit, ratio to scalar.
    public static func streamLine(_ figure: BenchFigure) -> String {
        let backend = figure.device.map { "\(figure.backend) (\($0))" } ?? figure.backend
        func pad(_ text: String, _ width: Int) -> String { text.count >= width ? text : text + String(repeating: " ", count: width - text.count) }
        func left(_ text: String, _ width: Int) -> String { text.count >= width ? text : String(repeating: " ", count: width - text.count) + text }
        var line = pad(figure.name, 44) + "  " + pad(backend, 22) + "  " + left(number(figure.median, figure.unit), 9)
            + "  [" + number(figure.min, figure.unit) + " - " + number(figure.max, figure.unit) + "] " + figure.unit
        if let ratio = figure.ratioToScalar { line += String(format: "  %.2fx scalar", ratio) }
        if let ratio = figure.ratioToAnchor, let anchor = figure.anchor { line += String(format: "  %.2fx ", ratio) + anchor }
        return line
    }

    /// Three significant digits with k/M/G for large rates; plain decimals for small values.
    public static func number(_ value: Double, _ unit: String) -> String {
        if unit == "bytes" {
            if value >= 1_048_576 { return String(format: "%.2f Mi", value / 1_048_576) }
            if value >= 1024 { return String(format: "%.1f Ki", value / 1024) }
            return String(format: "%.0f", value)
        }
        let magnitude = abs(value)
        let (scaled, suffix): (Double, String) =
            magnitude >= 1e9 ? (value / 1e9, " G") : magnitude >= 1e6 ? (value / 1e6, " M") : magnitude >= 1e4 ? (value / 1e3, " k") : (value, "")
        let digits = abs(scaled) >= 100 ? 0 : abs(scaled) >= 10 ? 1 : abs(scaled) >= 1 ? 2 : 3
        return String(format: "%.\(digits)f", scaled) + suffix
    }

    static func table(_ rows: [[String]], rightAligned: Set<Int>) -> [String] {
        guard let first = rows.first else { return [] }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return rightAligned.contains(index) ? pad + cell : cell + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
    }
}

/// `rusty bench --compare OLD NEW`: figures matched by (section, name, backend, device).
public enum BenchCompare {
    public struct Row: Sendable, Equatable {
        public var section: String
        public var name: String
        public var backend: String
        public var device: String?
        public var unit: String
        public var old: Double?
        public var new: Double?
        /// (new - old) / old in percent, when both exist.
        public var changePercent: Double? {
            guard let old, let new, old != 0 else { return nil }
            return (new - old) / old * 100
        }
    }

    public static func rows(old: BenchDocument, new: BenchDocument) -> [Row] {
        struct Key: Hashable { var section, name, backend: String; var device: String? }
        var rows = [Row]()
        var index = [Key: Int]()
        for section in old.sections {
            for figure in section.figures {
                let key = Key(section: section.name, name: figure.name, backend: figure.backend, device: figure.device)
                guard index[key] == nil else { continue }
                index[key] = rows.count
                rows.append(Row(section: section.name, name: figure.name, backend: figure.backend, device: figure.device,
                                unit: figure.unit, old: figure.median, new: nil))
            }
        }
        for section in new.sections {
            for figure in section.figures {
                let key = Key(section: section.name, name: figure.name, backend: figure.backend, device: figure.device)
                if let existing = index[key] {
                    rows[existing].new = figure.median
                } else {
                    index[key] = rows.count
                    rows.append(Row(section: section.name, name: figure.name, backend: figure.backend, device: figure.device,
                                    unit: figure.unit, old: nil, new: figure.median))
                }
            }
        }
        return rows
    }

    public static func text(old: BenchDocument, new: BenchDocument) -> String {
        var lines = [
            "old: \(old.timestamp) (\(old.mode)) \(old.machine.cpu), \(old.machine.cores) cores, \(old.machine.simd)",
            "new: \(new.timestamp) (\(new.mode)) \(new.machine.cpu), \(new.machine.cores) cores, \(new.machine.simd)",
            "",
        ]
        var table = [["section", "figure", "backend", "unit", "old", "new", "change"]]
        for row in rows(old: old, new: new) {
            let backend = row.device.map { "\(row.backend) (\($0))" } ?? row.backend
            let change: String
            if let percent = row.changePercent {
                change = String(format: "%+.1f%%", percent)
            } else {
                change = row.old == nil ? "new only" : "old only"
            }
            table.append([row.section, row.name, backend, row.unit, row.old.map { BenchReport.number($0, row.unit) } ?? "-",
                          row.new.map { BenchReport.number($0, row.unit) } ?? "-", change])
        }
        lines += BenchReport.table(table, rightAligned: [4, 5, 6])
        lines.append("")
        lines.append("(change: new against old; for ms and bytes lower is better, for rates higher is better)")
        return lines.joined(separator: "\n")
    }
}
