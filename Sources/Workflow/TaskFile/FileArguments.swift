import Foundation

/// Command-line options written at the top of a task file (zone A).
public struct FileArguments: Sendable, Equatable {
    /// Tokens to merge with the real command line, e.g. `--log-level=DEBUG`, `-r`.
    public var tokens: [String] = []
    /// Lines that were recognised but not applied, with the reason.
    public var warnings: [String] = []

    public init(tokens: [String] = [], warnings: [String] = []) {
        self.tokens = tokens
        self.warnings = warnings
    }

    static let forbidden: Set<String> = ["--help", "-h", "--version", "-V", "--force-instance"]
    static let ignoredWithWarning: Set<String> = ["--skip-security-validation", "--skip-validation", "--fire-and-forget"]

    /// Reads zone A: lines starting with `-` up to the first `key=value` line that does not.
    public static func read(_ lines: [TaskFileLine], path: String) throws -> FileArguments {
        var arguments = FileArguments()
        for line in lines {
            let text = line.text
            if text.contains("="), !text.hasPrefix("-") { break }
            guard text.hasPrefix("-") else { continue }
            let name = text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? text
            if !name.hasPrefix("--"), name.count > 2 {
                throw TaskFileError(exitCode: 2, "\(path):\(line.number): file argument '\(name)' must use a double dash for long options (e.g. -\(name))")
            }
            if forbidden.contains(name) {
                throw TaskFileError(exitCode: 20, "\(path):\(line.number): '\(name)' is not allowed in a task file; give it on the command line")
            }
            if ignoredWithWarning.contains(name) {
                arguments.warnings.append("\(path):\(line.number): '\(name)' in a task file is ignored; give it on the command line")
                continue
            }
            arguments.tokens.append(text)
        }
        return arguments
    }
}

/// A trimmed, non-empty, non-comment line with its 1-based number.
public struct TaskFileLine: Sendable, Equatable {
    public var number: Int
    public var text: String

    /// Splits a task file into meaningful lines: trimmed, blank and `#` lines dropped.
    public static func lines(of text: String) -> [TaskFileLine] {
        var result: [TaskFileLine] = []
        var number = 0
        for raw in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            number += 1
            let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            result.append(TaskFileLine(number: number, text: trimmed))
        }
        return result
    }

    /// `key=value` split at the first `=`, both sides trimmed; nil without `=`.
    public var keyValue: (key: String, value: String)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        return (text[..<equals].trimmingCharacters(in: .whitespaces),
                text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces))
    }
}
