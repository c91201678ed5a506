import Foundation

/// The "current task" a condition is evaluated against.
public struct ConditionContext: Sendable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    /// What the `success` keyword means here; nil means `exitCode == 0`.
    public var success: Bool?

    public init(exitCode: Int = 0, stdout: String = "", stderr: String = "", success: Bool? = nil) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.success = success
    }

    /// The context of gates (`condition`) and decision blocks: exit 0, empty outputs.
    public static let gate = ConditionContext()
}

/// TASKER's condition language, with its exact (and in places surprising)
/// semantics: placeholders are substituted before the expression is parsed;
/// `|` splits first, else `&`; no precedence, no nesting.
public enum ConditionEvaluator {
    public static func evaluate(_ expression: String, context: ConditionContext,
                                resolver: PlaceholderResolver = PlaceholderResolver()) -> Bool {
        if expression.isEmpty { return false }
        let text = resolver.resolve(expression).text
        if text.unicodeScalars.contains("|") {
            // Every piece is evaluated; OR of the results.
            return text.split(separator: "|", omittingEmptySubsequences: false)
                .map { simple(String($0).trimmingCharacters(in: .whitespaces), context) }
                .contains(true)
        }
        if text.unicodeScalars.contains("&") {
            return !text.split(separator: "&", omittingEmptySubsequences: false)
                .map { simple(String($0).trimmingCharacters(in: .whitespaces), context) }
                .contains(false)
        }
        return simple(text.trimmingCharacters(in: .whitespaces), context)
    }

    static func simple(_ raw: String, _ context: ConditionContext) -> Bool {
        let text = stripOuterParentheses(raw)
        let lower = text.lowercased()
        if text == "exit_0" { return context.exitCode == 0 }
        if text == "exit_not_0" { return context.exitCode != 0 }
        if text.hasPrefix("exit_") { return PythonSemantics.int(String(text.dropFirst(5))) == context.exitCode }
        if lower == "success" { return context.success ?? (context.exitCode == 0) }
        for stream in ["stdout", "stderr"] where lower.hasPrefix(stream) {
            let hasComparison = text.contains { "=<>".contains($0) }
            guard lower.contains("_count") || text.unicodeScalars.contains("~") || !hasComparison else { break }
            if let result = streamCondition(text, lower: lower, stream: stream, context: context) { return result }
            break
        }
        if text.contains(where: { "=~<>".contains($0) }) { return compare(text, context) }
        if lower == "true" { return true }
        if lower == "false" { return false }
        if text.hasPrefix("contains:") { return PythonSemantics.contains(context.stdout, String(text.dropFirst("contains:".count))) }
        if text.hasPrefix("not_contains:") { return !PythonSemantics.contains(context.stdout, String(text.dropFirst("not_contains:".count))) }
        return false
    }

    /// `(x)` and `((x))` lose their outer parentheses unless the first one closes
    /// before the end (one that never closes counts as closing at the end, as in
    /// the reference). Code points, as the reference's Python strings; each
    /// bracket's partner is found once, so deep nesting costs linear time.
    static func stripOuterParentheses(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2, scalars.first == "(", scalars.last == ")" else { return text }
        var partner = [Int](repeating: -1, count: scalars.count)
        var open: [Int] = []
        for (index, scalar) in scalars.enumerated() {
            if scalar == "(" { open.append(index) }
            if scalar == ")", let start = open.popLast() { partner[start] = index }
        }
        var low = 0
        var high = scalars.count - 1
        // A partner beyond `high` was peeled off already: within what is left, it never closes.
        while high - low >= 1, scalars[low] == "(", scalars[high] == ")", partner[low] == -1 || partner[low] >= high {
            low += 1
            high -= 1
            while low <= high, CharacterSet.whitespaces.contains(scalars[low]) { low += 1 }
            while high >= low, CharacterSet.whitespaces.contains(scalars[high]) { high -= 1 }
        }
        guard low > 0 else { return text }
        return low > high ? "" : String(String.UnicodeScalarView(scalars[low...high]))
    }

    /// `stdout~`, `stdout!~`, `stdout~pattern`, `stdout_count=N` and the stderr forms;
    /// nil means "not one of these", and evaluation falls through to comparisons.
    private static func streamCondition(_ text: String, lower: String, stream: String, context: ConditionContext) -> Bool? {
        let value = stream == "stdout" ? context.stdout : context.stderr
        let isStdout = stream == "stdout"
        let emptiness = isStdout ? value.trimmingCharacters(in: .whitespacesAndNewlines) : PythonSemantics.dropTrailingNewlines(value)
        if lower == "\(stream)~" { return emptiness.isEmpty }
        if lower == "\(stream)!~" { return !emptiness.isEmpty }
        if let tilde = text.firstIndex(of: "~") {
            let pattern = unquote(text[text.index(after: tilde)...].trimmingCharacters(in: .whitespaces))
            let found = PythonSemantics.contains(PythonSemantics.dropTrailingNewlines(value), pattern)
            return lower.hasPrefix("\(stream)!~") ? !found : found
        }
        if let range = text.range(of: "_count") {
            let rest = text[range.upperBound...]
            guard let op = rest.first, let number = PythonSemantics.int(String(rest.dropFirst())) else { return false }
            let counted = isStdout ? value.trimmingCharacters(in: .whitespacesAndNewlines) : PythonSemantics.dropTrailingNewlines(value)
            let lines = counted.isEmpty ? 0 : counted.split(separator: "\n", omittingEmptySubsequences: false).count
            switch op {
            case "=": return lines == number
            case "<": return lines < number
            case ">": return lines > number
            default: return false
            }
        }
        return nil
    }

    /// One pair of matching surrounding quotes is removed; an unmatched leading quote is dropped.
    static func unquote(_ text: String) -> String {
        guard let first = text.first, first == "\"" || first == "'" else { return text }
        if text.count >= 2, text.last == first { return String(text.dropFirst().dropLast()) }
        return String(text.dropFirst())
    }

    // MARK: Operator comparison

    static let operators = ["!~", "<=", ">=", "!=", "~", "=", "<", ">"]

    indirect enum Operand: Equatable {
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)

        var text: String {
            switch self {
            case .bool(let value): return value ? "True" : "False"
            case .int(let value): return String(value)
            case .float(let value): return PythonSemantics.floatText(value)
            case .string(let value): return value
            }
        }

        var number: Double? {
            switch self {
            case .bool(let value): return value ? 1 : 0
            case .int(let value): return Double(value)
            case .float(let value): return value
            case .string(let value):
                if !value.unicodeScalars.contains(".") { return PythonSemantics.int(value).map(Double.init) }
                return PythonSemantics.float(value)
            }
        }

        /// Python `==`: numbers (and booleans as 0/1) compare by value; strings only with strings.
        func equals(_ other: Operand) -> Bool {
            switch (self, other) {
            case let (.string(a), .string(b)): return a == b
            case (.string, _), (_, .string): return false
            default: return number == other.number
            }
        }
    }

    static func split(_ text: String) -> (String, String, String)? {
        // Quoted right-hand sides first: `stdout~"a=b"` keeps its `=`.
        for op in operators {
            guard let range = text.range(of: op) else { continue }
            let right = text[range.upperBound...].drop(while: { $0 == " " || $0 == "\t" })
            guard let quote = right.first, quote == "\"" || quote == "'" else { continue }
            var index = right.index(after: right.startIndex)
            var closing: String.Index?
            while index < right.endIndex {
                if right[index] == quote, right[right.index(before: index)] != "\\" {
                    closing = index
                    break
                }
                index = right.index(after: index)
            }
            guard let closing else { return nil }
            if !right[right.index(after: closing)...].allSatisfy(\.isWhitespace) { continue }
            let inner = String(right[right.index(after: right.startIndex)..<closing])
                .replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\'", with: "'")
            return (String(text[..<range.lowerBound]).trimmingCharacters(in: .whitespaces), op, inner)
        }
        for op in operators {
            guard let range = text.range(of: op) else { continue }
            return (String(text[..<range.lowerBound]).trimmingCharacters(in: .whitespaces), op,
                    String(text[range.upperBound...]).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    static func typed(_ raw: String) -> Operand {
        let text = raw.trimmingCharacters(in: .whitespaces)
        if text.lowercased() == "true" { return .bool(true) }
        if text.lowercased() == "false" { return .bool(false) }
        if !text.unicodeScalars.contains(".") {
            if let value = PythonSemantics.int(text) { return .int(value) }
        } else if let value = PythonSemantics.float(text) {
            return .float(value)
        }
        return .string(text)
    }

    static func leftOperand(_ text: String, _ context: ConditionContext) -> Operand {
        let lower = text.lowercased()
        if text.unicodeScalars.contains(":"), lower != "stdout", lower != "stderr" {
            let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let source = parts[0].lowercased()
            if source == "stdout" || source == "stderr" {
                let stream = source == "stdout" ? context.stdout : context.stderr
                return .string(OutputSplitter.split(stream, spec: String(parts[1])))
            }
            return typed(text)
        }
        if lower == "exit" { return .int(context.exitCode) }
        if lower == "stdout" { return .string(PythonSemantics.dropTrailingNewlines(context.stdout)) }
        if lower == "stderr" { return .string(PythonSemantics.dropTrailingNewlines(context.stderr)) }
        return typed(text)
    }

    static func compare(_ text: String, _ context: ConditionContext) -> Bool {
        guard let (leftText, op, rightText) = split(text) else { return false }
        let left = leftOperand(leftText, context)
        let right = typed(rightText)
        switch op {
        case "=": return left.equals(right)
        case "!=": return !left.equals(right)
        case "~": return PythonSemantics.contains(left.text, right.text)
        case "!~": return !PythonSemantics.contains(left.text, right.text)
        default:
            guard let a = left.number, let b = right.number else { return false }
            switch op {
            case "<": return a < b
            case "<=": return a <= b
            case ">": return a > b
            default: return a >= b
            }
        }
    }

    // MARK: Aggregate conditions (parallel and conditional blocks, fan-out tasks)

    public static let aggregateKeywords: Set<String> = ["all_success", "any_success", "majority_success"]
    public static let aggregateModifiers: Set<String> = ["min_success", "max_success", "min_failed", "max_failed"]

    /// Whether `text` has the form of an aggregate condition (a keyword or `modifier=…`).
    public static func isAggregate(_ text: String) -> Bool {
        aggregateKeywords.contains(text)
            || aggregateModifiers.contains(text.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "")
    }

    /// `all_success`, `any_success`, `majority_success`, `min_success=N`,
    /// `max_success=N`, `min_failed=N`, `max_failed=N`, `always`, `never`;
    /// anything else, and an empty result list, is false.
    public static func aggregate(_ expression: String, successes: Int, failures: Int) -> Bool {
        let total = successes + failures
        guard total > 0 else { return false }
        switch expression {
        case "all_success": return successes == total
        case "any_success": return successes > 0
        case "majority_success": return Double(successes) > Double(total) / 2
        case "always": return true
        case "never": return false
        default: break
        }
        let parts = expression.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let n = PythonSemantics.int(String(parts[1])) else { return false }
        switch parts[0] {
        case "min_success": return successes >= n
        case "max_success": return successes <= n
        case "min_failed": return failures >= n
        case "max_failed": return failures <= n
        default: return false
        }
    }
}
