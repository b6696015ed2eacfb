import Foundation
import Logging
import Node
import Testing

/// The node's log: the line format, levels, whole lines from many threads, and a log file
/// deleted under a running node. Loggers are made with `NodeLogging.logger`, never through
/// swift-log's once-per-process bootstrap.
@Suite struct NodeLoggingTests {
    static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("rusty-log-\(UUID().uuidString)/debug.log").path
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test("a line: UTC time with milliseconds, LEVEL, [label], the message, sorted key=value metadata; control characters escaped")
    func lineFormat() throws {
        // 2026-11-30T09:00:00Z is 1796029200 seconds after the epoch.
        let date = Date(timeIntervalSince1970: 1_796_029_200.123)
        #expect(LogFormat.timestamp(date) == "2026-11-30T09:00:00.123Z")
        #expect(LogFormat.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(LogFormat.parseTimestamp("2026-11-30T09:00:00.123Z") == date)
        #expect(LogFormat.parseTimestamp("2026-11-30 09:00:00.123Z") == nil)
        let line = LogFormat.line(date: date, level: .info, label: "p2p", message: "connected",
                                  metadata: ["peer": "7", "address": "127.0.0.1:29373", "agent": "a b", "empty": ""])
        #expect(line == "2026-11-30T09:00:00.123Z INFO [p2p] connected address=127.0.0.1:29373 agent=\"a b\" empty=\"\" peer=7\n")
        // A peer's user agent cannot start a forged record on a new line.
        let hostile = LogFormat.line(date: date, level: .warning, label: "p2p", message: "agent x\n2026-01-01T00:00:00.000Z ERROR [p2p] forged\u{7}",
                                     metadata: ["ua": "q\"\r"])
        #expect(hostile == "2026-11-30T09:00:00.123Z WARNING [p2p] agent x\\n2026-01-01T00:00:00.000Z ERROR [p2p] forged\\u{7} ua=\"q\\\"\\r\"\n")
        #expect(LogFormat.name(.critical) == "CRITICAL" && LogFormat.name(.trace) == "TRACE")
    }

    @Test("lines below the configured level are not written; handler and call metadata both are")
    func levels() throws {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let logging = NodeLogging(level: .notice, file: try LogDestination(file: path), console: nil)
        var logger = logging.logger("chain")
        logger[metadataKey: "height"] = "5"
        logger.trace("trace line")
        logger.debug("debug line")
        logger.info("info line")
        logger.notice("notice line")
        logger.warning("warning line", metadata: ["peer": "3"])
        logger.error("error line")
        logger.critical("critical line")
        logging.close()
        logger.critical("after close")
        let lines = Self.lines(path).filter { !$0.isEmpty }
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.map { $0.split(separator: " ")[1] } == ["NOTICE", "WARNING", "ERROR", "CRITICAL"])
        #expect(lines[0].hasSuffix(" NOTICE [chain] notice line height=5"))
        #expect(lines[1].hasSuffix(" WARNING [chain] warning line height=5 peer=3"))
        #expect(lines.allSatisfy { LogFormat.parseTimestamp(String($0.prefix(24))) != nil })
        // From a configuration: the datadir's debug.log is created with its directory.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rusty-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        var configuration = try NodeConfiguration(network: .regtest, datadir: root)
        configuration.logLevel = .debug
        let fromConfiguration = try NodeLogging(configuration: configuration)
        fromConfiguration.logger("p2p").debug("hello")
        fromConfiguration.logger("p2p").trace("hidden")
        #expect(Self.lines(root + "/regtest/debug.log").filter { !$0.isEmpty }.map { $0.dropFirst(25) } == ["DEBUG [p2p] hello"])
        #expect(fromConfiguration.console == nil)
    }

    @Test("lines written from many threads at once stay whole")
    func concurrentLines() throws {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let logging = NodeLogging(level: .trace, file: try LogDestination(file: path), console: nil)
        let threads = 8, perThread = 400
        // Long lines (over PIPE_BUF) so a torn write would show.
        let padding = String(repeating: "x", count: 5000)
        // Threads of their own (not a pool sized to the cores), started together.
        let group = DispatchGroup()
        let start = DispatchSemaphore(value: 0)
        for thread in 0..<threads {
            group.enter()
            Thread {
                let logger = logging.logger("t\(thread)")
                start.wait()
                for index in 0..<perThread { logger.info("line \(index) \(padding)", metadata: ["thread": "\(thread)"]) }
                group.leave()
            }.start()
        }
        for _ in 0..<threads { start.signal() }
        #expect(group.wait(timeout: .now() + 120) == .success)
        let lines = Self.lines(path)
        #expect(lines.last == "")
        let records = lines.dropLast()
        #expect(records.count == threads * perThread)
        var seen = Set<String>()
        var torn = [String]()
        for line in records {
            let fields = line.split(separator: " ")
            guard fields.count == 7, fields[1] == "INFO", fields[3] == "line", fields[5] == Substring(padding), fields[6].hasPrefix("thread="),
                  fields[2] == "[t\(fields[6].dropFirst(7))]" else {
                torn.append(String(line.prefix(80)))
                continue
            }
            seen.insert("\(fields[6]) \(fields[4])")
        }
        #expect(torn.count == 0, "torn or mixed lines, the first: \(torn.first ?? "")")
        #expect(seen.count == threads * perThread)
    }

    @Test("a log file deleted (or rotated away) under the node is recreated under its name")
    func reopensDeletedFile() throws {
        let path = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let logging = NodeLogging(level: .info, file: try LogDestination(file: path), console: nil)
        let logger = logging.logger("node")
        logger.info("first")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        // The name is checked at most once a second.
        Thread.sleep(forTimeInterval: 1.1)
        logger.info("second")
        #expect(Self.lines(path + ".1").filter { !$0.isEmpty }.map { $0.dropFirst(25) } == ["INFO [node] first"])
        #expect(Self.lines(path).filter { !$0.isEmpty }.map { $0.dropFirst(25) } == ["INFO [node] second"])
    }

    @Test("a log file that cannot be opened is named with the reason")
    func unopenable() throws {
        #expect(throws: LogFileError.self) { try LogDestination(file: "/proc/rusty-no-such-dir/debug.log") }
        do {
            _ = try LogDestination(file: "/proc/version/debug.log")
            Issue.record("opened a file under a regular file")
        } catch let error as LogFileError {
            #expect(error.description == "/proc/version/debug.log: Not a directory")
        }
    }
}
