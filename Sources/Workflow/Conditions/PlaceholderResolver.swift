import Foundation

/// Substitutes `@N_stdout@`-style task results, then `@NAME@` globals (with
/// up to 10 further rounds so globals may refer to globals), as TASKER does.
/// Fan-out tasks add `@N_stdout[HOST]@` (and `_stderr`, `_exit`, `_success`)
/// for one host's result and `@N_hosts@`, `@N_succeeded_hosts@`, `@N_failed_hosts@`,
/// `@N_touched_hosts@`, `@N_untouched_hosts@`
/// (comma-separated, usable as a later task's `hosts=`).
public struct PlaceholderResolver: Sendable {
    public var globals: [String: String]
    public var results: [Int: TaskResult]
    /// Characters of a spilled stream that a placeholder substitutes, so the next argv stays within the kernel limit.
    public static let spillLimit = 102_400
    /// Globals that refer to themselves grow a text geometrically with every
    /// round: their expansion stops once it has added this much (the kernel's
    /// limit for one argument, MAX_ARG_STRLEN) to the text.
    public static let expansionLimit = 128 << 10

    public init(globals: [String: String] = [:], results: [Int: TaskResult] = [:]) {
        self.globals = globals
        self.results = results
    }

    static let resultPattern = try! NSRegularExpression(
        pattern: #"@([0-9]+)_(stdout_file|stderr_file|stdout|stderr|success|exit|succeeded_hosts|failed_hosts|untouched_hosts|touched_hosts|hosts)(?:\[([^\]@\s]+)\])?@"#,
        options: [.caseInsensitive])
    static let globalPattern = try! NSRegularExpression(pattern: "@([A-Za-z_][A-Za-z0-9_]*)@")

    /// The substituted text, and whether every placeholder in it could be resolved.
    public func resolve(_ text: String) -> (text: String, resolved: Bool) {
        guard text.contains("@") else { return (text, true) }
        var resolved = true
        var output = Array(substituteResults(text, resolved: &resolved).utf8)
        let limit = output.count + Self.expansionLimit
        var round = 0
        var changed = true
        while changed, round <= 10, output.count <= limit {
            changed = false
            var seen: Set<String> = []
            for name in Self.globalNames(in: output) where seen.insert(name).inserted {
                guard let value = globals[name] else {
                    if round == 0 { resolved = false }
                    continue
                }
                if let replaced = Self.replacingAll(Array("@\(name)@".utf8), with: Array(value.utf8), in: output) {
                    output = replaced
                    changed = true
                }
                if output.count > limit { break }
            }
            round += 1
        }
        return (String(decoding: output, as: UTF8.self), resolved)
    }

    /// The names of `@NAME@` references, in order, as `globalPattern` finds them.
    static func globalNames(in text: [UInt8]) -> [String] {
        func isNameStart(_ byte: UInt8) -> Bool {
            (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95
        }
        var names: [String] = []
        var index = 0
        while index < text.count {
            guard text[index] == UInt8(ascii: "@"), index + 1 < text.count, isNameStart(text[index + 1]) else {
                index += 1
                continue
            }
            var end = index + 2
            while end < text.count, isNameStart(text[end]) || (text[end] >= 48 && text[end] <= 57) { end += 1 }
            if end < text.count, text[end] == UInt8(ascii: "@") {
                names.append(String(decoding: text[(index + 1)..<end], as: UTF8.self))
                end += 1
            }
            index = end
        }
        return names
    }

    /// `haystack` with every occurrence of `needle` replaced, left to right; nil when there is none.
    static func replacingAll(_ needle: [UInt8], with replacement: [UInt8], in haystack: [UInt8]) -> [UInt8]? {
        guard let first = needle.first, needle.count <= haystack.count else { return nil }
        var output: [UInt8] = []
        var copied = 0
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) {
                if output.isEmpty { output.reserveCapacity(haystack.count + replacement.count) }
                output += haystack[copied..<index]
                output += replacement
                index += needle.count
                copied = index
            } else {
                index += 1
            }
        }
        guard copied > 0 else { return nil }
        output += haystack[copied...]
        return output
    }

    private func substituteResults(_ text: String, resolved: inout Bool) -> String {
        var output = text
        var seen: Set<String> = []
        for groups in Self.matches(Self.resultPattern, in: text) where seen.insert(groups[0]).inserted {
            let (whole, idText, kind, host) = (groups[0], groups[1], groups[2].lowercased(), groups[3])
            guard let id = Int(idText) else { continue }
            guard let result = results[id] else {
                resolved = false
                continue
            }
            // [QUIRK] `@00_stdout@` finds task 0 but is left as written.
            guard String(id) == idText else { continue }
            guard let value = host.isEmpty ? value(of: result, kind: kind) : hostValue(of: result, host: host, kind: kind) else {
                resolved = false
                continue
            }
            if let replaced = Self.replacingAll(Array(whole.utf8), with: Array(value.utf8), in: Array(output.utf8)) {
                output = String(decoding: replaced, as: UTF8.self)
            }
        }
        return output
    }

    private func value(of result: TaskResult, kind: String) -> String? {
        switch kind {
        case "hosts", "succeeded_hosts", "failed_hosts", "touched_hosts", "untouched_hosts":
            guard let hosts = result.hosts else { return nil }
            let chosen = switch kind {
            case "hosts": hosts
            // A host some step ran on, or was started on (a rolling block's `held` hosts were never touched).
            case "touched_hosts": hosts.filter { $0.attempts > 0 }
            case "untouched_hosts": hosts.filter { $0.attempts == 0 }
            default: hosts.filter { $0.success == (kind == "succeeded_hosts") }
            }
            return chosen.map(\.host).joined(separator: ",")
        case "stdout": return Self.streamValue(result.stdout, spillFile: result.stdoutFile)
        case "stderr": return Self.streamValue(result.stderr, spillFile: result.stderrFile)
        case "stdout_file": return result.stdoutFile ?? ""
        case "stderr_file": return result.stderrFile ?? ""
        case "exit": return String(result.exitCode)
        default: return result.success ? "True" : "False"
        }
    }

    private func hostValue(of result: TaskResult, host: String, kind: String) -> String? {
        guard let record = result.host(host) else { return nil }
        switch kind {
        case "stdout": return PythonSemantics.dropTrailingNewlines(record.stdout)
        case "stderr": return PythonSemantics.dropTrailingNewlines(record.stderr)
        case "exit": return String(record.exitCode)
        case "success": return record.success ? "True" : "False"
        default: return nil
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
            (0..<match.numberOfRanges).map {
                let range = match.range(at: $0)
                return range.location == NSNotFound ? "" : nsText.substring(with: range)
            }
        }
    }
}
