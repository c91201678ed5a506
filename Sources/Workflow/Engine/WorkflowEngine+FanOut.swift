import Fleet
import Foundation
import Platform

/// Fan-out tasks (`hosts=PATTERN`, a Tasker extension): the task runs once per
/// inventory host the pattern selects, `max_parallel` hosts at a time (default
/// `--forks`), each over the host's pooled connection; the hosts' results are
/// aggregated like a parallel block's and the task routes on the aggregate.
///
/// - Per host, `success`/`failure` conditions apply as on any task (default `exit_0`);
///   `retry_count`/`retry_delay` retry a failed host.
/// - An aggregate `success` (`all_success`, `any_success`, `majority_success`,
///   `min_success=N`, `max_success=N`, `min_failed=N`, `max_failed=N`) decides
///   whether the task succeeded; without one every host must succeed.
/// - `@inventory_hostname@` in `command`/`arguments` is the host's inventory name.
extension WorkflowEngine {
    /// `pattern` is the task's `hosts` with placeholders resolved.
    func runFanOut(_ task: TaskDefinition, _ fanOut: TaskBody.FanOut, pattern: String, display: String,
                   resolver: PlaceholderResolver) async throws -> TaskResult {
        guard let transport = options.transport else {
            throw TaskFileError(exitCode: 20, "Task \(display): hosts= needs Tasker's SSH settings (run through the tasker command)")
        }
        let selection: (hosts: [String], warnings: [String])
        do { selection = try transport.hosts(matching: pattern) } catch let error as TaskFileError {
            throw TaskFileError(exitCode: error.exitCode, "Task \(display): \(error.message)")
        }
        for warning in selection.warnings { log.warn("Task \(display): \(warning)") }
        let hosts = selection.hosts
        guard !hosts.isEmpty else {
            log.warn("Task \(display): hosts=\(pattern) matches no hosts")
            return TaskResult(exitCode: 1, stdout: "hosts=\(pattern): 0/0 successful",
                              stderr: "hosts=\(pattern) matches no hosts", success: false, hosts: [])
        }
        let shared = FanOutTask(task: task, display: display, plan: FanOutPlan(task),
                                settings: try stepSettings(task, display: display, resolver: resolver, fanOut: true),
                                retry: retryPolicy(fanOut.retry, task: task.id, resolver: resolver), resolver: resolver)
        let workers = max(1, fanOut.maxParallel?.value(resolver) ?? transport.forks)
        log.info("Task \(display): Running on \(hosts.count) host(s) of hosts=\(pattern) [\(shared.settings.execType)] (max_parallel=\(workers))")

        let records = await concurrentMap(count: hosts.count, limit: workers, mayStart: { !Task.isCancelled }) { [self] index in
            await runOnHost(hosts[index], shared)
        }
        // Hosts never started because the run was interrupted.
        let finished = hosts.indices.map { index in
            if let record = records[index] { return record }
            taskEnded(task.id, display, host: hosts[index], attempt: 0, status: HostTaskStatus.cancelled.rawValue, exitCode: 130, success: false)
            return HostTaskResult(host: hosts[index], exitCode: 130, stdout: "", stderr: "interrupted before the host started",
                                  success: false, status: .cancelled, attempts: 0)
        }
        return aggregate(finished, pattern: pattern, plan: shared.plan, display: display)
    }

    /// What every host of a fan-out task shares: the task and its settings, resolved once.
    struct FanOutTask: Sendable {
        var task: TaskDefinition
        var display: String
        var plan: FanOutPlan
        var settings: CommandStep.Settings
        var retry: RetryPolicy?
        var resolver: PlaceholderResolver
        /// Shared by every host (and, for a rolling step, by every host's pipeline).
        var remoteTasks = RemoteTaskCache()
    }

    /// How a fan-out task judges one host and the whole set.
    struct FanOutPlan: Sendable {
        /// The per-host condition and whether it is a `failure` condition.
        var hostCondition: (text: String, isFailure: Bool)?
        /// The aggregate criterion over the hosts.
        var criterion: String

        init(_ task: TaskDefinition) {
            let success = task.success
            if let success, AggregateCondition.judgingOutcomes(success) != nil {
                criterion = success
                hostCondition = task.failure.map { ($0, true) }
            } else {
                criterion = "all_success"
                hostCondition = success.map { ($0, false) } ?? task.failure.map { ($0, true) }
            }
        }
    }

    /// One host's run of a fan-out task (or of a rolling block's step), with its retries, logged and reported.
    func runOnHost(_ host: String, _ shared: FanOutTask) async -> HostTaskResult {
        let (task, display, retry) = (shared.task, shared.display, shared.retry)
        func label(_ attempt: Int) -> String { retry == nil ? "\(display)@\(host)" : "\(display)@\(host).\(attempt)" }
        func attempt(_ number: Int) async -> HostTaskResult {
            taskStarted(task.id, display, host: host, attempt: number)
            var record = await runAttempt(host: host, label: label(number), shared,
                                          outputSubdirectory: retry == nil || number == 1 ? display : "\(display).attempt\(number)")
            record.attempts = number
            taskEnded(task.id, display, host: host, attempt: number, status: record.status.rawValue, exitCode: record.exitCode,
                      success: record.success)
            return record
        }
        let (record, attempts) = if let retry {
            await withRetries(retry, succeeded: \HostTaskResult.success, isFinal: { $0.status == .timeout },
                              retrying: { number, record in
                                  log.info("Task \(label(number)): FAILED (\(record.status)) - retrying in \(retry.delay)s")
                              },
                              attempt: attempt)
        } else {
            (await attempt(1), 1)
        }
        if record.success {
            if options.execute { log.info("Task \(label(attempts)): OK") }
        } else {
            // What the host said last explains most failures, also when its live lines were below the log level.
            let stream = record.stderr.isEmpty ? record.stdout : record.stderr
            let said = WorkflowLog.oneLine(stream.split(whereSeparator: \.isNewline).last.map(String.init) ?? "")
            log.warn("Task \(label(attempts)): FAILED (\(record.status), exit \(record.exitCode))" + (said.isEmpty ? "" : ": \(log.mask(said))"))
        }
        return record
    }

    private func runAttempt(host: String, label: String, _ shared: FanOutTask, outputSubdirectory: String) async -> HostTaskResult {
        func failed(_ status: HostTaskStatus, _ message: String, exitCode: Int = 255) -> HostTaskResult {
            HostTaskResult(host: host, exitCode: exitCode, stdout: "", stderr: message, success: false, status: status, attempts: 1)
        }
        let step: CommandStep
        do {
            step = try commandStep(shared.task, on: host, settings: shared.settings, resolver: shared.resolver,
                                   remoteTasks: shared.remoteTasks)
        } catch {
            return failed(.host(.error), "\(error)")
        }
        let shown = log.mask(step.remote?.summary ?? step.argv.joined(separator: " "))
        guard options.execute else {
            log.info("Task \(label): [DRY RUN] Would execute: \(shown)")
            return HostTaskResult(host: host, exitCode: 0, stdout: "DRY RUN STDOUT", stderr: "", success: true, status: .ok, attempts: 1)
        }
        log.debug("Task \(label): Executing [\(step.settings.execType)]: \(shown)")
        let exit: CommandExit
        do {
            exit = try await launch(step, outputSubdirectory: outputSubdirectory, fanOut: true)
        } catch {
            return failed(.host(.error), "\(error)", exitCode: 1)
        }
        if step.remote == nil {
            // A local command per host (e.g. a check run from the controller): its lines, once it is done.
            for (text, stream) in [(exit.stdout, OutputStreamKind.stdout), (exit.stderr, .stderr)] {
                for line in text.split(whereSeparator: \.isNewline) { liveLines.emit(host, stream, ArraySlice(line.utf8)) }
            }
        }
        let condition: Judgement.Condition = shared.plan.hostCondition.map { $0.isFailure ? .failure($0.text) : .success($0.text) }
            ?? .exitZero
        let run = finish(exit, judgement: Judgement(split: .fields, stdoutSplit: shared.task.stdoutSplit, stderrSplit: shared.task.stderrSplit,
                                                    condition: condition, hostProblemsFail: true),
                         resolver: shared.resolver)
        return HostTaskResult(host: host, exitCode: exit.exitCode, stdout: run.stdout, stderr: run.stderr, success: run.success,
                              status: exit.hostProblem ?? (run.success ? .ok : .failed), attempts: 1)
    }

    /// The task's own result: succeeded when the criterion holds; stdout and stderr summarise the hosts.
    private func aggregate(_ records: [HostTaskResult], pattern: String, plan: FanOutPlan, display: String) -> TaskResult {
        let successes = records.filter(\.success).count
        let failures = records.count - successes
        func hosts(_ status: HostTaskStatus) -> [String] { records.filter { !$0.success && $0.status == status }.map(\.host) }
        let timeouts = hosts(.timeout)
        let failed = hosts(.failed)
        let cancelled = hosts(.cancelled)
        let unreachable = records.filter { !$0.success && ![.timeout, .failed, .cancelled].contains($0.status) }.map(\.host)
        var stdout = "hosts=\(pattern): \(successes)/\(records.count) successful"
        if !timeouts.isEmpty { stdout += ", \(timeouts.count) timeout" }
        if !unreachable.isEmpty { stdout += ", \(unreachable.count) not reached" }
        if !failed.isEmpty { stdout += ", \(failed.count) failed" }
        if !cancelled.isEmpty { stdout += ", \(cancelled.count) cancelled" }
        var stderr: [String] = []
        if !failed.isEmpty { stderr.append("Failed hosts: [\(failed.joined(separator: ", "))]") }
        if !timeouts.isEmpty { stderr.append("Timeout hosts: [\(timeouts.joined(separator: ", "))]") }
        if !unreachable.isEmpty { stderr.append("Hosts not reached: [\(unreachable.joined(separator: ", "))]") }
        if !cancelled.isEmpty { stderr.append("Cancelled hosts: [\(cancelled.joined(separator: ", "))]") }
        let met = AggregateCondition.holds(plan.criterion, successes: successes, failures: failures)
        log.info("Task \(display): \(stdout); \(plan.criterion) \(met ? "met" : "not met")")
        return TaskResult(exitCode: met ? 0 : 1, stdout: stdout, stderr: stderr.joined(separator: ". "), success: met, hosts: records)
    }
}
