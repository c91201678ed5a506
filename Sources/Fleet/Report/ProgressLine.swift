import Glibc
import Locking

/// A self-overwriting progress line on stderr, for terminals only.
public final class ProgressLine: Sendable {
    private struct State {
        var done = 0
        var counts: [HostStatus: Int] = [:]
        var active = false
    }

    private let total: Int
    private let state = Locked(State())

    /// A progress line when stderr is a terminal and more than a handful of hosts run.
    public static func ifUseful(total: Int) -> ProgressLine? {
        guard total > 8, isatty(2) != 0 else { return nil }
        return ProgressLine(total: total)
    }

    init(total: Int) {
        self.total = total
    }

    public func record(_ result: HostRecord) {
        let line = state.withLock { state -> String in
            state.done += 1
            state.counts[result.status, default: 0] += 1
            state.active = true
            let parts = HostStatus.allCases.compactMap { status in
                state.counts[status].map { "\($0) \(status.rawValue)" }
            }
            return "\r\u{1B}[K[\(state.done)/\(total)] \(parts.joined(separator: ", "))"
        }
        ConsoleWriter.shared.write(line, to: .stderr)
    }

    public func clear() {
        let active = state.withLock { $0.active }
        if active { ConsoleWriter.shared.write("\r\u{1B}[K", to: .stderr) }
    }
}
