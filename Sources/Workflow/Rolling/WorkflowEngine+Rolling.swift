import Foundation

/// Rolling blocks (`type=rolling`, a Tasker extension): the hosts `hosts=`
/// selects run the steps of `tasks=` in order, each host as its own pipeline
/// (no barrier between steps), `max_parallel` hosts at a time, in batches cut
/// by `serial=`. The failure budget (`success=`, `max_fail_percentage=`) is
/// judged every time a host finishes; once spent, no further host starts.
/// Between batches: `batch_pause` seconds and the `gate` task. A `hosts=` task with
/// `serial=` (or another rollout field) runs as a one-step rolling block.
extension WorkflowEngine {
    func runRolling(_ task: TaskDefinition, _ rolling: TaskBody.Rolling) async -> BlockRoute {
        let id = task.id
        let resolver = await self.resolver
        guard let transport = options.transport else {
            log.error("Task \(id): a rolling block needs Tasker's SSH settings (run through the tasker command)")
            return .abort
        }
        let pattern = resolver.resolve(rolling.hosts ?? "").text
        let hosts: [String]
        do {
            let selection = try transport.hosts(matching: pattern)
            for warning in selection.warnings { log.warn("Task \(id): \(warning)") }
            hosts = selection.hosts
        } catch let error as TaskFileError {
            log.error("Task \(id): \(error.message)")
            return .abort
        } catch {
            log.error("Task \(id): \(error)")
            return .abort
        }
        let steps: [TaskDefinition]
        switch rolling.steps {
        case .itself:
            // A hosts= task's condition gates the whole task, as without serial=.
            if let gate = task.condition, !Condition.evaluate(gate, context: .gate, resolver: resolver) {
                log.info("Task \(id): Condition '\(gate)' evaluated to FALSE, skipping task")
                await state.store(id, .skipped)
                return .jump(id + 1)
            }
            var step = task
            step.condition = nil
            steps = [step]
        case .listed(let text):
            guard let listed = pipelineSteps(text, block: id) else { return .abort }
            steps = listed
        }
        let batches = RolloutPlan.batches(rolling.serial.flatMap(RolloutPlan.sizes) ?? [], total: hosts.count)
        let budget = RolloutPlan.Budget(rolling.criterion, hosts: hosts.count) ?? RolloutPlan.Budget(nil, hosts: hosts.count)!
        let tracker = RolloutTracker(budget: budget, maxFailPercentage: rolling.maxFailPercentage?.value(resolver))
        let workers = max(1, rolling.maxParallel?.value(resolver) ?? transport.forks)
        log.info("Task \(id): Rolling over \(hosts.count) host(s) of hosts=\(pattern) in \(batches.count) batch(es) \(batches), "
            + "steps \(steps.map(\.id)), max_parallel=\(workers), budget \(rolling.criterion ?? "all_success")")
        if !options.execute {
            for line in RolloutPreview.lines(task, rolling, file: file, transport: transport) { log.info("Task \(id): [DRY RUN] \(line)") }
        }
        let pipeline = preparePipeline(steps, block: id, resolver: resolver)
        // A resumed run (--auto-recovery) keeps the hosts that completed every step; the others run again.
        let completed = Dictionary((options.restoredResults[id]?.hosts ?? []).filter(\.success).map { ($0.host, $0) },
                                   uniquingKeysWith: { first, _ in first })
        if !completed.isEmpty { log.info("Task \(id): resuming: \(completed.count) host(s) completed every step before and are not run again") }

        var records: [String: HostTaskResult] = [:]
        var batchesRun = 0
        var start = 0
        for (index, size) in batches.enumerated() {
            if tracker.stopReason != nil || Task.isCancelled { break }
            let batch = Array(hosts[start..<start + size])
            start += size
            log.info("Task \(id): batch \(index + 1)/\(batches.count): \(batch.joined(separator: ", "))")
            tracker.startBatch(size: size)
            options.events?.emit(.batchStarted(.init(task: id, batch: index + 1, batches: batches.count, hosts: batch)))
            for host in batch {
                guard let done = completed[host] else { continue }
                records[host] = done
                tracker.finished(success: true)
            }
            let pending = batch.filter { completed[$0] == nil }
            for record in await runBatch(pending, pipeline: pipeline, workers: workers, tracker: tracker, abortRunning: rolling.abortRunning,
                                         display: "\(id)") {
                records[record.host] = record
            }
            batchesRun += 1
            guard index < batches.count - 1, tracker.stopReason == nil, !Task.isCancelled, !pending.isEmpty else { continue }
            if let gate = rolling.gate, !(await passesGate(gate, block: id, resolver: await self.resolver)) {
                tracker.stop("the gate task \(gate.text) failed after batch \(index + 1)")
            }
            if tracker.stopReason == nil, let pause = rolling.batchPause?.value(resolver), pause > 0, options.execute {
                log.info("Task \(id): pausing \(pause)s before the next batch")
                await interruptibleSleep(pause)
            }
        }
        let finished = hosts.map { host in
            records[host] ?? HostTaskResult(host: host, exitCode: -1, stdout: "", stderr: "not started: the rollout stopped first",
                                            success: false, status: Task.isCancelled ? .cancelled : .held, attempts: 0)
        }
        // Each host's outcome of the block (the report's column for it; held hosts have no other event).
        for record in finished {
            taskEnded(id, "\(id)", host: record.host, attempt: 0, status: record.status.rawValue, exitCode: record.exitCode,
                      success: record.success)
        }
        let (successes, failures) = (finished.filter(\.success).count, finished.filter { !$0.success }.count)
        let stopped = tracker.stopReason ?? (Task.isCancelled ? "interrupted" : nil)
        let succeeded = stopped == nil && batchesRun == batches.count && !hosts.isEmpty && budget.holds(successes: successes, failures: failures)
        var summary = "Rolling: \(batchesRun)/\(batches.count) batch(es), \(successes)/\(hosts.count) host(s) successful"
        for status in [HostTaskStatus.failed, .timeout, .cancelled, .held] {
            let count = finished.filter { !$0.success && $0.status == status }.count
            if count > 0 { summary += ", \(count) \(status)" }
        }
        let unreachable = finished.filter { if case .host(let status) = $0.status { !status.isSuccess && ![.failed, .timeout].contains(status) } else { false } }
        if !unreachable.isEmpty { summary += ", \(unreachable.count) not reached" }
        if hosts.isEmpty { summary += ": hosts=\(pattern) matches no hosts" }
        if let stopped { summary += "; stopped: \(stopped)" }
        let failedHosts = finished.filter { !$0.success && $0.status != .held }
        let stderr = failedHosts.isEmpty ? "" : "Failed hosts: [\(failedHosts.map { "\($0.host) at step \($0.step.map(String.init) ?? "-")" }.joined(separator: ", "))]"
        log.info("Task \(id): \(summary); \(budget.criterion) \(succeeded ? "met" : "not met")")
        await state.store(id, TaskResult(exitCode: succeeded ? 0 : 1, stdout: summary, stderr: stderr, success: succeeded, hosts: finished))
        await state.recordFinal(exitCode: succeeded ? 0 : 1, success: succeeded)
        if succeeded, let target = task.onSuccess.flatMap(PythonSemantics.int) {
            log.info("Task \(id): Rolling success, jumping to Task \(target)")
            return .jump(target)
        }
        if !succeeded, let target = task.onFailure.flatMap(PythonSemantics.int) {
            log.info("Task \(id): Rolling failure, jumping to Task \(target)")
            return .jump(target)
        }
        return succeeded ? .jump(nextAfterPipeline(id, steps: steps)) : .stop(success: false)
    }

    /// After the block: the first task past it that is not one of its steps.
    private func nextAfterPipeline(_ id: Int, steps: [TaskDefinition]) -> Int {
        let stepIDs = Set(steps.map(\.id))
        var next = id + 1
        while stepIDs.contains(next) { next += 1 }
        return next
    }

    /// The steps of `tasks=`, which keep their routing (a step's `on_failure` names its rollback step).
    private func pipelineSteps(_ text: String?, block: Int) -> [TaskDefinition]? {
        guard let steps = taskList(text, block: block, naming: "step") else {
            if text == nil { log.error("Task \(block): a rolling block needs tasks= (its steps)") }
            return nil
        }
        return steps
    }

    /// One step of every host's pipeline: what its hosts share.
    struct PipelineStep: Sendable {
        var shared: FanOutTask
        /// The step of this pipeline that runs next for a host this step failed on (a per-host rollback).
        var onFailure: Int?
    }

    private func preparePipeline(_ steps: [TaskDefinition], block: Int, resolver: PlaceholderResolver) -> [PipelineStep] {
        let ids = Set(steps.map(\.id))
        var pipeline: [PipelineStep] = []
        for step in steps {
            let display = "\(block)-\(step.id)"
            // Settings that cannot be read fall back as a fan-out host's do; the validator reports them first.
            let settings = (try? stepSettings(step, display: display, resolver: resolver, fanOut: true))
                ?? CommandStep.Settings(execType: ExecutionTypes.ssh, timeout: resolveTimeout(nil, execType: ExecutionTypes.ssh, resolver: resolver,
                                                                                          display: display), become: nil)
            let retry = retryPolicy(TaskBody.Retry(of: step), task: step.id, resolver: resolver)
            let rollback = step.onFailure.flatMap(PythonSemantics.int).flatMap { ids.contains($0) ? $0 : nil }
            pipeline.append(PipelineStep(shared: FanOutTask(task: step, display: display, plan: FanOutPlan(step), settings: settings,
                                                            retry: retry, resolver: resolver),
                                         onFailure: rollback))
        }
        return pipeline
    }

    /// Runs the batch's hosts, `workers` at a time, starting none once the rollout stopped;
    /// with `abortRunning`, the running ones are cancelled then too.
    private func runBatch(_ hosts: [String], pipeline: [PipelineStep], workers: Int, tracker: RolloutTracker, abortRunning: Bool,
                          display: String) async -> [HostTaskResult] {
        await withTaskGroup(of: HostTaskResult.self) { group in
            var next = 0
            var running = 0
            var records: [HostTaskResult] = []
            while true {
                while running < workers, next < hosts.count, tracker.stopReason == nil, !Task.isCancelled {
                    let host = hosts[next]
                    next += 1
                    running += 1
                    group.addTask { await self.runPipeline(on: host, pipeline, display: display) }
                }
                guard let record = await group.next() else { break }
                running -= 1
                records.append(record)
                if tracker.finished(success: record.success) {
                    log.warn("Task \(display): rollout stopped: \(tracker.stopReason ?? "")")
                    if abortRunning { group.cancelAll() }
                }
            }
            return records
        }
    }

    /// One host through every step in order: a failed step ends the pipeline (after the step's
    /// `on_failure` rollback step, when it names one of the pipeline); later steps see this host's
    /// results of earlier ones as `@STEP_stdout@` and the like.
    private func runPipeline(on host: String, _ pipeline: [PipelineStep], display: String) async -> HostTaskResult {
        var hostResults: [Int: TaskResult] = [:]
        var last: HostTaskResult?
        func run(_ step: PipelineStep) async -> HostTaskResult {
            var shared = step.shared
            shared.resolver.results.merge(hostResults) { _, own in own }
            var record = await runOnHost(host, shared)
            record.step = step.shared.task.id
            hostResults[step.shared.task.id] = TaskResult(exitCode: record.exitCode, stdout: record.stdout, stderr: record.stderr,
                                                          success: record.success)
            return record
        }
        for step in pipeline {
            if Task.isCancelled { break }
            if let gate = step.shared.task.condition {
                var resolver = step.shared.resolver
                resolver.results.merge(hostResults) { _, own in own }
                if !Condition.evaluate(gate, context: .gate, resolver: resolver) {
                    hostResults[step.shared.task.id] = .skipped
                    continue
                }
            }
            let record = await run(step)
            last = record
            if !record.success {
                if let rollback = step.onFailure, let rollbackStep = pipeline.first(where: { $0.shared.task.id == rollback }), !Task.isCancelled {
                    log.info("Task \(display)@\(host): step \(record.step ?? 0) failed, running step \(rollback)")
                    _ = await run(rollbackStep)
                }
                log.warn("Task \(display)@\(host): FAILED at step \(record.step ?? 0) (\(record.status))")
                return record
            }
        }
        guard var result = last else {
            let cancelled = Task.isCancelled
            return HostTaskResult(host: host, exitCode: cancelled ? 130 : 0, stdout: "", stderr: cancelled ? "interrupted" : "",
                                  success: !cancelled, status: cancelled ? .cancelled : .ok, attempts: cancelled ? 0 : 1)
        }
        if Task.isCancelled, result.success {
            result.success = false
            result.status = .cancelled
        }
        return result
    }

    /// The gate task between batches, run as a task of its own; a failure (or an error) stops the rollout.
    private func passesGate(_ gate: Setting<Int>, block: Int, resolver: PlaceholderResolver) async -> Bool {
        guard let id = gate.value(resolver), let task = file.task(id) else {
            log.error("Task \(block): gate '\(gate.text)' is not a task")
            return false
        }
        let display = "\(block)-gate-\(id)"
        taskStarted(id, display)
        do {
            let (result, ending) = try await runCommand(task, display: display, resolver: resolver)
            await state.store(id, result)
            taskEnded(id, display, status: ending.statusWord(success: result.success), exitCode: result.exitCode, success: result.success)
            log.info("Task \(block): gate task \(id) \(result.success ? "passed" : "failed")")
            return result.success
        } catch {
            log.error("Task \(block): gate task \(id): \(error)")
            return false
        }
    }
}
