import Fleet
import Foundation

/// Parallel, conditional and decision blocks (§10–§14 of the reference).
extension WorkflowEngine {
    struct SubtaskOutcome: Sendable {
        var id: Int
        var result: TaskResult
        var sleep: String?
        var skipped: Bool
        /// Attempts made when the block retries failed subtasks.
        var attempts: Int?
    }

    // MARK: Decision

    func runDecision(_ task: TaskDefinition) async -> BlockRoute {
        let id = task.id
        let resolver = await self.resolver
        log.info("Task \(id): DECISION - Evaluating conditions")
        let decision: Bool
        if let condition = task.success {
            decision = Condition.evaluate(condition, context: .gate, resolver: resolver)
        } else if let condition = task.failure {
            decision = !Condition.evaluate(condition, context: .gate, resolver: resolver)
        } else {
            // No condition at all: the reference "stops"; Tasker ends the run (see docs/compatibility.md).
            return .stop(success: true)
        }
        if decision, let target = task.onSuccess.flatMap(PythonSemantics.int) {
            log.info("Task \(id): Decision true, jumping to task \(target) (on_success)")
            return .jump(target)
        }
        if !decision, let target = task.onFailure.flatMap(PythonSemantics.int) {
            log.info("Task \(id): Decision false, jumping to task \(target) (on_failure)")
            return .jump(target)
        }
        switch task.next {
        case "never"?: return .stop(success: true)
        case let next? where PythonSemantics.int(next) != nil: return .jump(PythonSemantics.int(next)!)
        default: return .jump(id + 1)
        }
    }

    enum BlockRoute: Sendable, Equatable {
        case jump(Int)
        /// Stop the run; `success` false marks the workflow failed by condition (exit 10).
        case stop(success: Bool)
        /// The block could not run (missing or invalid subtasks): stop, the previous final state decides.
        case abort
    }

    // MARK: Parallel

    func runParallel(_ task: TaskDefinition, _ block: TaskBody.Parallel) async -> BlockRoute {
        let id = task.id
        guard let subtasks = parallelSubtasks(task, block) else { return .abort }
        let snapshot = await resolver
        let retry = retryPolicy(block.retry, task: id, resolver: snapshot)
        // [QUIRK] as in TASKER, a block's max_parallel is read as written, placeholders not resolved.
        let workers = max(1, block.maxParallel?.literal ?? 8)
        var line = "Task \(id): Starting parallel execution of \(subtasks.count) tasks (max_parallel=\(workers)"
        if let retry { line += ", retry_failed=true (count=\(retry.count), delay=\(retry.delay)s)" }
        log.info(line + ")")
        let remoteTasks = RemoteTaskCache()
        // After a signal no further subtask starts; running ones are cancelled with the run.
        let outcomes = await concurrentMap(count: subtasks.count, limit: workers, mayStart: { !Task.isCancelled }) { [self] index in
            let subtask = subtasks[index]
            var outcome = await runWithRetry(subtask, parent: id, retry: retry, resolver: snapshot, remoteTasks: remoteTasks)
            // The sleep runs after the subtask, without holding up the others.
            if let sleep = outcome.sleep { await subtaskSleep(sleep, parent: id, subtask: subtask.id) }
            outcome.sleep = nil
            return outcome
        }
        let finished = outcomes.compactMap { $0 }
        for outcome in finished { await state.store(outcome.id, outcome.result, attempts: outcome.attempts) }
        return await routeBlock(task, outcomes: finished, label: "Parallel", summaryPrefix: "Parallel execution")
    }

    /// `tasks=` or the subtasks generated from `hostnames=` (IDs 100000 + P×10000 + i).
    private func parallelSubtasks(_ task: TaskDefinition, _ block: TaskBody.Parallel) -> [TaskDefinition]? {
        switch block.subtasks {
        case .perHost(let hosts):
            return hosts.enumerated().map { index, host in
                let generated = 100_000 + task.id * 10_000 + index
                var subtask = TaskDefinition(id: generated, idText: String(generated), line: task.line)
                subtask.hostname = host
                for field in [TaskField.command, .exec, .timeout, .retryCount, .retryDelay, .success, .failure, .become, .becomeUser, .becomeMethod] {
                    subtask[field] = task[field]
                }
                subtask.arguments = (task.arguments ?? "").replacingOccurrences(of: "@task@", with: String(generated))
                return subtask
            }
        case .listed(let text):
            return subtaskList(text, block: task.id)
        case nil:
            return subtaskList(nil, block: task.id)
        }
    }

    private func subtaskList(_ text: String?, block: Int) -> [TaskDefinition]? {
        taskList(text, block: block, naming: "subtask")?.map { stripRouting($0, block: block) }
    }

    /// The tasks a block lists (`tasks=`, `if_true_tasks=`, …); nil, with the error logged,
    /// when an entry is not a defined task or the list is empty.
    func taskList(_ text: String?, block: Int, naming what: String) -> [TaskDefinition]? {
        guard let text else { return nil }
        var tasks: [TaskDefinition] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let id = PythonSemantics.int(item), let task = file.task(id) else {
                log.error("Task \(block): \(what) '\(item)' is not a valid task")
                return nil
            }
            tasks.append(task)
        }
        return tasks.isEmpty ? nil : tasks
    }

    private func stripRouting(_ task: TaskDefinition, block: Int) -> TaskDefinition {
        var copy = task
        let stripped = TaskField.routing.filter { copy[$0] != nil }
        for field in stripped { copy[field] = nil }
        if !stripped.isEmpty {
            log.warn("Task \(block): stripped routing parameters \(stripped.map(\.rawValue).joined(separator: ", ")) from subtask \(task.id)")
        }
        return copy
    }

    // MARK: Conditional

    func runConditional(_ task: TaskDefinition, _ block: TaskBody.Conditional) async -> BlockRoute {
        let id = task.id
        let atStart = await resolver
        let branch = Condition.evaluate(block.condition ?? "", context: .gate, resolver: atStart)
        guard let subtasks = subtaskList(branch ? block.ifTrueTasks : block.ifFalseTasks, block: id) else { return .abort }
        let retry = retryPolicy(block.retry, task: id, resolver: atStart)
        log.info("Task \(id): Executing \(branch ? "TRUE" : "FALSE") branch with \(subtasks.count) tasks (sequential\(retry.map { ", retry_failed=true (count=\($0.count), delay=\($0.delay)s)" } ?? ""))")
        var outcomes: [SubtaskOutcome] = []
        for subtask in subtasks {
            if Task.isCancelled { break }
            // Each subtask sees the results of those before it.
            let outcome = await runWithRetry(subtask, parent: id, retry: retry, resolver: await resolver, remoteTasks: RemoteTaskCache())
            await state.store(outcome.id, outcome.result, attempts: outcome.attempts)
            if let sleep = outcome.sleep { await subtaskSleep(sleep, parent: id, subtask: subtask.id) }
            outcomes.append(outcome)
        }
        return await routeBlock(task, outcomes: outcomes, label: "Conditional",
                          summaryPrefix: "Conditional \(branch ? "TRUE" : "FALSE") branch")
    }

    // MARK: Aggregation and routing

    private func routeBlock(_ task: TaskDefinition, outcomes: [SubtaskOutcome], label: String, summaryPrefix: String) async -> BlockRoute {
        let id = task.id
        let total = outcomes.count
        let successes = outcomes.filter { $0.result.success }.count
        // [QUIRK] TASKER counts a failed subtask as a timeout by its exit code, 124, whatever ended it.
        let timeouts = outcomes.filter { !$0.result.success && $0.result.exitCode == 124 }
        let failures = outcomes.filter { !$0.result.success && $0.result.exitCode != 124 }
        var stdout = "\(summaryPrefix): \(successes)/\(total) successful"
        if !timeouts.isEmpty { stdout += ", \(timeouts.count) timeout" }
        if !failures.isEmpty { stdout += ", \(failures.count) failed" }
        var stderrParts: [String] = []
        if !failures.isEmpty { stderrParts.append("Failed tasks: [\(failures.map { String($0.id) }.joined(separator: ", "))]") }
        if !timeouts.isEmpty { stderrParts.append("Timeout tasks: [\(timeouts.map { String($0.id) }.joined(separator: ", "))]") }
        let allSucceeded = total > 0 && successes == total
        await state.store(id, TaskResult(exitCode: allSucceeded ? 0 : 1, stdout: stdout,
                                         stderr: stderrParts.joined(separator: ". ").trimmingCharacters(in: .whitespaces), success: allSucceeded))
        let resolver = await self.resolver

        let failed = total - successes
        let isConditional = label == "Conditional"
        let proceed: Bool
        if let success = task.success {
            proceed = AggregateCondition.holds(success, successes: successes, failures: failed)
        } else if let next = task.next {
            if isConditional {
                proceed = next == "always" || (next != "never" && AggregateCondition.holds(next, successes: successes, failures: failed))
            } else {
                switch next {
                case "never":
                    await state.recordFinal(exitCode: allSucceeded ? 0 : 1, success: true)
                    return .stop(success: true)
                case "always": proceed = true
                case "success": proceed = allSucceeded
                default:
                    if next.contains("=") || AggregateCondition.judgingOutcomes(next) != nil {
                        proceed = AggregateCondition.holds(next, successes: successes, failures: failed)
                    } else {
                        let context = ConditionContext(
                            exitCode: allSucceeded ? 0 : 1, stdout: "Parallel execution summary: \(successes) successful, \(failed) failed",
                            stderr: failed > 0 ? "Failed tasks: [\(outcomes.filter { !$0.result.success }.map { String($0.id) }.joined(separator: ", "))]" : "")
                        proceed = Condition.evaluate(next, context: context, resolver: resolver)
                    }
                }
            }
        } else {
            // [DOC≠REF] a conditional block without success/next always counts as successful.
            proceed = isConditional ? true : allSucceeded
        }
        await state.recordFinal(exitCode: allSucceeded ? 0 : 1, success: proceed)
        if proceed, let target = task.onSuccess.flatMap(PythonSemantics.int) {
            log.info("Task \(id): \(label) success (\(successes)/\(total)), jumping to Task \(target)")
            return .jump(target)
        }
        if !proceed, let target = task.onFailure.flatMap(PythonSemantics.int) {
            log.info("Task \(id): \(label) failure (\(successes)/\(total)), jumping to Task \(target)")
            return .jump(target)
        }
        return proceed ? .jump(id + 1) : .stop(success: false)
    }

    // MARK: Subtask core (§13) and retries (§14)

    /// The retry settings of task `id` with placeholders resolved; nil when it does not retry.
    func retryPolicy(_ retry: TaskBody.Retry?, task id: Int, resolver: PlaceholderResolver) -> RetryPolicy? {
        guard let retry else { return nil }
        guard var count = retry.count.value(resolver), var delay = retry.delay.value(resolver) else {
            log.warn("Task \(id): retry settings are not integers; retry disabled")
            return nil
        }
        if !(1...1000).contains(count) { log.warn("Task \(id): retry_count \(count) out of range, using 1"); count = 1 }
        if !(0...300).contains(delay) { log.warn("Task \(id): retry_delay \(delay) out of range, using 1"); delay = 1 }
        return RetryPolicy(count: count, delay: delay)
    }

    /// `remoteTasks` is shared by subtasks that run at the same time (and by a subtask's attempts).
    private func runWithRetry(_ subtask: TaskDefinition, parent: Int, retry: RetryPolicy?, resolver: PlaceholderResolver,
                              remoteTasks: RemoteTaskCache) async -> SubtaskOutcome {
        guard let retry else {
            return await runSubtask(subtask, display: "\(parent)-\(subtask.id)", attempt: 1, resolver: resolver, remoteTasks: remoteTasks)
        }
        var (outcome, attempts) = await withRetries(
            retry, succeeded: { $0.result.success }, isFinal: { $0.result.exitCode == 124 || $0.skipped },
            retrying: { attempt, _ in
                log.info("Task \(parent)-\(subtask.id).\(attempt): FAILED - will retry as Task \(parent)-\(subtask.id).\(attempt + 1) in \(retry.delay)s")
            },
            attempt: { attempt in
                await runSubtask(subtask, display: "\(parent)-\(subtask.id).\(attempt)", attempt: attempt, resolver: resolver,
                                 remoteTasks: remoteTasks)
            })
        outcome.attempts = attempts
        let display = "\(parent)-\(subtask.id).\(attempts)"
        if outcome.result.success {
            if attempts > 1 { log.info("Task \(display): SUCCESS after \(attempts - 1) retry attempt(s)") }
        } else if attempts > retry.count, outcome.result.exitCode != 124, !outcome.skipped, !Task.isCancelled {
            log.warn("Task \(display): FAILED after \(retry.count) retry attempt(s) - giving up")
        }
        return outcome
    }

    /// One subtask (§13): its gate, a return, or its command, launched and finished as every
    /// command is, with TASKER's subtask rules: split on the literal delimiter, `success` or exit 0.
    private func runSubtask(_ task: TaskDefinition, display: String, attempt: Int, resolver: PlaceholderResolver,
                            remoteTasks: RemoteTaskCache) async -> SubtaskOutcome {
        func done(_ result: TaskResult, skipped: Bool = false, ending: CommandEnding = .exited) -> SubtaskOutcome {
            let note = skipped ? " (skipped)" : (result.exitCode == 124 ? " (timeout)" : "")
            log.info("Task \(display): Completed - Success: \(result.success ? "True" : "False")\(note)")
            taskEnded(task.id, display, attempt: attempt, status: skipped ? "skipped" : ending.statusWord(success: result.success),
                      exitCode: result.exitCode, success: result.success)
            return SubtaskOutcome(id: task.id, result: result, sleep: task.sleep, skipped: skipped)
        }
        if let gate = task.condition, !Condition.evaluate(gate, context: .gate, resolver: resolver) {
            return done(.skipped, skipped: true)
        }
        taskStarted(task.id, display, attempt: attempt)
        if let returnText = task.returnValue {
            guard let code = PythonSemantics.int(returnText) else {
                return done(TaskResult(exitCode: 255, stdout: "", stderr: "Execution error: invalid return value '\(returnText)'", success: false))
            }
            return done(TaskResult(exitCode: code, stdout: "", stderr: "Return task: \(code)", success: code == 0))
        }
        let step: CommandStep
        do {
            step = try commandStep(task, settings: try stepSettings(task, display: display, resolver: resolver), resolver: resolver,
                                   remoteTasks: remoteTasks)
            log.info("Task \(display): Executing [\(step.settings.execType)]: \(step.argv.joined(separator: " "))")
        } catch {
            return done(TaskResult(exitCode: 255, stdout: "", stderr: "Execution error: \(error)", success: false))
        }
        if !options.execute {
            return done(TaskResult(exitCode: 0, stdout: "DRY RUN - Command not executed", stderr: "", success: true))
        }
        let exit: CommandExit
        do {
            exit = try await launch(step, outputSubdirectory: display)
            reportConnectionProblem(exit, display: display, hostname: step.hostname)
        } catch {
            exit = CommandExit(ending: .exited, status: 1, stdout: "", stderr: "\(error)")
        }
        log.info("Task \(display): Exit code: \(exit.exitCode)")
        let run = finish(exit, judgement: Judgement(split: .literal, stdoutSplit: task.stdoutSplit, stderrSplit: task.stderrSplit,
                                                    condition: .success(task.success ?? "exit_0")),
                         resolver: resolver)
        return done(TaskResult(exitCode: run.exit.exitCode, stdout: run.stdout, stderr: run.stderr, success: run.success), ending: exit.ending)
    }

    private func subtaskSleep(_ text: String, parent: Int, subtask: Int) async {
        guard options.execute, let seconds = PythonSemantics.float(text), seconds > 0, seconds.isFinite else { return }
        await interruptibleSleep(seconds)
    }

    /// Sleeps `seconds`, or until the run is interrupted.
    func interruptibleSleep(_ seconds: Double) async {
        try? await Task.sleep(for: .seconds(seconds))
    }
}
