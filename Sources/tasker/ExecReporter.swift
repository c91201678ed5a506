import Fleet
import Locking

/// What `tasker exec` prints for each host as it finishes (`host_ended`) and
/// at the end (`run_ended`). Only `--fold` keeps anything of finished hosts:
/// one copy per distinct output.
final class ExecReporter: RunEventSubscriber {
    enum Mode { case live, json, fold }

    private let mode: Mode
    private let folded = Locked(FoldReport())
    private let problems = Locked<[String]>([])

    init(mode: Mode) {
        self.mode = mode
    }

    func receive(_ event: RunEvent) {
        switch event.kind {
        case .hostEnded(let record): self.record(record)
        case .runEnded(let summary): finish(summary)
        default: break
        }
    }

    private func record(_ result: HostRecord) {
        switch mode {
        case .json:
            ConsoleWriter.shared.write(JSONLines.hostLine(result) + "\n")
        case .fold:
            folded.withLock { $0.add(result) }
            if let problem = HostProblemLine.text(for: result) { problems.withLock { $0.append(problem) } }
        case .live:
            if let problem = HostProblemLine.text(for: result) {
                ConsoleWriter.shared.write("tasker: \(problem)\n", to: .stderr)
            }
        }
    }

    private func finish(_ summary: RunSummary) {
        if mode == .json {
            ConsoleWriter.shared.write(JSONLines.summaryLine(summary) + "\n")
            return
        }
        if mode == .fold {
            ConsoleWriter.shared.write(folded.withLock { $0.text })
            for problem in problems.withLock({ $0 }) {
                ConsoleWriter.shared.write("tasker: \(problem)\n", to: .stderr)
            }
        }
        if summary.hosts > 1 || summary.exitCode != 0 {
            ConsoleWriter.shared.write("tasker: \(summary.text)\n", to: .stderr)
        }
    }
}
