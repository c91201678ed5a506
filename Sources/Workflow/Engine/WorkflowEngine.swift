import Fleet
import Foundation

/// Options of one workflow run.
public struct WorkflowOptions: Sendable {
    /// Really execute; otherwise a dry run (commands are not started).
    public var execute = false
    public var startFrom: Int?
    public var fireAndForget = false
    /// `-t/--type`: the exec type of tasks without `exec=`.
    public var defaultExecType: String?
    public var environment: [String: String] = ProcessInfo.processInfo.environment
    public var executionTypes = ExecutionTypes()
    /// Where spilled outputs go; removed by the caller at exit.
    public var temporaryDirectory: String = NSTemporaryDirectory()
    /// Runs the SSH exec types' work (pooled connections); nil when the run has no SSH settings.
    public var transport: (any TaskTransport)?
    /// Where the run's events go (tasks starting and ending, routing; remote tasks' hosts and commands).
    public var events: RunEventSink?
    /// The signal that interrupted the run (asked once the run's task is cancelled; SIGINT when nil).
    public var interruptSignal: @Sendable () -> Int32? = { nil }
    /// Results restored from a recovery file (auto-recovery resume).
    public var restoredResults: [Int: TaskResult] = [:]
    /// Called after every main-loop task with (task ID, the next task the loop intends to run,
    /// every stored result, and the IDs whose results were stored since the last call).
    public var afterTask: (@Sendable (_ task: Int, _ intendedNext: Int?, _ results: [Int: TaskResult], _ changed: Set<Int>) -> Void)?

    public init() {}
}

/// How a run ended.
public struct WorkflowOutcome: Sendable {
    public var exitCode: Int32
    /// Top-level task IDs dispatched, in order (condition-skipped tasks left out,
    /// consecutive loop iterations collapsed, subtasks never listed).
    public var executionOrder: [Int]
    public var results: [Int: TaskResult]
    /// Why the run stopped, for the log and the JSON report.
    public var reason: Reason
    public var finalTask: Int?
    /// Attempts made for subtasks of blocks with retries (only where a retry was configured).
    public var attempts: [Int: Int] = [:]

    public enum Reason: Sendable, Equatable {
        case completed
        case taskFailed
        case returned
        case failedByCondition
        case interrupted(signal: Int32)
        case error(String)
    }

    /// Whether `--output-json` writes a report for this outcome (success or a failed last task).
    public var producesJSONReport: Bool {
        switch reason {
        case .completed, .taskFailed: return exitCode != 10
        default: return false
        }
    }
}

/// Runs a task file's tasks, routing as TASKER does (§9): sequential tasks
/// one after another; parallel, conditional and decision blocks in
/// `WorkflowEngine+Blocks.swift`; fan-out tasks in `WorkflowEngine+FanOut.swift`.
/// What the run learns lives in `state`, an actor that concurrent hosts and
/// subtasks write to; the engine itself holds only what every part reads.
/// Cancelling the task that runs `run()` interrupts the run: no further task,
/// subtask or host starts, running commands are stopped.
public final class WorkflowEngine: Sendable {
    public let file: TaskFile
    public let options: WorkflowOptions
    let log: WorkflowLog
    let state: EngineState
    /// Remote output lines as they arrive: `host: line`, stdout at INFO, stderr at WARN.
    let liveLines: LiveLines

    public init(file: TaskFile, options: WorkflowOptions, log: WorkflowLog) {
        self.file = file
        self.options = options
        self.log = log
        state = EngineState(globals: file.globalValues, restored: options.restoredResults)
        liveLines = LiveLines { [log] label, stream, line in
            let text = log.mask(String(decoding: line, as: UTF8.self))
            if stream == .stdout { log.info("\(label): \(text)") } else { log.warn("\(label): \(text)") }
        }
    }

    /// Placeholders resolve against the results stored so far.
    var resolver: PlaceholderResolver { get async { await state.resolver } }

    /// The task the run starts at: `--start-from`, else 0, else the lowest ID.
    public func startTask() throws -> Int {
        if let start = options.startFrom {
            guard file.task(start) != nil else {
                throw TaskFileError(exitCode: 12, "--start-from task \(start) is not defined in \(file.path)")
            }
            return start
        }
        if file.task(0) != nil { return 0 }
        let lowest = file.tasks.map(\.id).min()!
        log.info("task 0 not found, starting at task \(lowest)")
        return lowest
    }

    public func run() async -> WorkflowOutcome {
        var next: Int
        do { next = try startTask() } catch let error as TaskFileError {
            return await state.outcome(error.exitCode, .error(error.message), finalTask: nil)
        } catch {
            return await state.outcome(1, .error("\(error)"), finalTask: nil)
        }
        if next > 0 {
            log.warn("starting at task \(next): results of earlier tasks are not available")
        }
        var current: Int?
        while let task = file.task(next) {
            if let signal = interruptedSignal() {
                return await state.outcome(128 + signal, .interrupted(signal: signal), finalTask: current)
            }
            current = task.id
            let step: Step
            do { step = try await runTask(task) } catch let error as TaskFileError {
                return await state.outcome(error.exitCode, .error(error.message), finalTask: task.id)
            } catch {
                return await state.outcome(1, .error("\(error)"), finalTask: task.id)
            }
            // A task cut short by an interrupt ends the run however it routed; recovery runs it again.
            if let signal = interruptedSignal() {
                await afterTask(task.id, task.id)
                return await state.outcome(128 + signal, .interrupted(signal: signal), finalTask: task.id)
            }
            switch step {
            case .next(let id):
                routed(from: task.id, to: file.task(id) == nil ? nil : id)
                await afterTask(task.id, id)
                next = id
            case .again:
                routed(from: task.id, to: task.id)
                await afterTask(task.id, nil)
                continue
            case .stop(let reason):
                routed(from: task.id, to: nil)
                // After a failure the recovery file points at the same task, to run it again.
                await afterTask(task.id, reason == .completed ? nil : task.id)
                if reason == .failedByCondition { await state.markFailedByCondition() }
                let code = await state.final.exitCode(endedBecauseNextUndefined: false)
                return await state.outcome(code, reason == .completed ? .completed : reason, finalTask: task.id)
            case .exit(let code, let reason):
                routed(from: task.id, to: nil)
                await afterTask(task.id, code == 0 ? nil : task.id)
                return await state.outcome(code, reason, finalTask: task.id)
            }
        }
        return await state.outcome(await state.final.exitCode(endedBecauseNextUndefined: true), .completed, finalTask: current)
    }

    /// The signal that interrupted the run, once the running task is cancelled.
    private func interruptedSignal() -> Int32? {
        Task.isCancelled ? (options.interruptSignal() ?? SIGINT) : nil
    }

    private func afterTask(_ task: Int, _ intendedNext: Int?) async {
        guard let afterTask = options.afterTask else { return }
        let (results, changed) = await state.takeUnsaved()
        afterTask(task, intendedNext, results, changed)
    }

    private enum Step {
        case next(Int)
        case again
        case stop(WorkflowOutcome.Reason)
        case exit(Int32, WorkflowOutcome.Reason)
    }

    // MARK: One task

    private func runTask(_ task: TaskDefinition) async throws -> Step {
        let body = task.body
        if let route = await runBlock(task, body) {
            if let result = await state.result(of: task.id), body != .decision {
                taskEnded(task.id, "\(task.id)", result)
            } else {
                taskEnded(task.id, "\(task.id)", status: route == .abort ? "failed" : "ok", exitCode: route == .abort ? 1 : 0,
                          success: route != .abort)
            }
            switch route {
            case .jump(let id): return .next(id)
            case .stop(success: true):
                await state.markStoppedWithNever()
                return .stop(.completed)
            case .stop(success: false): return .stop(.failedByCondition)
            case .abort:
                // The previous final state decides; a block that aborts as the very first task ends with 0.
                let final = await state.final
                let code = final.tasksExecuted == 0 ? 0 : final.exitCode(endedBecauseNextUndefined: false)
                return .exit(code, code == 0 ? .completed : .taskFailed)
            }
        }
        let looping = task.next == "loop" && task.loop != nil
        let loopState = await state.loop(of: task.id)
        let loopRepeat = looping && loopState != nil
        let display = looping ? "\(task.id).\(loopState?.iteration ?? 1)" : "\(task.id)"

        let resolver = await self.resolver
        if let gate = task.condition, !Condition.evaluate(gate, context: .gate, resolver: resolver) {
            log.info("Task \(display): Condition '\(gate)' evaluated to FALSE, skipping task")
            await state.store(task.id, .skipped)
            taskEnded(task.id, display, status: "skipped", exitCode: TaskResult.skipped.exitCode, success: false)
            return .next(task.id + 1)
        }
        let fanOut: (body: TaskBody.FanOut, pattern: String)? = if case .fanOut(let fanOut) = body {
            (fanOut, resolver.resolve(fanOut.hosts).text)
        } else {
            nil
        }
        // Ansible reads an empty pattern as `all`; here it is a list of hosts (`@N_failed_hosts@`) that came out empty.
        if let fanOut, fanOut.pattern.trimmingCharacters(in: .whitespaces).isEmpty {
            let written = fanOut.body.hosts
            log.info("Task \(display): hosts=\(written) is empty, skipping task")
            await state.store(task.id, TaskResult(exitCode: -1, stdout: "", stderr: "Task skipped: hosts=\(written) is empty", success: false,
                                                  hosts: []))
            taskEnded(task.id, display, status: "skipped", exitCode: -1, success: false)
            return .next(task.id + 1)
        }
        await state.dispatched(task.id, loopRepeat: loopRepeat)
        taskStarted(task.id, display)

        if case .returnOnly(let returnValue) = body {
            guard let code = returnValue.literal else {
                log.error("Task \(display): return value '\(returnValue.text)' is not an integer")
                return .exit(50, .returned)
            }
            await state.store(task.id, TaskResult(exitCode: code, stdout: "", stderr: "", success: code == 0))
            taskEnded(task.id, display, status: code == 0 ? "ok" : "failed", exitCode: code, success: code == 0)
            log.info("Task \(display): Return-only task (no command to execute)")
            log.info("Task \(display): Returning with exit code \(code)")
            return .exit(Int32(truncatingIfNeeded: code), .returned)
        }

        let result: TaskResult
        if let fanOut {
            result = try await runFanOut(task, fanOut.body, pattern: fanOut.pattern, display: display, resolver: resolver)
            taskEnded(task.id, display, result)
        } else {
            let ending: CommandEnding
            (result, ending) = try await runCommand(task, display: display, resolver: resolver)
            taskEnded(task.id, display, status: ending.statusWord(success: result.success), exitCode: result.exitCode, success: result.success)
        }
        await state.store(task.id, result)
        // From here on (sleep, routing conditions) placeholders see the task's own result.
        let resolverAfter = await self.resolver
        if let sleep: Setting<Double> = task.setting(.sleep) { await pause(sleep, display: display, resolver: resolverAfter) }
        if let returnValue: Setting<Int> = task.setting(.returnValue) {
            guard let code = returnValue.literal else { return .exit(50, .returned) }
            log.info("Task \(display): Returning with exit code \(code)")
            return .exit(Int32(truncatingIfNeeded: code), .returned)
        }

        var loop = loopState
        let context = ConditionContext(exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, success: result.success)
        let loopContext = ConditionContext(exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr)
        let decision = Routing.route(task, ok: result.success, fireAndForget: options.fireAndForget,
                                     loop: &loop) { condition in
            let isLoopBreak = condition == task.loopBreak && looping
            return Condition.evaluate(condition, context: isLoopBreak ? loopContext : context, resolver: resolverAfter)
        }
        await state.setLoop(loop, of: task.id)
        // The final state records success *after routing*: a failed task that
        // routed on (on_failure, next=always, a loop) counts as a success.
        switch decision {
        case .task(let id):
            await state.recordFinal(exitCode: result.exitCode, success: true)
            if id != task.id + 1 {
                log.info("Task \(display): Success condition \(result.success ? "met" : "not met"), jumping to Task \(id)")
            }
            return .next(id)
        case .repeatTask:
            await state.recordFinal(exitCode: result.exitCode, success: true)
            return .again
        case .stopSucceeded:
            await state.recordFinal(exitCode: result.exitCode, success: true)
            await state.markStoppedWithNever()
            return .stop(.completed)
        case .stopFailed:
            await state.recordFinal(exitCode: result.exitCode, success: false)
            return .stop(.taskFailed)
        case .stopFailedByCondition:
            await state.recordFinal(exitCode: result.exitCode, success: false)
            return .stop(.failedByCondition)
        }
    }

    /// Runs a parallel, conditional or decision block and says where it routes; nil for other tasks.
    private func runBlock(_ task: TaskDefinition, _ body: TaskBody) async -> BlockRoute? {
        switch body {
        case .command, .fanOut, .returnOnly: return nil
        case .decision, .parallel, .conditional, .rolling: break
        }
        await state.dispatched(task.id, loopRepeat: false)
        taskStarted(task.id, "\(task.id)")
        switch body {
        case .parallel(let parallel): return await runParallel(task, parallel)
        case .conditional(let conditional): return await runConditional(task, conditional)
        case .rolling(let rolling): return await runRolling(task, rolling)
        default: return await runDecision(task)
        }
    }

    /// The task's result and how its command ended.
    func runCommand(_ task: TaskDefinition, display: String, resolver: PlaceholderResolver) async throws
        -> (TaskResult, ending: CommandEnding) {
        let step: CommandStep
        do {
            step = try commandStep(task, settings: try stepSettings(task, display: display, resolver: resolver), resolver: resolver)
        } catch let failure as CommandLineBuilder.Failure {
            if failure.description.contains("not found in configuration") {
                throw TaskFileError(exitCode: 20, "Task \(display): \(failure)")
            }
            throw TaskFileError(exitCode: 1, "Task \(display): \(failure)")
        }
        let commandLine = log.mask(step.remote.map { "\(step.hostname): \($0.summary)" }
            ?? step.argv.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " "))

        let exit: CommandExit
        if !options.execute {
            log.info("Task \(display): [DRY RUN] Would execute: \(commandLine)")
            exit = CommandExit(ending: .exited, status: 0, stdout: "DRY RUN STDOUT", stderr: "")
        } else {
            log.info("Task \(display): Executing [\(step.settings.execType)]: \(commandLine)")
            do {
                exit = try await launch(step, outputSubdirectory: display)
                if exit.timedOut { log.warn("Task \(display): Timeout after \(step.timeout) seconds. Process killed.") }
                reportConnectionProblem(exit, display: display, hostname: step.hostname)
            } catch let error as ChildProcess.SpawnError {
                if error.isMissingExecutable {
                    throw TaskFileError(exitCode: 20, "Task \(display): \(error)")
                }
                exit = CommandExit(ending: .exited, status: 1, stdout: "", stderr: error.description)
            }
            log.info("Task \(display): Exit code: \(exit.exitCode)")
            // Remote output was already shown line by line as it arrived.
            let summaryLevel: WorkflowLog.Level = step.remote == nil ? .info : .debug
            if !exit.stdout.isEmpty { log.write(summaryLevel, "Task \(display): STDOUT: \(log.mask(WorkflowLog.oneLine(exit.stdout)))") }
            if !exit.stderr.isEmpty { log.write(summaryLevel, "Task \(display): STDERR: \(log.mask(WorkflowLog.oneLine(exit.stderr)))") }
        }
        let condition: Judgement.Condition = task.success.map { .success($0) } ?? task.failure.map { .failure($0) } ?? .exitZero
        let run = finish(exit, judgement: Judgement(split: .fields, stdoutSplit: task.stdoutSplit, stderrSplit: task.stderrSplit,
                                                    condition: condition),
                         resolver: resolver)
        if task.stdoutSplit != nil { log.info("Task \(display): Split STDOUT: \(log.mask(WorkflowLog.oneLine(run.stdout)))") }
        switch condition {
        case .success(let text):
            log.info("Task \(display): Success condition '\(text)' evaluated to: \(run.success ? "True" : "False")")
        case .failure(let text):
            log.info("Task \(display): Failure condition '\(text)' evaluated to: \(run.success ? "False" : "True")")
        case .exitZero:
            break
        }
        return (TaskResult(exitCode: run.exit.exitCode, stdout: run.stdout, stderr: run.stderr, success: run.success,
                           stdoutFile: run.stdoutFile, stderrFile: run.stderrFile), exit.ending)
    }

    /// A remote command that never ran (unreachable, refused host key, …) says why; nothing else would show it.
    func reportConnectionProblem(_ exit: CommandExit, display: String, hostname: String) {
        // A command that ran into its timeout has its own warning; a connect timeout has not.
        guard exit.remote, case .notRun = exit.ending else { return }
        log.warn("Task \(display): \(hostname): \(WorkflowLog.oneLine(exit.stderr))")
    }

    /// Task `exec` → `-t` → `TASK_EXECUTOR_TYPE` → the configuration's default → `local`.
    func resolveExecType(_ field: String?, resolver: PlaceholderResolver) throws -> String {
        let raw = field.map { resolver.resolve($0).text } ?? options.defaultExecType
            ?? options.environment["TASK_EXECUTOR_TYPE"] ?? options.executionTypes.defaultExecType ?? "local"
        return options.executionTypes.normalise(raw)
    }

    /// Task `timeout` → the exec type's → the configuration default → `TASK_EXECUTOR_TIMEOUT` → 300; clamped to 5…1000.
    func resolveTimeout(_ setting: Setting<Int>?, execType: String, resolver: PlaceholderResolver, display: String) -> Int {
        var timeout: Int?
        if let setting {
            timeout = setting.value(resolver)
            if timeout == nil { log.warn("Task \(display): timeout '\(setting.text)' is not an integer; using the default") }
        }
        timeout = timeout ?? options.executionTypes.types[execType]?.timeout ?? options.executionTypes.defaultTimeout
            ?? options.environment["TASK_EXECUTOR_TIMEOUT"].flatMap(PythonSemantics.int) ?? 300
        let clamped = min(max(timeout!, 5), 1000)
        if clamped != timeout! { log.warn("Task \(display): timeout \(timeout!) clamped to \(clamped) seconds") }
        return clamped
    }

    private func pause(_ sleep: Setting<Double>, display: String, resolver: PlaceholderResolver) async {
        switch sleep.read(resolver) {
        case .unresolved:
            log.info("Task \(display): sleep '\(sleep.text)' has unresolved placeholders; not sleeping")
        case .value(let seconds) where seconds > 0 && seconds.isFinite && options.execute:
            await interruptibleSleep(seconds)
        case .value, .invalid:
            break
        }
    }
}
