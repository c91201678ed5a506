import Locking

/// A rolling block's count of finished hosts, judged each time one finishes:
/// once the failure budget can no longer hold, or the current batch's failures
/// pass `max_fail_percentage`, no further host starts. Read by the launcher
/// (which cannot await) and written by the hosts' pipelines as they end.
final class RolloutTracker: Sendable {
    private struct State {
        var successes = 0
        var failures = 0
        var batchSize = 0
        var batchFailures = 0
        var stopReason: String?
    }

    private let budget: RolloutPlan.Budget
    private let maxFailPercentage: Int?
    private let state = Locked(State())

    init(budget: RolloutPlan.Budget, maxFailPercentage: Int?) {
        self.budget = budget
        self.maxFailPercentage = maxFailPercentage
    }

    /// Why the rollout stopped early, once it did.
    var stopReason: String? { state.withLock { $0.stopReason } }

    func startBatch(size: Int) {
        state.withLock { state in
            state.batchSize = size
            state.batchFailures = 0
        }
    }

    /// Stops the rollout for a reason of the caller's (a gate that failed).
    func stop(_ reason: String) {
        state.withLock { state in
            if state.stopReason == nil { state.stopReason = reason }
        }
    }

    /// Counts a host that finished its pipeline; says whether this stopped the rollout.
    @discardableResult
    func finished(success: Bool) -> Bool {
        state.withLock { state in
            if success { state.successes += 1 } else {
                state.failures += 1
                state.batchFailures += 1
            }
            guard state.stopReason == nil else { return false }
            let pending = budget.hosts - state.successes - state.failures
            if !budget.canStillHold(successes: state.successes, failures: state.failures, pending: pending) {
                state.stopReason = "the failure budget can no longer hold (\(state.failures) failed, \(state.successes) succeeded)"
                return true
            }
            // Certain as soon as the batch's failures pass the share, whatever its other hosts do.
            if let maxFailPercentage, state.batchSize > 0, state.batchFailures * 100 > maxFailPercentage * state.batchSize {
                state.stopReason = "\(state.batchFailures) of the batch's \(state.batchSize) hosts failed (max_fail_percentage=\(maxFailPercentage))"
                return true
            }
            return false
        }
    }
}
