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

    func text(of stream: Condition.Stream) -> String { stream == .stdout ? stdout : stderr }
}

extension Condition {
    /// Every term is evaluated (the reference has no short-circuit), then combined.
    public func evaluate(_ context: ConditionContext) -> Bool {
        let values = terms.map { $0.evaluate(context) }
        switch combination {
        case .anyOf: return values.contains(true)
        case .allOf: return !values.contains(false)
        }
    }
}

extension Condition.Term {
    func evaluate(_ context: ConditionContext) -> Bool {
        switch self {
        case .exitCode(let code): return code == context.exitCode
        case .exitNotZero: return context.exitCode != 0
        case .success: return context.success ?? (context.exitCode == 0)
        case let .streamEmpty(stream, negated):
            return Self.significant(context.text(of: stream), of: stream).isEmpty != negated
        case let .streamContains(stream, pattern, negated):
            return PythonSemantics.contains(PythonSemantics.dropTrailingNewlines(context.text(of: stream)), pattern) != negated
        case let .streamLineCount(stream, op, number):
            let counted = Self.significant(context.text(of: stream), of: stream)
            let lines = counted.isEmpty ? 0 : counted.split(separator: "\n", omittingEmptySubsequences: false).count
            switch op {
            case .equal: return lines == number
            case .less: return lines < number
            case .greater: return lines > number
            }
        case .comparison(let comparison): return comparison.evaluate(context)
        case .constant(let value): return value
        case let .stdoutContains(text, negated): return PythonSemantics.contains(context.stdout, text) != negated
        case .unrecognized: return false
        }
    }

    /// What emptiness and line counts look at: stdout without surrounding
    /// whitespace, stderr without trailing newlines only ([QUIRK] of the reference).
    private static func significant(_ text: String, of stream: Condition.Stream) -> String {
        stream == .stdout ? text.trimmingCharacters(in: .whitespacesAndNewlines) : PythonSemantics.dropTrailingNewlines(text)
    }
}

extension Condition.Comparison {
    func evaluate(_ context: ConditionContext) -> Bool {
        let left = left.value(in: context)
        switch op {
        case .equal: return left.equals(right)
        case .notEqual: return !left.equals(right)
        case .contains: return PythonSemantics.contains(left.text, right.text)
        case .notContains: return !PythonSemantics.contains(left.text, right.text)
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            guard let a = left.number, let b = right.number else { return false }
            switch op {
            case .less: return a < b
            case .lessOrEqual: return a <= b
            case .greater: return a > b
            default: return a >= b
            }
        }
    }
}

extension Condition.LeftOperand {
    func value(in context: ConditionContext) -> Condition.Operand {
        switch self {
        case .exitCode: return .int(context.exitCode)
        case .stream(let stream): return .string(PythonSemantics.dropTrailingNewlines(context.text(of: stream)))
        case let .splitStream(stream, spec): return .string(OutputSplitter.split(context.text(of: stream), spec: spec))
        case .literal(let operand): return operand
        }
    }
}

extension Condition.Operand {
    /// The text `~` searches in and for (booleans read `True`/`False`, as in Python).
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
    func equals(_ other: Condition.Operand) -> Bool {
        switch (self, other) {
        case let (.string(a), .string(b)): return a == b
        case (.string, _), (_, .string): return false
        default: return number == other.number
        }
    }
}
