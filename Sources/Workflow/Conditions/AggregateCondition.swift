/// A condition over the successes and failures of many results: the `success`
/// and `next` of parallel and conditional blocks and the criterion of fan-out
/// tasks (§7.8 of the reference). The syntax is exact: `key=N`, no spaces.
public enum AggregateCondition: Sendable, Equatable {
    case allSuccess, anySuccess, majoritySuccess
    case always, never
    /// `min_success=N` and the other bounds; nil when N is not an integer.
    case bound(Bound, Int?)

    public enum Bound: String, Sendable, CaseIterable {
        case minSuccess = "min_success", maxSuccess = "max_success"
        case minFailed = "min_failed", maxFailed = "max_failed"
    }

    /// Nil when the text has no aggregate form.
    public init?(_ text: String) {
        switch text {
        case "all_success": self = .allSuccess
        case "any_success": self = .anySuccess
        case "majority_success": self = .majoritySuccess
        case "always": self = .always
        case "never": self = .never
        default:
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let bound = Bound(rawValue: String(parts[0])) else { return nil }
            self = .bound(bound, parts.count == 2 ? PythonSemantics.int(String(parts[1])) : nil)
        }
    }

    /// An aggregate condition that judges outcomes (not `always` or `never`): what
    /// makes a fan-out task's `success` a criterion rather than a per-host condition.
    public static func judgingOutcomes(_ text: String) -> AggregateCondition? {
        guard let condition = AggregateCondition(text), condition != .always, condition != .never else { return nil }
        return condition
    }

    /// An empty result list, and a bound without a number, are false.
    public func holds(successes: Int, failures: Int) -> Bool {
        let total = successes + failures
        guard total > 0 else { return false }
        switch self {
        case .allSuccess: return successes == total
        case .anySuccess: return successes > 0
        case .majoritySuccess: return Double(successes) > Double(total) / 2
        case .always: return true
        case .never: return false
        case .bound(_, nil): return false
        case let .bound(bound, n?):
            switch bound {
            case .minSuccess: return successes >= n
            case .maxSuccess: return successes <= n
            case .minFailed: return failures >= n
            case .maxFailed: return failures <= n
            }
        }
    }

    /// Evaluates `text`; text without an aggregate form is false.
    public static func holds(_ text: String, successes: Int, failures: Int) -> Bool {
        AggregateCondition(text)?.holds(successes: successes, failures: failures) ?? false
    }
}
