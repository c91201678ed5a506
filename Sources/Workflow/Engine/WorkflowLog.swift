import Foundation
import Synchronization

/// TASKER's log: `[DDMonYY HH:MM:SS] LEVEL: message` lines (no level word for
/// INFO) on stdout and, with `-r`, in the run's log file.
public final class WorkflowLog: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case error = 1, warn, info, debug

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

        var prefix: String {
            switch self {
            case .error: return "ERROR: "
            case .warn: return "WARN: "
            case .info: return ""
            case .debug: return "DEBUG: "
            }
        }
    }

    public let level: Level
    /// Recorded lines, the log file, and the timestamp formatter (built once: DateFormatter is costly to create).
    private let state: Mutex<(lines: [String], file: FileHandle?, formatter: DateFormatter)>
    private let echo: Bool
    /// Global values whose names mark them as secrets; masked in command lines.
    private let secrets: [String]

    public init(level: Level = .info, echo: Bool = true, file: FileHandle? = nil, secrets: [String] = []) {
        self.level = level
        self.echo = echo
        self.secrets = secrets.filter { !$0.isEmpty }.sorted { $0.count > $1.count }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "ddMMMyy HH:mm:ss"
        state = Mutex(([], file, formatter))
    }

    public func debug(_ message: String) { write(.debug, message) }
    public func info(_ message: String) { write(.info, message) }
    public func warn(_ message: String) { write(.warn, message) }
    public func error(_ message: String) { write(.error, message) }

    /// Everything logged at or above the level, for tests and reports.
    public var recorded: [String] { state.withLock { $0.lines } }

    public func close() {
        state.withLock { state in
            try? state.file?.close()
            state.file = nil
        }
    }

    /// Replaces secret values that are not part of a longer word with `<masked len=N>`.
    public func mask(_ text: String) -> String {
        var output = text
        for secret in secrets {
            let pattern = "(?<![A-Za-z0-9_])" + NSRegularExpression.escapedPattern(for: secret) + "(?![A-Za-z0-9_])"
            output = output.replacingOccurrences(of: pattern, with: "<masked len=\(secret.count)>", options: .regularExpression)
        }
        return output
    }

    /// `SECRET_*`, `MASK_*`, `HIDE_*`, `PASSWORD_*`, `TOKEN_*`, `*_PASSWORD`, `*_TOKEN`, `*_SECRET`, `*_KEY`.
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return ["SECRET_", "MASK_", "HIDE_", "PASSWORD_", "TOKEN_"].contains(where: upper.hasPrefix)
            || ["_PASSWORD", "_TOKEN", "_SECRET", "_KEY"].contains(where: upper.hasSuffix)
    }

    /// An output shown on one line: trimmed, newlines escaped, cut at 200 characters.
    public static func oneLine(_ text: String) -> String {
        let flat = text.trimmingCharacters(in: .whitespacesAndNewlines)
            .replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\r", with: "\\r")
        return flat.count > 200 ? String(flat.prefix(200)) + "... (\(flat.count) chars total)" : flat
    }

    public func write(_ messageLevel: Level, _ message: String) {
        guard messageLevel <= level else { return }
        let line = state.withLock { state in
            let line = "[\(state.formatter.string(from: Date()))] \(messageLevel.prefix)\(message)"
            state.lines.append(line)
            try? state.file?.write(contentsOf: Data((line + "\n").utf8))
            return line
        }
        if echo { print(line) }
    }
}
