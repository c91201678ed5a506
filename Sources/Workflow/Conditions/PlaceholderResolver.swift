import Foundation

/// Substitutes `@N_stdout@`-style task results, then `@NAME@` globals (with
/// up to 10 further rounds so globals may refer to globals), as TASKER does.
public struct PlaceholderResolver: Sendable {
    public var globals: [String: String]
    public var results: [Int: TaskResult]
    /// Characters of a spilled stream that a placeholder substitutes, so the next argv stays within the kernel limit.
    public static let spillLimit = 102_400

    public init(globals: [String: String] = [:], results: [Int: TaskResult] = [:]) {
        self.globals = globals
        self.results = results
    }

    static let resultPattern = try! NSRegularExpression(
        pattern: "@([0-9]+)_(stdout_file|stderr_file|stdout|stderr|success|exit)@", options: [.caseInsensitive])
    static let globalPattern = try! NSRegularExpression(pattern: "@([A-Za-z_][A-Za-z0-9_]*)@")

    /// The substituted text, and whether every placeholder in it could be resolved.
    public func resolve(_ text: String) -> (text: String, resolved: Bool) {
        guard text.contains("@") else { return (text, true) }
        var resolved = true
        var output = substituteResults(text, resolved: &resolved)
        var round = 0
        var changed = true
        while changed, round <= 10 {
            changed = false
            for name in Self.matches(Self.globalPattern, in: output).map({ $0[1] }) {
                guard let value = globals[name] else {
                    if round == 0 { resolved = false }
                    continue
                }
                let replaced = output.replacingOccurrences(of: "@\(name)@", with: value)
                if replaced != output {
                    output = replaced
                    changed = true
                }
            }
            round += 1
        }
        return (output, resolved)
    }

    private func substituteResults(_ text: String, resolved: inout Bool) -> String {
        var output = text
        for groups in Self.matches(Self.resultPattern, in: text) {
            let (whole, idText, kind) = (groups[0], groups[1], groups[2].lowercased())
            guard let id = Int(idText) else { continue }
            guard let result = results[id] else {
                resolved = false
                continue
            }
            // [QUIRK] `@00_stdout@` finds task 0 but is left as written.
            guard String(id) == idText else { continue }
            output = output.replacingOccurrences(of: whole, with: value(of: result, kind: kind))
        }
        return output
    }

    private func value(of result: TaskResult, kind: String) -> String {
        switch kind {
        case "stdout": return Self.streamValue(result.stdout, spillFile: result.stdoutFile)
        case "stderr": return Self.streamValue(result.stderr, spillFile: result.stderrFile)
        case "stdout_file": return result.stdoutFile ?? ""
        case "stderr_file": return result.stderrFile ?? ""
        case "exit": return String(result.exitCode)
        default: return result.success ? "True" : "False"
        }
    }

    private static func streamValue(_ stream: String, spillFile: String?) -> String {
        if let spillFile, let handle = FileHandle(forReadingAtPath: spillFile) {
            defer { try? handle.close() }
            // Up to 4 bytes per character: read enough for the character limit.
            let data = (try? handle.read(upToCount: spillLimit * 4)) ?? Data()
            return PythonSemantics.dropTrailingNewlines(String(String(decoding: data, as: UTF8.self).prefix(spillLimit)))
        }
        return PythonSemantics.dropTrailingNewlines(stream)
    }

    static func matches(_ regex: NSRegularExpression, in text: String) -> [[String]] {
        let nsText = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: nsText.length)).map { match in
            (0..<match.numberOfRanges).map { nsText.substring(with: match.range(at: $0)) }
        }
    }
}
