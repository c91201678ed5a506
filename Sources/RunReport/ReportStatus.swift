import Fleet

/// The words a report shows a host's or a cell's outcome with: those `--json`
/// uses, plus `cancelled`, `skipped`, `not_reached` and `held`.
enum ReportStatus {
    static let order = HostStatus.allCases.map(\.rawValue) + ["cancelled", "skipped", "not_reached", "held"]

    /// A run that was interrupted (or never ended) reports its hosts that stopped with an error as cancelled.
    static func of(_ host: RunHistory.Host, in history: RunHistory) -> String {
        let interrupted = history.summary.map { [130, 143].contains($0.exitCode) } ?? true
        if let record = host.record {
            return interrupted && record.status == .error ? "cancelled" : record.status.rawValue
        }
        if history.isWorkflow {
            let statuses = history.matrixTasks.compactMap { history.matrix[$0]?[host.name] }
            if let problem = statuses.first(where: { HostStatus(rawValue: $0)?.isSuccess != true && $0 != "skipped" }) { return problem }
            if host.segments.contains(where: { $0.end == nil }) { return "cancelled" }
            if !statuses.isEmpty { return "ok" }
        }
        if let failed = host.segments.first(where: { $0.kind == .connect && $0.status != nil && $0.status != "ok" }) {
            return failed.status!
        }
        return "cancelled"
    }
}
