import Foundation

/// `stdout_split` / `stderr_split` (`DELIM,INDEX`): replaces a stream by one of its fields.
enum OutputSplitter {
    /// Keyword delimiters of sequential tasks, as regular expressions; any
    /// other text is itself used as a regular expression.
    static let keywords: [String: String] = [
        "space": " +", "whitespace": "\\s+", "tab": "\\t+", "newline": "\\n+",
        "colon": ":", "semicolon": ";", "semi": ";", "comma": ",", "pipe": "\\|",
    ]

    /// Splits the raw stream (trailing newline included); an empty stream or
    /// spec, a malformed spec, or an index out of range leaves it unchanged.
    static func split(_ stream: String, spec: String) -> String {
        guard !stream.isEmpty, let (delimiter, index) = parse(spec) else { return stream }
        let pattern = keywords[delimiter.lowercased()] ?? keywords[delimiter] ?? delimiter
        guard let fields = regexSplit(stream, pattern: pattern), index >= 0, index < fields.count else { return stream }
        return fields[index]
    }

    /// Subtasks of blocks use the text before the comma as a literal separator ([QUIRK], kept for compatibility).
    static func splitLiterally(_ stream: String, spec: String) -> String {
        guard !stream.isEmpty, let (delimiter, index) = parse(spec), !delimiter.isEmpty else { return stream }
        let fields = stream.components(separatedBy: delimiter)
        guard index >= 0, index < fields.count else { return stream }
        return fields[index]
    }

    static func parse(_ spec: String) -> (String, Int)? {
        guard !spec.isEmpty else { return nil }
        let parts = spec.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = PythonSemantics.int(String(parts[1])) else { return nil }
        return (String(parts[0]).trimmingCharacters(in: .whitespaces), index)
    }

    /// Python's `re.split(pattern, text)`.
    static func regexSplit(_ text: String, pattern: String) -> [String]? {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        let nsText = text as NSString
        var fields: [String] = []
        var start = 0
        for match in regex.matches(in: text, range: NSRange(location: 0, length: nsText.length)) {
            if match.range.length == 0 { continue }
            fields.append(nsText.substring(with: NSRange(location: start, length: match.range.location - start)))
            start = match.range.location + match.range.length
        }
        fields.append(nsText.substring(from: start))
        return fields
    }
}
