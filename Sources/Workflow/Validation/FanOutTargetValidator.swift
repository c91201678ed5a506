/// Checks before anything runs that every `hosts=` pattern (without task-result
/// placeholders) selects hosts: a typo in a group name must not turn a deploy
/// step into a silent no-op.
public enum FanOutTargetValidator {
    public static func problems(in file: TaskFile, runner: SSHTaskRunner) -> ValidationReport {
        var report = ValidationReport()
        let resolver = PlaceholderResolver(globals: file.globalValues)
        for task in file.tasks {
            guard let raw = task.hosts else { continue }
            let (pattern, resolved) = resolver.resolve(raw)
            let line = task.line(of: .hosts)
            let place = "\(file.path):\(line): task \(task.id)"
            guard resolved else { continue }
            do {
                let selection = try runner.hosts(matching: pattern)
                report.warnings += selection.warnings.map { "\(place): \($0)" }
                if selection.hosts.isEmpty {
                    let limit = runner.session.settings.limit.map { " with --limit \($0)" } ?? ""
                    report.errors.append("\(place): hosts=\(pattern) matches no hosts in the inventory\(limit)")
                }
            } catch let error as TaskFileError {
                report.errors.append("\(place): \(error.message)")
            } catch {
                report.errors.append("\(place): hosts=\(pattern): \(error)")
            }
        }
        return report
    }
}
