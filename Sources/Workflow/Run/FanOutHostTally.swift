import Fleet
import Locking

/// The hosts of a workflow's `hosts=` tasks and how each fared, folded from
/// the `task_ended` events of its hosts: the tally of the run's `run_ended`.
/// A host counts with its first outcome that is not a success (ok, unchanged,
/// or skipped); a host cancelled mid-task counts as `error`, as in `exec`.
final class FanOutHostTally: RunEventSubscriber {
    private struct State {
        var order: [String] = []
        var outcome: [String: HostStatus] = [:]
    }

    private let state = Locked(State())

    func receive(_ event: RunEvent) {
        guard case .taskEnded(let ended) = event.kind, let host = ended.host else { return }
        let status = HostTaskStatus(rawValue: ended.status).map { status -> HostStatus in
            if case .host(let status) = status { return status }
            return .error
        }
        state.withLock { state in
            guard let previous = state.outcome[host] else {
                state.order.append(host)
                state.outcome[host] = status ?? .ok
                return
            }
            if previous.isSuccess, let status, !status.isSuccess { state.outcome[host] = status }
        }
    }

    var tally: RunTally {
        state.withLock { state in RunTally(state.order.map { state.outcome[$0]! }) }
    }
}
