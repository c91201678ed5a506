import Foundation

/// One expression of TASKER's condition language (§7 of the reference), parsed
/// once into the form the evaluator runs and the validator checks.
///
/// The reference's quirks are part of the grammar: placeholders are substituted
/// before parsing, so the text given here is already resolved; `|` splits first
/// and then every `|`-piece is one term, `&` included ("a&b|c" has the terms
/// "a&b" and "c"); only without `|` does `&` split; no precedence, no nesting.
public struct Condition: Sendable, Equatable {
    public enum Combination: Sendable, Equatable {
        /// True when any term is (the expression has `|`).
        case anyOf
        /// True when every term is (`&`, or a single term).
        case allOf
    }

    /// The expression as given.
    public let text: String
    public let combination: Combination
    /// What evaluation looks at, in order.
    public let terms: [Term]
    /// Every piece between `&` and `|`, trimmed (none between adjacent operators): what the validator checks.
    let pieces: [String]

    public init(_ text: String) {
        self.text = text
        if text.unicodeScalars.contains("|") {
            combination = .anyOf
            terms = Self.split(text, on: "|").map(Term.init)
        } else {
            combination = .allOf
            terms = text.unicodeScalars.contains("&") ? Self.split(text, on: "&").map(Term.init) : [Term(Self.trimmed(text))]
        }
        pieces = text.split(whereSeparator: { $0 == "&" || $0 == "|" }).map { Self.trimmed(String($0)) }
    }

    /// Resolves placeholders in `expression`, parses and evaluates it; an empty expression is false.
    public static func evaluate(_ expression: String, context: ConditionContext,
                                resolver: PlaceholderResolver = PlaceholderResolver()) -> Bool {
        if expression.isEmpty { return false }
        return Condition(resolver.resolve(expression).text).evaluate(context)
    }

    static func split(_ text: String, on separator: Character) -> [String] {
        text.split(separator: separator, omittingEmptySubsequences: false).map { trimmed(String($0)) }
    }

    static func trimmed(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces) }
}

// MARK: Terms

extension Condition {
    public enum Stream: String, Sendable, Equatable { case stdout, stderr }

    /// One simple condition, classified by the reference's dispatch order (§7.4).
    public enum Term: Sendable, Equatable {
        /// `exit_N`; nil when N is not an integer (never true).
        case exitCode(Int?)
        case exitNotZero
        /// `success`: the caller's success flag, else exit 0.
        case success
        /// `stdout~` / `stdout!~` (negated): the stream is empty.
        case streamEmpty(Stream, negated: Bool)
        /// `stdout~PATTERN` / `stdout!~PATTERN`.
        case streamContains(Stream, pattern: String, negated: Bool)
        /// `stdout_count=N`, `<N`, `>N`.
        case streamLineCount(Stream, LineCountOperator, Int)
        case comparison(Comparison)
        case constant(Bool)
        /// `contains:TEXT` / `not_contains:TEXT` on the raw stdout.
        case stdoutContains(String, negated: Bool)
        /// Text no rule recognises, and malformed forms of recognised ones: false, as in the reference.
        case unrecognized

        public init(_ raw: String) {
            let text = Condition.stripOuterParentheses(raw)
            let lower = text.lowercased()
            if text == "exit_0" { self = .exitCode(0); return }
            if text == "exit_not_0" { self = .exitNotZero; return }
            if text.hasPrefix("exit_") { self = .exitCode(PythonSemantics.int(String(text.dropFirst(5)))); return }
            if lower == "success" { self = .success; return }
            for stream in [Stream.stdout, .stderr] where lower.hasPrefix(stream.rawValue) {
                let hasComparison = text.contains { "=<>".contains($0) }
                guard lower.contains("_count") || text.unicodeScalars.contains("~") || !hasComparison else { break }
                if let term = Self.streamTerm(text, lower: lower, stream: stream) { self = term; return }
                break
            }
            if text.contains(where: { "=~<>".contains($0) }) {
                self = Comparison(text).map(Term.comparison) ?? .unrecognized
                return
            }
            if lower == "true" { self = .constant(true); return }
            if lower == "false" { self = .constant(false); return }
            if text.hasPrefix("contains:") { self = .stdoutContains(String(text.dropFirst("contains:".count)), negated: false); return }
            if text.hasPrefix("not_contains:") { self = .stdoutContains(String(text.dropFirst("not_contains:".count)), negated: true); return }
            self = .unrecognized
        }

        /// The stream forms; nil means "not one of these", and dispatch goes on to comparisons.
        private static func streamTerm(_ text: String, lower: String, stream: Stream) -> Term? {
            if lower == "\(stream.rawValue)~" { return .streamEmpty(stream, negated: false) }
            if lower == "\(stream.rawValue)!~" { return .streamEmpty(stream, negated: true) }
            if let tilde = text.firstIndex(of: "~") {
                let pattern = Condition.unquote(Condition.trimmed(String(text[text.index(after: tilde)...])))
                return .streamContains(stream, pattern: pattern, negated: lower.hasPrefix("\(stream.rawValue)!~"))
            }
            // `_count` is matched case-sensitively: `STDOUT_COUNT=1` goes on to be a comparison.
            if let range = text.range(of: "_count") {
                let rest = text[range.upperBound...]
                guard let symbol = rest.first, let op = LineCountOperator(rawValue: symbol),
                      let number = PythonSemantics.int(String(rest.dropFirst())) else { return .unrecognized }
                return .streamLineCount(stream, op, number)
            }
            return nil
        }
    }

    public enum LineCountOperator: Character, Sendable, Equatable {
        case equal = "=", less = "<", greater = ">"
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

    /// One pair of matching surrounding quotes is removed; an unmatched leading quote is dropped.
    static func unquote(_ text: String) -> String {
        guard let first = text.first, first == "\"" || first == "'" else { return text }
        if text.count >= 2, text.last == first { return String(text.dropFirst().dropLast()) }
        return String(text.dropFirst())
    }
}

// MARK: Comparisons (§7.5)

extension Condition {
    public enum ComparisonOperator: String, Sendable, Equatable, CaseIterable {
        // The order operators are tried in: the first of this list found anywhere wins.
        case notContains = "!~", lessOrEqual = "<=", greaterOrEqual = ">=", notEqual = "!=", contains = "~"
        case equal = "=", less = "<", greater = ">"
    }

    /// A value as the reference types it: booleans, integers, floats, else text.
    public enum Operand: Sendable, Equatable {
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)

        /// A typed literal: `true`/`false` in any case, an integer if there is no `.`, else a float, else the text.
        init(literal raw: String) {
            let text = Condition.trimmed(raw)
            if text.lowercased() == "true" { self = .bool(true); return }
            if text.lowercased() == "false" { self = .bool(false); return }
            if !text.unicodeScalars.contains(".") {
                if let value = PythonSemantics.int(text) { self = .int(value); return }
            } else if let value = PythonSemantics.float(text) {
                self = .float(value)
                return
            }
            self = .string(text)
        }
    }

    /// What the left side of a comparison reads.
    public enum LeftOperand: Sendable, Equatable {
        case exitCode
        /// The stream without its trailing newlines (always text).
        case stream(Stream)
        /// `stdout:SPEC`: the stream split as `stdout_split` does (§8).
        case splitStream(Stream, spec: String)
        case literal(Operand)

        init(_ text: String) {
            let lower = text.lowercased()
            if text.unicodeScalars.contains(":"), lower != "stdout", lower != "stderr" {
                let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                if let stream = Stream(rawValue: parts[0].lowercased()) {
                    self = .splitStream(stream, spec: String(parts[1]))
                } else {
                    self = .literal(Operand(literal: text))
                }
                return
            }
            switch lower {
            case "exit": self = .exitCode
            case "stdout": self = .stream(.stdout)
            case "stderr": self = .stream(.stderr)
            default: self = .literal(Operand(literal: text))
            }
        }
    }

    public struct Comparison: Sendable, Equatable {
        public var left: LeftOperand
        public var op: ComparisonOperator
        public var right: Operand

        /// Nil when a quoted right side never closes (the comparison is then false).
        init?(_ text: String) {
            guard let (left, op, right) = Self.split(text) else { return nil }
            self.left = LeftOperand(left)
            self.op = op
            self.right = Operand(literal: right)
        }

        /// Quoted right-hand sides first (`stdout~"a=b"` keeps its `=`), then the plain split.
        static func split(_ text: String) -> (String, ComparisonOperator, String)? {
            for op in ComparisonOperator.allCases {
                guard let range = text.range(of: op.rawValue) else { continue }
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
                return (Condition.trimmed(String(text[..<range.lowerBound])), op, inner)
            }
            for op in ComparisonOperator.allCases {
                guard let range = text.range(of: op.rawValue) else { continue }
                return (Condition.trimmed(String(text[..<range.lowerBound])), op,
                        Condition.trimmed(String(text[range.upperBound...])))
            }
            return nil
        }
    }
}
