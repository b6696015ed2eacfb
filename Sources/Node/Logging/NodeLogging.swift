import Foundation
import Logging

/// A swift-log handler writing `LogFormat` lines to the node's destinations (the log file,
/// and standard error when `printtoconsole`).
public struct NodeLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let destinations: [LogDestination]

    public init(label: String, level: Logger.Level, destinations: [LogDestination], metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        logLevel = level
        self.destinations = destinations
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let given = event.metadata { merged.merge(given) { $1 } }
        if let error = event.error { merged["error"] = "\(error)" }
        let line = LogFormat.line(date: Date(), level: event.level, label: label, message: event.message.description, metadata: merged)
        for destination in destinations { destination.write(line) }
    }
}

/// The node's logging: which destinations and from which level. `logger(_:)` makes loggers
/// without touching swift-log's process-wide state, so tests build as many as they like;
/// `bootstrap` also routes every `Logger(label:)` of the process (SwiftNIO, service
/// lifecycle) here.
public final class NodeLogging: Sendable {
    public let level: Logger.Level
    /// The log file (nil: no file, as in tests that only want the console).
    public let file: LogDestination?
    /// Standard error, when the configuration prints to the console.
    public let console: LogDestination?

    public init(level: Logger.Level, file: LogDestination?, console: LogDestination?) {
        self.level = level
        self.file = file
        self.console = console
    }

    /// Opens `configuration.debugLogFile` (creating its directory) at `configuration.logLevel`.
    public convenience init(configuration: NodeConfiguration) throws {
        self.init(level: configuration.logLevel, file: try LogDestination(file: configuration.debugLogFile),
                  console: configuration.printToConsole ? LogDestination.standardError : nil)
    }

    public func makeHandler(label: String) -> NodeLogHandler {
        NodeLogHandler(label: label, level: level, destinations: [file, console].compactMap { $0 })
    }

    /// A logger labelled `label` (the `[p2p]` of a line).
    public func logger(_ label: String) -> Logger {
        Logger(label: label) { self.makeHandler(label: $0) }
    }

    /// Makes the file's lines durable and stops writing it (at shutdown, after the last line).
    public func close() {
        file?.close()
    }

    /// The logging every `Logger(label:)` of the process goes to, once `bootstrap` ran.
    private static let current = Current()

    private final class Current: @unchecked Sendable {
        let lock = NSLock()
        var logging: NodeLogging?
        var bootstrapped = false
    }

    /// Opens the configuration's log and makes it the process's logging system. swift-log
    /// allows one bootstrap per process, so its factory reads the current `NodeLogging` and
    /// a later call only replaces that.
    @discardableResult
    public static func bootstrap(_ configuration: NodeConfiguration) throws -> NodeLogging {
        let logging = try NodeLogging(configuration: configuration)
        current.lock.lock()
        defer { current.lock.unlock() }
        current.logging = logging
        if !current.bootstrapped {
            current.bootstrapped = true
            LoggingSystem.bootstrap { label in
                current.lock.lock()
                let logging = current.logging
                current.lock.unlock()
                return logging?.makeHandler(label: label) ?? NodeLogHandler(label: label, level: .info, destinations: [.standardError])
            }
        }
        return logging
    }
}
