/// What the validator says of a condition (§7.7 of the reference), run on the
/// text with globals resolved and task placeholders still in place. The checks
/// are lexical and looser than evaluation in places, as in the reference:
/// `EXIT_0` and `STDOUT_COUNT=1` pass although they evaluate false.
extension Condition {
    public struct SyntaxCheck: Sendable, Equatable {
        /// The first problem found, in the reference's order; nil when the condition is well formed.
        public var problem: String?
        /// The code of the first `exit_N` when it is above 255: a warning, given once
        /// the checks before it in the reference's order have passed.
        public var unusualExitCode: Int?
    }

    public func checkSyntax() -> SyntaxCheck {
        let text = Condition.trimmed(self.text)
        if text.isEmpty { return SyntaxCheck(problem: "empty") }
        if text.filter({ $0 == "(" }).count != text.filter({ $0 == ")" }).count {
            return SyntaxCheck(problem: "unbalanced parentheses")
        }
        if let first = text.first, let last = text.last, "&|".contains(first) || "&|".contains(last) {
            return SyntaxCheck(problem: "leading or trailing operator")
        }
        if text.contains("&&") || text.contains("||") { return SyntaxCheck(problem: "use single & and |") }
        if !Self.numbers(after: "exit=", in: text).isEmpty { return SyntaxCheck(problem: "use exit_N instead of exit=N") }
        var check = SyntaxCheck()
        if let first = Self.numbers(after: "exit_", in: text).first, let code = Int(first), code > 255 {
            check.unusualExitCode = code
        }
        if Self.hasOperatorInsideParentheses(text) {
            check.problem = "operators inside parentheses"
            return check
        }
        for piece in pieces {
            var item = Substring(piece)
            while item.hasPrefix("(") { item.removeFirst() }
            while item.hasSuffix(")") { item.removeLast() }
            if !Self.isWellFormed(item) {
                check.problem = "'\(item)' is not a valid condition"
                return check
            }
        }
        return check
    }

    /// The digit runs that directly follow each occurrence of `prefix` (case-sensitive).
    private static func numbers(after prefix: String, in text: String) -> [Substring] {
        var runs: [Substring] = []
        var rest = Substring(text)
        while let range = rest.range(of: prefix) {
            let digits = rest[range.upperBound...].prefix(while: \.isASCIIDigit)
            if !digits.isEmpty { runs.append(digits) }
            rest = rest[range.upperBound...]
        }
        return runs
    }

    /// A `(`…`)` with no parentheses between them and an `&` or `|` inside.
    private static func hasOperatorInsideParentheses(_ text: String) -> Bool {
        var open = false
        var sawOperator = false
        for character in text {
            switch character {
            case "(": open = true; sawOperator = false
            case ")": if open, sawOperator { return true }; open = false
            case "&", "|": sawOperator = true
            default: break
            }
        }
        return false
    }

    /// The shapes a piece may take, letter case ignored: a keyword alone (`exit_N`,
    /// `exit_not_0`, `true`, `false`, `success`), a task-result placeholder alone,
    /// a name or placeholder followed by an operator character (`stdout~x`,
    /// `exit>2`, `@3_stdout@=ok`, `@3_hosts@~web`), or `contains:`/`not_contains:`.
    static func isWellFormed(_ piece: Substring) -> Bool {
        let lower = piece.lowercased()
        if lower.hasPrefix("contains:") || lower.hasPrefix("not_contains:") { return true }
        let operatorCharacters: Set<Character> = ["=", "!", "<", ">", "~"]
        if let first = lower.first, first == "_" || ("a"..."z").contains(first) {
            let name = lower.prefix { $0 == "_" || $0.isLetter || $0.isNumber }
            let rest = lower[name.endIndex...]
            if let next = rest.first { return operatorCharacters.contains(next) }
            if ["exit_not_0", "true", "false", "success"].contains(name) { return true }
            return name.hasPrefix("exit_") && name.count > 5 && name.dropFirst(5).allSatisfy(\.isASCIIDigit)
        }
        guard let placeholder = ResultPlaceholder(lower) else { return false }
        if let next = lower[placeholder.end...].first { return operatorCharacters.contains(next) }
        return !placeholder.isHostList
    }

    /// `@N_kind@` or `@N_kind[…]@` at the start of a piece.
    private struct ResultPlaceholder {
        var end: String.Index
        var isHostList: Bool

        init?(_ text: String) {
            guard text.first == "@" else { return nil }
            let afterAt = text.index(after: text.startIndex)
            let digits = text[afterAt...].prefix(while: \.isASCIIDigit)
            guard !digits.isEmpty, text[digits.endIndex...].first == "_" else { return nil }
            let kindStart = text.index(after: digits.endIndex)
            let kind = text[kindStart...].prefix { $0.isLetter || $0 == "_" }
            var index = kind.endIndex
            switch kind {
            case "stdout", "stderr", "success", "exit":
                isHostList = false
                if text[index...].first == "[" {
                    let inner = text[text.index(after: index)...].prefix { $0 != "]" && $0 != "@" && !$0.isWhitespace }
                    guard !inner.isEmpty, text[inner.endIndex...].first == "]" else { return nil }
                    index = text.index(after: inner.endIndex)
                }
            case "hosts", "succeeded_hosts", "failed_hosts":
                isHostList = true
            default:
                return nil
            }
            guard text[index...].first == "@" else { return nil }
            end = text.index(after: index)
        }
    }
}

private extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
