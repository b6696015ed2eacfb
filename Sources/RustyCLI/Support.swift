import ArgumentParser
import Foundation
#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

func activeProcessorCount() -> Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }

/// The exit statuses of every `rusty` command: one table, printed by `rusty --help` and
/// copied in README.md. Commands throw `status.code` (or a `CommandFailure`) and never a
/// bare number, so a meaning cannot drift between commands.
enum ExitStatus: Int32, CaseIterable {
    /// Everything asked for was done (and every item checked was valid).
    case success = 0
    /// An input could not be processed or is invalid: a missing or unreadable file, an
    /// invalid signature or block, a checksum that does not match.
    case invalid = 1
    /// An input is malformed: it cannot be parsed at all (a bad JSONL or txid line, a
    /// corrupt block record).
    case malformed = 2
    /// `--backend opencl` was asked for and OpenCL has no usable platform or device.
    case openCLUnavailable = 3
    /// Bad command line: unknown option, value out of range, conflicting options
    /// (BSD sysexits' EX_USAGE). The subcommand's usage is printed.
    case usage = 64
    /// Stopped by SIGINT (128 + 2, as shells report it).
    case interrupted = 130
    /// Stopped by SIGTERM (128 + 15).
    case terminated = 143

    var code: ExitCode { ExitCode(rawValue) }

    var meaning: String {
        switch self {
        case .success: return "success"
        case .invalid: return "an input could not be processed or is invalid (the message names it)"
        case .malformed: return "malformed input (the message names the file and place)"
        case .openCLUnavailable: return "the OpenCL backend was asked for and is unavailable"
        case .usage: return "usage error (the subcommand's usage is printed)"
        case .interrupted: return "interrupted by SIGINT"
        case .terminated: return "terminated by SIGTERM"
        }
    }

    /// The table as help text, one status a line.
    static var table: String {
        allCases.map { "  " + String($0.rawValue).padding(toLength: 5, withPad: " ", startingAt: 0) + $0.meaning }
            .joined(separator: "\n")
    }
}

/// A failure a command reports itself: printed as `rusty: MESSAGE` on standard error, then
/// the process exits with `status`.
struct CommandFailure: Error, CustomStringConvertible {
    let status: ExitStatus
    let message: String
    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }
    var description: String { message }
}

/// A file that could not be opened, read or written: always `PATH: REASON`, REASON from
/// strerror (never a Foundation error domain).
struct FileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    init(_ path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    init(_ path: String, errno code: Int32) {
        self.init(path, reason: String(cString: strerror(code)))
    }
    /// `-` is standard input or output; the name says which.
    var description: String { "\(path): \(reason)" }
}

/// Writes `rusty: MESSAGE` on standard error: the one error format of every command.
func reportError(_ message: String) {
    printError("rusty: " + message)
}

// MARK: Signals

/// SIGINT and SIGTERM end the process with 130 and 143 (the table above) after one line on
/// standard error. The handler only calls async-signal-safe functions (write, _exit); a
/// command that needs to stop cleanly (mine) installs its own handlers over these. Both
/// signals are unblocked first: a parent that spawns from a thread blocking them (as
/// Foundation's Process does from a Dispatch thread) would otherwise leave rusty deaf to them.
func installInterruptHandlers() {
    var signals = sigset_t()
    sigemptyset(&signals)
    sigaddset(&signals, SIGINT)
    sigaddset(&signals, SIGTERM)
    pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    for signalNumber in [SIGINT, SIGTERM] {
        var action = sigaction()
        #if canImport(Darwin)
        action.__sigaction_u.__sa_handler = interruptHandler
        #else
        action.__sigaction_handler.sa_handler = interruptHandler
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signalNumber, &action, nil)
    }
}

/// The signal (SIGINT or SIGTERM) that asked a cleanly stopping command to stop; 0 while none did.
nonisolated(unsafe) var stopSignal: sig_atomic_t = 0

/// For commands that stop cleanly (flush, then a summary) rather than exit at once (`mine`,
/// `verify-chain`): SIGINT and SIGTERM only record themselves in `stopSignal`, and SIGPIPE is
/// ignored so a closed standard output is an EPIPE the command handles, never a kill before
/// its flush. `runMain` has already unblocked both signals.
func stopCleanlyOnSignals() {
    signal(SIGINT) { stopSignal = $0 }
    signal(SIGTERM) { stopSignal = $0 }
    signal(SIGPIPE, SIG_IGN)
}

/// The exit status of a command stopped by `stopSignal`.
var stopStatus: ExitStatus { stopSignal == SIGTERM ? .terminated : .interrupted }

private func interruptHandler(_ signalNumber: Int32) {
    let message: StaticString = signalNumber == SIGINT ? "\nrusty: interrupted\n" : "rusty: terminated\n"
    _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
    _exit(128 + signalNumber)
}

// MARK: Standard output

/// The first error met flushing standard output (0: none). stdio keeps no usable record of
/// it after a failed flush (the next flush of an empty buffer succeeds), so it is kept here.
nonisolated(unsafe) private(set) var standardOutputErrno: Int32 = 0

/// Flushes standard output now (streamed results), remembering a failure for the exit status.
func flushOutput() {
    if fflush(nil) != 0 && standardOutputErrno == 0 { standardOutputErrno = errno }
}

/// Throws when a flush of standard output has failed: a streaming command stops at once.
func checkStandardOutput() throws {
    if standardOutputErrno != 0 { throw FileError("standard output", errno: standardOutputErrno) }
}

// MARK: Running a command

extension Rusty {
    /// Parses, runs, and turns every failure into the one error format and exit table.
    static func runMain() -> Never {
        installInterruptHandlers()
        var command: ParsableCommand
        do {
            command = try BenchStratumCommand.routed(Array(CommandLine.arguments.dropFirst())) ?? parseAsRoot(RPCCommand.normalizedArguments(Array(CommandLine.arguments.dropFirst())))
        } catch {
            // Parse-time errors already carry the subcommand's usage (see `_errorPrefix`).
            exit(withError: error)
        }
        do {
            try command.run()
        } catch {
            finish(with: error, commandType: type(of: command))
        }
        flushStandardOutput()
        Foundation.exit(ExitStatus.success.rawValue)
    }

    /// Output already written must reach its destination, and a full disk or closed pipe is
    /// an error like any other write failure (also when an earlier flush met it).
    static func flushStandardOutput() {
        flushOutput()
        if standardOutputErrno != 0 {
            reportError(FileError("standard output", errno: standardOutputErrno).description)
            Foundation.exit(ExitStatus.invalid.rawValue)
        }
    }

    static func finish(with error: Error, commandType: ParsableCommand.Type) -> Never {
        switch error {
        case let exit as ExitCode:
            fflush(nil)
            Foundation.exit(exit.rawValue)
        case let failure as CommandFailure:
            fflush(nil)
            reportError(failure.message)
            Foundation.exit(failure.status.rawValue)
        case let file as FileError:
            fflush(nil)
            reportError(file.description)
            Foundation.exit(ExitStatus.invalid.rawValue)
        case let validation as ValidationError:
            // Thrown from run(): show the usage of the subcommand that ran, not of `rusty`.
            fflush(nil)
            reportError(validation.message)
            printError(usage(of: commandType))
            Foundation.exit(ExitStatus.usage.rawValue)
        default:
            // Help and version requests, the parser's own errors, anything else (exit 1,
            // printed with `_errorPrefix`).
            fflush(nil)
            exit(withError: error)
        }
    }

    /// `Usage: rusty SUB ...` and where the full help is, as the parser prints it.
    static func usage(of commandType: ParsableCommand.Type) -> String {
        let path = commandPath(to: commandType, from: Rusty.self) ?? ["rusty"]
        return "Usage: " + usageString(for: commandType) + "\n  See '\(path.joined(separator: " ")) --help' for more information."
    }

    static func commandPath(to target: ParsableCommand.Type, from root: ParsableCommand.Type) -> [String]? {
        if target == root { return [root._commandName] }
        for sub in root.configuration.subcommands {
            if let rest = commandPath(to: target, from: sub) { return [root._commandName] + rest }
        }
        return nil
    }
}

/// A count option checked against its allowed range: a usage error that names the flag.
func checkRange<T: BinaryInteger>(_ value: T, _ flag: String, _ range: ClosedRange<T>) throws {
    guard range.contains(value) else {
        throw ValidationError("\(flag) must be between \(range.lowerBound) and \(range.upperBound) (got \(value))")
    }
}
