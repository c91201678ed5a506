import Foundation

/// A global variable (zone B), expanded against the environment once, at parse time.
public struct GlobalVariable: Sendable, Equatable {
    public var name: String
    /// The trimmed, environment-expanded value.
    public var value: String
    /// The value as written.
    public var raw: String
    public var line: Int
    /// `$NAME` references whose variable was not set (left as written).
    public var unsetReferences: [String]

    /// Whether the value came from the environment (recorded for auto-recovery).
    public var fromEnvironment: Bool { value != raw }
}

/// Security rules every global must pass, even with validation skipped.
enum GlobalVariableRules {
    static let injection: [NSRegularExpression] = [
        #";\s*(rm|curl|wget|cat)\s"#, #"\|\s*nc\s"#, #"\$\(.*\)"#, "`[^`]*`", #"&&\s*rm\s"#, #"\|\|\s*curl\s"#,
        #">\s*/dev/"#, #"<\s*/dev/"#,
    ].map { try! NSRegularExpression(pattern: $0, options: [.caseInsensitive]) }

    static let traversal = ["../", "..\\", "%2e%2e%2f", "%2e%2e%5c", "..%2f", "..%5c", "%252e%252e%252f",
                            "/etc/passwd", "/etc/shadow", "/proc/version", "c:\\windows\\"]

    static func injectionPattern(in text: String) -> Bool {
        injection.contains { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil }
    }

    static func traversalPattern(in text: String) -> String? {
        let lower = text.lowercased()
        return traversal.first { lower.contains($0) }
    }

    /// Exit-20 checks of §4.3: name shape and length, value length, injection and traversal patterns.
    static func check(_ variable: GlobalVariable, path: String) throws {
        let location = "\(path):\(variable.line)"
        let nameIsValid = variable.name.range(of: "^[A-Za-z_][A-Za-z0-9_]*$", options: .regularExpression) != nil
        guard nameIsValid, variable.name.count <= 64 else {
            throw TaskFileError(exitCode: 20, "\(location): global variable name '\(variable.name)' is invalid (letters, digits and _, not starting with a digit, at most 64 characters)")
        }
        guard variable.value.count <= 1024 else {
            throw TaskFileError(exitCode: 20, "\(location): global variable \(variable.name) is longer than 1024 characters")
        }
        let exempt = variable.value.hasPrefix("-c ") && (variable.value.contains("\"") || variable.value.contains("'"))
        if !exempt, injectionPattern(in: variable.value) {
            throw TaskFileError(exitCode: 20, "\(location): global variable \(variable.name) contains a shell injection pattern")
        }
        if let pattern = traversalPattern(in: variable.value) {
            throw TaskFileError(exitCode: 20, "\(location): global variable \(variable.name) contains a path traversal pattern ('\(pattern)')")
        }
    }
}
