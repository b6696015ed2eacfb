import Foundation
import Testing
import TestSupport

/// What every command shares: output paths written in place, file errors as
/// `rusty: PATH: strerror`, one exit-status table, usage on validation errors, signals,
/// --version, and streamed output.
@Suite(.serialized)
struct CLIConventionsTests {
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    static func fileType(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// Starts `rusty` with its standard output on a pipe (standard error discarded).
    static func start(_ arguments: [String]) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = TestPaths.rustyExecutable
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, pipe)
    }

    @Test("gen-chain writes through a FIFO and a symlink and to '-'; /dev/null stays a device")
    func outputsWrittenInPlace() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let reference = directory.appendingPathComponent("reference.blk")
        let made = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--seed", "2", "--out", reference.path])
        #expect(made.status == 0, "\(made.stderrText)")
        let expected = try Data(contentsOf: reference)
        #expect(expected.count > 0)

        // FIFO: a reader drains it while gen-chain writes; the FIFO is still a FIFO afterwards.
        let fifo = directory.appendingPathComponent("blocks.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        nonisolated(unsafe) var fromFifo = Data()
        let reader = Thread { fromFifo = FileHandle(forReadingAtPath: fifo).map(readToEnd) ?? Data() }
        reader.start()
        let throughFifo = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--seed", "2", "--out", fifo])
        while !reader.isFinished { usleep(10_000) }
        #expect(throughFifo.status == 0, "\(throughFifo.stderrText)")
        #expect(fromFifo == expected)
        #expect(Self.fileType(fifo) == S_IFIFO)

        // Symlink: the target gets the blocks, the link stays a link.
        let target = directory.appendingPathComponent("target.blk"), link = directory.appendingPathComponent("link.blk")
        try Data("old".utf8).write(to: target)
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target.path)
        let throughLink = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--seed", "2", "--out", link.path])
        #expect(throughLink.status == 0, "\(throughLink.stderrText)")
        #expect(Self.fileType(link.path) == S_IFLNK)
        #expect(try Data(contentsOf: target) == expected, "the longer old content is truncated, not kept")

        // '-': the blocks on standard output, the summary on standard error.
        let toStdout = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--seed", "2", "--out", "-"])
        #expect(toStdout.status == 0)
        #expect(toStdout.stdout == expected)
        #expect(toStdout.stderrText.contains("wrote 3 blocks (height 3) to standard output"))

        // /dev/null (the bug this guards against replaced it with a regular file when run as root).
        let null = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "3", "--out", "/dev/null", "--signatures", "/dev/null"])
        #expect(null.status == 0, "\(null.stderrText)")
        #expect(Self.fileType("/dev/null") == S_IFCHR)
    }

    @Test("every output is opened before any is truncated; two flags naming one file are refused")
    func outputsCheckedFirst() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let blocks = directory.appendingPathComponent("keep.blk")
        try Data("precious".utf8).write(to: blocks)
        let badPath = directory.appendingPathComponent("no/such/dir/signatures.jsonl").path
        let result = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "2", "--out", blocks.path, "--signatures", badPath])
        #expect(result.status == 1)
        #expect(result.stderrText == "rusty: \(badPath): No such file or directory\n")
        #expect(try Data(contentsOf: blocks) == Data("precious".utf8), "--out was not truncated")

        let same = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "2", "--out", blocks.path, "--signatures", blocks.path])
        #expect(same.status == 64)
        #expect(same.stderrText.hasPrefix("rusty: --out and --signatures name the same file"), "\(same.stderrText)")
        #expect(same.stderrText.contains("Usage: rusty gen-chain"))

        let directoryOut = try runProcess(TestPaths.rustyExecutable, ["gen-chain", "--blocks", "2", "--out", directory.path])
        #expect(directoryOut.status == 1)
        #expect(directoryOut.stderrText == "rusty: \(directory.path): Is a directory\n")
    }

    @Test("missing, unreadable and directory inputs: exact messages, exit 1, other files still processed")
    func badInputs() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = directory.appendingPathComponent("plain")
        try Data("x".utf8).write(to: plain)
        let missing = directory.appendingPathComponent("missing").path
        // Root reads any file whatever its mode, so "unreadable" is a path through a regular file.
        let underFile = plain.path + "/inside"
        let cases = [(missing, "No such file or directory"), (underFile, "Not a directory"), (directory.path, "Is a directory")]
        for (path, reason) in cases {
            let hash = try runProcess(TestPaths.rustyExecutable, ["hash", path, plain.path])
            #expect(hash.status == 1, "\(path)")
            #expect(hash.stderrText == "rusty: \(path): \(reason)\n")
            #expect(hash.stdoutText.hasSuffix("  \(plain.path)\n"), "the readable file is still hashed")
            let merkle = try runProcess(TestPaths.rustyExecutable, ["merkle", "root", "--backend", "scalar", path])
            #expect(merkle.status == 1)
            #expect(merkle.stderrText == "rusty: \(path): \(reason)\n")
            let verify = try runProcess(TestPaths.rustyExecutable, ["sig", "verify-batch", path])
            #expect(verify.status != 0 && verify.stderrText.contains(path), "sig names the file too: \(verify.stderrText)")
        }
        let compare = try runProcess(TestPaths.rustyExecutable, ["bench", "--compare", missing, plain.path])
        #expect(compare.status == 1 && compare.stderrText == "rusty: \(missing): No such file or directory\n")
        let notJSON = try runProcess(TestPaths.rustyExecutable, ["bench", "--compare", plain.path, plain.path])
        #expect(notJSON.status == 2 && notJSON.stderrText.hasPrefix("rusty: \(plain.path): not a rusty bench JSON document"))
    }

    @Test("a validation error prints that subcommand's usage, exit 64, for parse-time and run-time checks")
    func usageErrors() throws {
        let cases: [([String], String, String)] = [
            (["hash", "--num-threads", "100000"], "rusty: --num-threads must be between 0 and 4096 (got 100000)", "Usage: rusty hash "),
            (["hash", "--length=-1"], "rusty: --length must be between 0 and 1073741824 (got -1)", "Usage: rusty hash "),
            (["hash", "--raw", "a", "b"], "rusty: --raw takes one input (got 2)", "Usage: rusty hash "),
            (["hash", "--quiet", "a"], "rusty: --quiet only applies to --check", "Usage: rusty hash "),
            (["hash", "--check", "--keyed", String(repeating: "0", count: 64)], "rusty: --check cannot be combined with --keyed", "Usage: rusty hash "),
            (["pow", "search", "--header", "00", "--target", "00"], "rusty: --header needs 128 bytes", "Usage: rusty pow search "),
            (["chain-params", "--mine-genesis"], "rusty: --mine-genesis needs --file", "Usage: rusty chain-params "),
            (["chain-params", "--network", "moonnet"], "rusty: unknown network 'moonnet'", "Usage: rusty chain-params "),
            (["bench", "--only", "nothing"], "rusty: --only: unknown section 'nothing'", "Usage: rusty bench "),
            (["merkle", "root", "--backend", "gpu"], "rusty: unknown --backend 'gpu'", "Usage: rusty merkle root "),
        ]
        for (arguments, message, usage) in cases {
            let result = try runProcess(TestPaths.rustyExecutable, arguments)
            #expect(result.status == 64, "\(arguments): \(result.stderrText)")
            #expect(result.stderrText.hasPrefix(message), "\(arguments): \(result.stderrText)")
            #expect(result.stderrText.contains("\n" + usage), "\(arguments): \(result.stderrText)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("--help and README show the same exit-status table")
    func exitTable() throws {
        let help = try runProcess(TestPaths.rustyExecutable, ["--help"])
        #expect(help.status == 0)
        let rows = help.stdoutText.split(separator: "\n").compactMap { line -> Int? in
            let fields = line.split(separator: " ", maxSplits: 1)
            guard line.hasPrefix("  "), fields.count == 2, let code = Int(fields[0]) else { return nil }
            return code
        }
        #expect(rows == [0, 1, 2, 3, 64, 130, 143], "\(help.stdoutText)")
        let readme = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        for code in rows { #expect(readme.contains("| \(code) |"), "README's exit-status table lacks \(code)") }
    }

    @Test("--version names the program, the version and the commit it was built from")
    func version() throws {
        let result = try runProcess(TestPaths.rustyExecutable, ["--version"])
        #expect(result.status == 0)
        let text = result.stdoutText
        #expect(text.range(of: #"^rusty \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)\n$"#, options: .regularExpression) != nil, "\(text)")
        // Built from this checkout with git present: the commit is HEAD's.
        if let head = try? runProcess(URL(fileURLWithPath: "/usr/bin/git"), ["-C", TestPaths.packageRoot.path, "rev-parse", "--short=12", "HEAD"]),
           head.status == 0, !head.stdoutText.isEmpty {
            let commit = head.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(text.contains("(commit \(commit)"), "\(text) vs HEAD \(commit)")
        }
    }

    @Test("pow search streams its first hit while it still runs; SIGTERM exits 143 and SIGINT 130")
    func streamingAndSignals() throws {
        let header = String(repeating: "00", count: 128)
        // About one hit per 65,536 nonces, over far more nonces than the test waits for.
        let target = "0000" + String(repeating: "f", count: 60)
        for (signal, status) in [(SIGTERM, Int32(143)), (SIGINT, Int32(130))] {
            let (process, pipe) = try Self.start(["pow", "search", "--header", header, "--target", target, "--start", "0",
                                                  "--count", String(UInt64(1) << 40), "--backend", "simd"])
            let handle = pipe.fileHandleForReading
            var received = Data()
            let deadline = Date().addingTimeInterval(60)
            while !received.contains(UInt8(ascii: "\n")) && Date() < deadline {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                received += chunk
            }
            let runningWhenFirstHitArrived = process.isRunning
            kill(process.processIdentifier, signal)
            // Never hang the suite: stop reading (a writer then fails instead of blocking),
            // and if the signal is ignored anyway, SIGKILL after ten seconds and fail below.
            try? handle.close()
            let stopBy = Date().addingTimeInterval(10)
            while process.isRunning && Date() < stopBy { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            #expect(runningWhenFirstHitArrived, "the first hit came before the end of a 2^40-nonce search")
            let first = String(decoding: received, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            #expect(first.range(of: #"^\d+ 0000[0-9a-f]{60}$"#, options: .regularExpression) != nil, "\(first)")
            #expect(process.terminationReason == .exit && process.terminationStatus == status, "signal \(signal): \(process.terminationStatus)")
        }
    }

    @Test("bench prints each figure as a line under its section header, in measurement order, then the total")
    func benchStreams() throws {
        let result = try runProcess(TestPaths.rustyExecutable, ["bench", "--tiny", "--only", "merkle", "--backend", "scalar,simd", "--no-anchors"])
        #expect(result.status == 0, "\(result.stderrText)")
        let lines = result.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let section = try #require(lines.firstIndex(of: "== merkle"), "\(result.stdoutText)")
        let figures = lines[(section + 1)...].prefix { !$0.isEmpty }
        #expect(figures.count >= 2 && figures.allSatisfy { $0.contains("nodes/s") }, "\(figures)")
        #expect(figures.first?.contains("scalar") == true)
        #expect(lines.dropLast().last?.hasPrefix("total ") == true, "\(lines)")
    }

    /// Runs `rusty` with standard output on `output` (opened by the caller); the status and standard error.
    static func run(_ arguments: [String], output: FileHandle) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = TestPaths.rustyExecutable
        process.arguments = arguments
        process.standardOutput = output
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: readToEnd(errors.fileHandleForReading), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test("a full disk on standard output is an error (exit 1), also for streamed output; '-' appends where the shell says so")
    func standardOutputErrors() throws {
        let full = try #require(FileHandle(forWritingAtPath: "/dev/full"))
        let header = String(repeating: "00", count: 128), target = "0000" + String(repeating: "f", count: 60)
        for arguments in [["hash", "/dev/null"], ["pow", "search", "--header", header, "--target", target, "--count", "1000000", "--backend", "simd"],
                          ["bench", "--tiny", "--only", "merkle", "--backend", "scalar"], ["gen-chain", "--blocks", "1", "--out", "-"]] {
            let (status, errors) = try Self.run(arguments, output: full)
            #expect(status == 1, "\(arguments)")
            #expect(errors.contains("rusty: standard output: No space left on device"), "\(arguments): \(errors)")
        }
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("appended")
        try Data("kept\n".utf8).write(to: file)
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        let (status, _) = try Self.run(["gen-chain", "--blocks", "1", "--out", "-"], output: handle)
        try handle.close()
        #expect(status == 0)
        let contents = try Data(contentsOf: file)
        #expect(contents.prefix(5) == Data("kept\n".utf8) && contents.count > 5, "standard output is not truncated")
    }
}

