import Fleet
import Foundation
import Locking

/// TASKER's log: `[DDMonYY HH:MM:SS] LEVEL: message` lines (no level word for
/// INFO) on stdout and, with `-r`, in the run's log file. Lines go through the
/// shared output writer and are not kept: a long run's log costs no memory, and
/// live remote lines logged from an event loop never wait for the terminal or disk.
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
    /// The log file's descriptor and the timestamp formatter (built once: DateFormatter is costly to create).
    private let state: Locked<(file: Int32?, formatter: DateFormatter)>
    private let echo: Bool
    private let console: ConsoleWriter
    /// Hides the global values whose names mark them as secrets.
    public let masker: SecretMasker

    /// `file` is a descriptor open for writing; the log closes it.
    public init(level: Level = .info, echo: Bool = true, file: Int32? = nil, secrets: [String] = [],
                console: ConsoleWriter = .shared) {
        self.level = level
        self.echo = echo
        self.console = console
        masker = SecretMasker(secrets: secrets)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "ddMMMyy HH:mm:ss"
        state = Locked((file, formatter))
    }

    public func debug(_ message: String) { write(.debug, message) }
    public func info(_ message: String) { write(.info, message) }
    public func warn(_ message: String) { write(.warn, message) }
    public func error(_ message: String) { write(.error, message) }

    /// Closes the log file once every line logged so far is written.
    public func close() {
        state.withLock { state in
            if let file = state.file { console.writer.close(file) }
            state.file = nil
        }
    }

    /// Replaces secret values that are not part of a longer word with `<masked len=N>`.
    public func mask(_ text: String) -> String {
        masker.mask(text)
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
        state.withLock { state in
            let line = Array("[\(state.formatter.string(from: Date()))] \(messageLevel.prefix)\(message)\n".utf8)
            if let file = state.file { console.writer.write(line, to: file) }
            if echo { console.writer.write(line, to: 1) }
        }
    }
}
