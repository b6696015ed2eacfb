import Foundation

/// A progress line on standard error, only when it is a terminal, at most a few times a second.
final class ProgressLine {
    private let enabled = isTerminal(2)
    private var last = DispatchTime.now().uptimeNanoseconds
    private var shown = false

    func update(_ text: @autoclosure () -> String, force: Bool = false) {
        guard enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard force || now - last > 250_000_000 else { return }
        last = now
        shown = true
        printErrorNoNewline("\r\u{1B}[K" + text())
    }

    func finish() {
        if enabled && shown { printErrorNoNewline("\r\u{1B}[K") }
    }
}

func printErrorNoNewline(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Progress on standard error, at most twice a second, only when it is a terminal.
final class ProgressMeter: @unchecked Sendable {
    let total: UInt64
    let label: String
    let enabled = isTerminal(2)
    private let lock = NSLock()
    private var lastPrint: UInt64 = DispatchTime.now().uptimeNanoseconds
    private var printed = false

    init(total: UInt64, label: String) {
        self.total = total
        self.label = label
    }

    var update: @Sendable (UInt64) -> Void {
        { [self] done in
            guard enabled else { return }
            lock.withLock {
                let now = DispatchTime.now().uptimeNanoseconds
                guard now - lastPrint > 500_000_000 else { return }
                lastPrint = now
                printed = true
                let percent = total == 0 ? 100 : Double(done) / Double(total) * 100
                var stderr = StandardError()
                print("\r\(label): " + String(format: "%.1f%% (%llu nonces)", percent, done), terminator: "", to: &stderr)
            }
        }
    }

    func clear() {
        lock.withLock {
            if printed {
                var stderr = StandardError()
                print("\r\u{1B}[K", terminator: "", to: &stderr)
            }
        }
    }
}
