/// How a rolling block cuts its hosts into batches (`serial=`, as Ansible's
/// `serial`) and judges its failure budget while hosts are still running.
public enum RolloutPlan {
    /// One entry of `serial=`: a count of hosts or a percentage of all selected hosts.
    public enum BatchSize: Sendable, Equatable {
        case count(Int)
        case percent(Int)

        /// `5` or `25%`; nil for 0, negatives, `0%`, over `100%` or anything else.
        public init?(_ text: String) {
            let text = text.trimmingCharacters(in: .whitespaces)
            if text.hasSuffix("%") {
                guard let value = Int(text.dropLast()), (1...100).contains(value) else { return nil }
                self = .percent(value)
            } else {
                guard let value = Int(text), value >= 1 else { return nil }
                self = .count(value)
            }
        }

        /// Hosts in a batch of this size out of `total`: percentages rounded down, at least 1.
        func hosts(of total: Int) -> Int {
            switch self {
            case .count(let count): count
            case .percent(let percent): max(1, total * percent / 100)
            }
        }
    }

    /// `serial=1,10%,100%`; nil when an entry is malformed.
    public static func sizes(_ text: String) -> [BatchSize]? {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { BatchSize(String($0)) }
        guard !entries.isEmpty, entries.allSatisfy({ $0 != nil }) else { return nil }
        return entries.map { $0! }
    }

    /// The batch sizes for `total` hosts: the list's last entry repeats until every host has a batch.
    public static func batches(_ sizes: [BatchSize], total: Int) -> [Int] {
        guard total > 0 else { return [] }
        guard !sizes.isEmpty else { return [total] }
        var batches: [Int] = []
        var left = total
        var index = 0
        while left > 0 {
            let size = min(left, sizes[min(index, sizes.count - 1)].hosts(of: total))
            batches.append(size)
            left -= size
            index += 1
        }
        return batches
    }

    /// The block's `success` criterion, judged as hosts finish: `hosts` in all, percentages of them.
    public struct Budget: Sendable, Equatable {
        public var criterion: AggregateCondition
        /// `max_failed=10%` and the like: the bound as a share of all hosts, resolved to a count.
        public var hosts: Int

        /// `all_success` when `text` is nil; nil when it is no aggregate criterion.
        public init?(_ text: String?, hosts: Int) {
            self.hosts = hosts
            guard let text else {
                criterion = .allSuccess
                return
            }
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, parts[1].hasSuffix("%"), let bound = AggregateCondition.Bound(rawValue: parts[0]),
               let percent = Int(parts[1].dropLast()), (0...100).contains(percent) {
                criterion = .bound(bound, hosts * percent / 100)
            } else if let criterion = AggregateCondition.judgingOutcomes(text), !Self.lacksNumber(criterion) {
                self.criterion = criterion
            } else {
                return nil
            }
        }

        private static func lacksNumber(_ criterion: AggregateCondition) -> Bool {
            if case .bound(_, nil) = criterion { return true }
            return false
        }

        /// Whether the criterion can still hold once the `pending` hosts not yet finished have
        /// (each may still succeed or fail): false is the moment to stop starting hosts.
        public func canStillHold(successes: Int, failures: Int, pending: Int) -> Bool {
            switch criterion {
            case .allSuccess: return failures == 0
            case .anySuccess: return successes + pending > 0
            case .majoritySuccess: return Double(successes + pending) > Double(successes + failures + pending) / 2
            case .always: return true
            case .never: return false
            case .bound(_, nil): return false
            case let .bound(bound, n?):
                switch bound {
                case .minSuccess: return successes + pending >= n
                case .maxSuccess: return successes <= n
                case .minFailed: return failures + pending >= n
                case .maxFailed: return failures <= n
                }
            }
        }

        public func holds(successes: Int, failures: Int) -> Bool {
            criterion.holds(successes: successes, failures: failures)
        }
    }
}
