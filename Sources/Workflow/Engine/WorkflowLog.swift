import Foundation
import Synchronization

/// Timestamped log lines to the console (and, later, the log file), filtered by level.
public final class WorkflowLog: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case debug, info, warn, error

        public init?(name: String) {
            switch name.uppercased() {
            case "DEBUG": self = .debug
            case "INFO": self = .info
            case "WARN", "WARNING": self = .warn
            case "ERROR": self = .error
            default: return nil
            }
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        var label: String { ["DEBUG", "INFO", "WARN", "ERROR"][rawValue] }
    }

    public let level: Level
    private let lines = Mutex<[String]>([])
    private let echo: Bool

    public init(level: Level = .info, echo: Bool = true) {
        self.level = level
        self.echo = echo
    }

    public func debug(_ message: String) { write(.debug, message) }
    public func info(_ message: String) { write(.info, message) }
    public func warn(_ message: String) { write(.warn, message) }
    public func error(_ message: String) { write(.error, message) }

    /// Everything logged at or above the level, for tests and reports.
    public var recorded: [String] { lines.withLock { $0 } }

    private func write(_ messageLevel: Level, _ message: String) {
        guard messageLevel >= level else { return }
        let formatter = DateFormatter()
        formatter.dateFormat = "dd MMM yy HH:mm:ss"
        let line = "[\(formatter.string(from: Date()))] \(messageLevel.label): \(message)"
        lines.withLock { $0.append(line) }
        if echo { print(line) }
    }
}
