import Fleet
import Locking

/// The hosts of a workflow's `hosts=` tasks and how each fared, folded from
/// the `task_ended` events of its hosts: the tally of the run's `run_ended`.
/// A host counts with its first outcome that is not a success (ok, unchanged,
/// or skipped); a host cancelled mid-task counts as `error`, as in `exec`; a rolling block's
/// `held` host, which never started, is not counted.
final class FanOutHostTally: RunEventSubscriber {
    private let outcomes = Locked<[String: HostStatus]>([:])

    func receive(_ event: RunEvent) {
        // A rolling block's held host never ran: it has no outcome to count.
        guard case .taskEnded(let ended) = event.kind, let host = ended.host, ended.status != HostTaskStatus.held.rawValue else { return }
        let status = HostTaskStatus(rawValue: ended.status).map { status -> HostStatus in
            if case .host(let status) = status { return status }
            return .error
        }
        outcomes.withLock { outcomes in
            guard let previous = outcomes[host] else {
                outcomes[host] = status ?? .ok
                return
            }
            if previous.isSuccess, let status, !status.isSuccess { outcomes[host] = status }
        }
    }

    var tally: RunTally {
        outcomes.withLock { RunTally(Array($0.values)) }
    }
}
