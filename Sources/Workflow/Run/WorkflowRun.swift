import Fleet
import Foundation
import Locking

/// One whole run of a task file, as `tasker run` performs it: validation,
/// host checks, the instance lock, the task-file backup, the plan,
/// auto-recovery, the engine, the JSON report and the project summary. The
/// command line maps its options into `Settings` and its console into
/// `Interaction`; everything else happens here, so a run can be driven in-process.
public struct WorkflowRun: Sendable {
    public struct Settings: Sendable {
        /// The task file as the user named it (backups, summaries, reports).
        public var taskFilePath: String
        /// `-r`: really execute; otherwise a dry run.
        public var execute = false
        public var startFrom: Int?
        public var fireAndForget = false
        /// `-t/--default-exec`.
        public var defaultExecType: String?
        /// `--exec-config`.
        public var executionTypesFile: String?
        /// `-p`: the project whose summary file gets a line.
        public var project: String?
        /// Where the JSON report goes; nil for none (`--output-json` also turns on auto-recovery).
        public var reportPath: String?
        public var logDirectory: String
        public var logFilePath: String?
        /// The run's timestamp, as in the log file's name (the task-file backup uses it).
        public var timestamp: String
        public var skipTaskValidation = false
        public var skipSecurityValidation = false
        public var skipSubtaskRangeValidation = false
        public var skipHostValidation = false
        public var skipUnresolvedHostValidation = false
        public var skipCommandValidation = false
        public var validateOnly = false
        public var backUpTaskFile = true
        public var autoRecovery = false
        /// `-y`: resume after a changed environment without asking.
        public var assumeYes = false
        public var instanceCheck = false
        public var forceInstance = false
        public var showPlan = false
        /// `I/N` when the run is one slice of several (`--shard`), for `run_started`.
        public var shard: String?

        public init(taskFilePath: String, logDirectory: String, timestamp: String) {
            self.taskFilePath = taskFilePath
            self.logDirectory = logDirectory
            self.timestamp = timestamp
        }
    }

    /// What the run needs from whoever drives it.
    public struct Interaction: Sendable {
        /// Text for standard output (validation errors, the plan).
        public var print: @Sendable (String) -> Void
        /// A one-line error for standard error.
        public var printError: @Sendable (String) -> Void
        /// Asks `question` (printed as is) and says whether the answer was yes.
        public var confirm: @Sendable (String) -> Bool
        /// The pooled SSH transport over a fresh session, made once the task file has passed validation
        /// (its header may add options); the run closes the session after the engine.
        public var makeSSHRunner: @Sendable () throws -> SSHTaskRunner
        /// Called before the engine runs with what interrupts it (to connect signals to it): cancelling
        /// the engine's task stops its work, while the run's reports and the pool's shutdown still happen.
        public var engineStarting: @Sendable (_ interrupt: @escaping @Sendable () -> Void) -> Void = { _ in }
        /// The signal that interrupted the run, if one did.
        public var interruptSignal: @Sendable () -> Int32? = { nil }
        /// Sees the engine's outcome before reports are written (e.g. the retry file).
        public var engineFinished: @Sendable (WorkflowOutcome) -> Void = { _ in }
        /// The consumers of the run's events (`--journal`); the run drains them before it returns.
        public var eventSubscribers: [any RunEventSubscriber] = []

        public init(print: @escaping @Sendable (String) -> Void, printError: @escaping @Sendable (String) -> Void,
                    confirm: @escaping @Sendable (String) -> Bool, makeSSHRunner: @escaping @Sendable () throws -> SSHTaskRunner) {
            self.print = print
            self.printError = printError
            self.confirm = confirm
            self.makeSSHRunner = makeSSHRunner
        }
    }

    /// Why a run failed, for the alert script.
    public struct Failure: Sendable, Equatable {
        public var error: String
        public var task: Int?
    }

    /// How the run ended: its exit status and, when alerts apply, why it failed.
    public struct Ending: Sendable {
        public var exitCode: Int32
        public var failure: Failure?

        static let success = Ending(exitCode: 0, failure: nil)
    }

    public let file: TaskFile
    public let settings: Settings
    public let log: WorkflowLog
    public let interaction: Interaction

    public init(file: TaskFile, settings: Settings, log: WorkflowLog, interaction: Interaction) {
        self.file = file
        self.settings = settings
        self.log = log
        self.interaction = interaction
    }

    /// Runs the workflow. Errors thrown are the driver's own (`makeSSHRunner`) or the file system's.
    /// Every ending — a validation failure too — is the end of the run's event stream.
    public func perform() async throws -> Ending {
        let hosts = FanOutHostTally()
        let events = interaction.eventSubscribers.isEmpty ? nil : RunEventSink(subscribers: interaction.eventSubscribers + [hosts])
        events?.emit(.runStarted(.init(operation: "workflow", commandLine: CommandLine.arguments.map(log.mask),
                                       subject: settings.taskFilePath, targets: 0, startedAt: events?.clock.wallStartText ?? "",
                                       fanOutTasks: file.tasks.filter { $0.hosts != nil }.map(\.id).sorted(), shard: settings.shard)))
        let connections = Locked<ConnectionPool.Statistics?>(nil)
        func ended(_ exitCode: Int32) async {
            guard let events else { return }
            await events.drain()
            let statistics = connections.withLock { $0 }
            events.emit(.runEnded(RunSummary(tally: hosts.tally, exitCode: exitCode, wallMilliseconds: events.clock.offset(),
                                             connectionsOpened: statistics?.connectionsOpened ?? 0,
                                             jumpHostConnectionsOpened: statistics?.jumpHostConnectionsOpened ?? 0)))
            await events.drain()
        }
        do {
            let ending = try await perform(events: events, connections: connections)
            await ended(ending.exitCode)
            return ending
        } catch {
            await ended((error as? TaskFileError)?.exitCode ?? 1)
            throw error
        }
    }

    private func perform(events: RunEventSink?, connections: Locked<ConnectionPool.Statistics?>) async throws -> Ending {
        for warning in file.warnings { log.debug(warning) }
        if !settings.execute { log.info("DRY RUN: no command will be executed (use -r to run)") }
        if !(settings.skipTaskValidation), let ending = validateTasks() { return ending }
        let executionTypes: ExecutionTypes
        do {
            executionTypes = try ExecutionTypes.load(explicit: settings.executionTypesFile)
        } catch let error as TaskFileError {
            interaction.printError("tasker: \(error.message)")
            return Ending(exitCode: error.exitCode, failure: nil)
        }
        if let start = settings.startFrom, file.task(start) == nil {
            log.error("--start-from task \(start) is not defined")
            return Ending(exitCode: 12, failure: Failure(error: "Start task \(start) not found", task: start))
        }
        if !settings.skipHostValidation {
            var hostOptions = HostValidator.Options()
            hostOptions.skipUnresolved = settings.skipUnresolvedHostValidation
            hostOptions.skipCommandCheck = settings.skipCommandValidation
            let validator = HostValidator(file: file, config: executionTypes, options: hostOptions, defaultExecType: settings.defaultExecType,
                                          environment: ProcessInfo.processInfo.environment, log: log)
            do { try await validator.validate() } catch let hostFailure as HostValidator.Failure {
                log.error("Host validation failed: \(hostFailure)")
                return Ending(exitCode: hostFailure.exitCode, failure: Failure(error: "Host validation failed", task: nil))
            }
        }
        if settings.validateOnly { return .success }
        var lock: InstanceLock?
        if settings.instanceCheck, !settings.forceInstance {
            do {
                lock = try InstanceLock(file: file, project: settings.project,
                                        home: ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory())
            } catch let error as TaskFileError {
                log.error(error.message)
                return Ending(exitCode: error.exitCode, failure: nil)
            }
        }
        defer { lock?.release() }

        let temporary = NSTemporaryDirectory() + "/tasker_session_\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }

        var options = WorkflowOptions()
        options.execute = settings.execute
        options.startFrom = settings.startFrom
        options.fireAndForget = settings.fireAndForget
        options.defaultExecType = settings.defaultExecType
        options.temporaryDirectory = temporary
        options.executionTypes = executionTypes
        options.events = events
        options.interruptSignal = interaction.interruptSignal
        let ssh = try interaction.makeSSHRunner()
        options.transport = ssh
        if !settings.skipHostValidation {
            let problems = FanOutTargetValidator.problems(in: file, runner: ssh)
            for warning in problems.warnings { log.warn(warning) }
            if !problems.errors.isEmpty {
                for error in problems.errors { log.error(error) }
                return Ending(exitCode: 20, failure: Failure(error: "Host validation failed", task: nil))
            }
        }

        if settings.execute, settings.backUpTaskFile {
            try? RunFiles.backup(taskFile: settings.taskFilePath, contents: file.contents, logDirectory: settings.logDirectory,
                                 timestamp: settings.timestamp)
        }
        if settings.showPlan, !interaction.confirm(plan(transport: ssh)) { return .success }
        var runFile = file
        // --output-json forces auto-recovery, as in the reference.
        var recovery = (settings.autoRecovery || settings.reportPath != nil)
            ? RecoveryState(taskFile: file, logDirectory: settings.logDirectory) : nil
        if let saved = recovery, saved.exists, settings.startFrom == nil {
            do {
                if let resume = try saved.resume() {
                    log.info("Auto-recovery: resuming at task \(resume.startTask) from \(saved.path)")
                    if !resume.missingEnvironment.isEmpty || !resume.changedEnvironment.isEmpty {
                        for entry in resume.missingEnvironment {
                            log.warn("Auto-recovery: environment for global \(entry.name) is gone; keeping the saved value")
                        }
                        for entry in resume.changedEnvironment {
                            log.warn("Auto-recovery: global \(entry.name) changed since the saved run")
                        }
                        if !settings.assumeYes, !interaction.confirm("Environment changed since the saved run. Continue? [y/N]: ") {
                            log.error("Auto-recovery aborted")
                            throw TaskFileError(exitCode: 12, "recovery declined")
                        }
                    }
                    runFile = file.overridingGlobals(resume.globals)
                    options.startFrom = resume.startTask
                    options.restoredResults = resume.results
                } else {
                    log.warn("Auto-recovery: nothing to resume; starting normally")
                    saved.delete()
                    // A fresh state, with its own creation time.
                    recovery = RecoveryState(taskFile: file, logDirectory: settings.logDirectory)
                }
            } catch let error as TaskFileError {
                log.error("Auto-recovery: \(error.message)")
                return Ending(exitCode: error.exitCode, failure: Failure(error: "Auto-recovery failed", task: nil))
            }
        }
        if let recovery, settings.execute {
            let logPath = settings.logFilePath ?? ""
            options.afterTask = { task, next, results, changed in
                recovery.save(currentTask: task, intendedNext: next, results: results, changed: changed, logFile: logPath)
            }
        }
        let engine = WorkflowEngine(file: runFile, options: options, log: log)
        let started = Date()
        // The engine runs in a task of its own, so that an interrupt cancels it and nothing after it.
        let engineTask = Task { await engine.run() }
        interaction.engineStarting { engineTask.cancel() }
        var outcome = await withTaskCancellationHandler { await engineTask.value } onCancel: { engineTask.cancel() }
        await ssh.session.close()
        interaction.engineFinished(outcome)
        let statistics = ssh.pool.statistics
        connections.withLock { $0 = statistics }
        if statistics.connectionsOpened > 0 {
            var line = "SSH: \(statistics.connectionsOpened) connection(s) opened, \(statistics.reconnects) reconnect(s)"
            if statistics.jumpHostConnectionsOpened > 0 {
                line += ", \(statistics.jumpHostConnectionsOpened) to jump hosts"
            }
            log.info(line)
        }
        if let signal = interaction.interruptSignal(), outcome.exitCode != 128 + signal {
            outcome.exitCode = 128 + signal
            outcome.reason = .interrupted(signal: signal)
        }
        if case .error(let message) = outcome.reason { log.error(message) }
        if let path = settings.reportPath, outcome.producesJSONReport {
            let report = WorkflowReport(file: file, outcome: outcome, started: started, ended: Date(), logFile: settings.logFilePath ?? "")
            do { try report.write(to: path) } catch {
                log.error("cannot write the JSON report to \(path): \(error)")
                return Ending(exitCode: 1, failure: nil)
            }
        }
        if outcome.exitCode == 0, outcome.producesJSONReport || outcome.reason == .completed { recovery?.delete() }
        log.info("Workflow finished with exit code \(outcome.exitCode)")
        if let project = settings.project {
            let task = outcome.finalTask.flatMap(file.task)
            let line = RunFiles.SummaryLine(
                success: outcome.exitCode == 0, exitCode: outcome.exitCode, taskFile: settings.taskFilePath, taskID: outcome.finalTask ?? -1,
                hostname: task?.hostname ?? "localhost", command: log.mask(task?.command ?? ""),
                logFile: settings.logFilePath ?? "unknown.log")
            try? RunFiles.appendSummary(line, project: project, logDirectory: settings.logDirectory)
        }
        guard outcome.exitCode != 0 else { return .success }
        // A missing program or an unknown exec type ends the run at once, without alerts.
        if case .error = outcome.reason { return Ending(exitCode: outcome.exitCode, failure: nil) }
        return Ending(exitCode: outcome.exitCode,
                      failure: Failure(error: outcome.exitCode == 10 ? "Workflow failed by condition" : "Workflow failed", task: outcome.finalTask))
    }

    /// Task validation and the dependency check; an ending when validation failed.
    private func validateTasks() -> Ending? {
        var validation = TaskFileValidator.Options()
        validation.skipSecurity = settings.skipSecurityValidation
        validation.skipSubtaskRange = settings.skipSubtaskRangeValidation
        if settings.autoRecovery {
            validation.recoveredGlobals = RecoveryState(taskFile: file, logDirectory: settings.logDirectory).savedGlobalNames()
        }
        // A broken configuration is reported after validation, where the run loads it.
        validation.executionTypes = try? ExecutionTypes.load(explicit: settings.executionTypesFile)
        let report = TaskFileValidator.validate(file, options: validation)
        if !report.passed {
            interaction.print("# Task validation FAILED.\n")
            for error in report.errors { interaction.print("ERROR: \(error)\n") }
            return Ending(exitCode: 20, failure: Failure(error: "Task validation failed", task: nil))
        }
        for warning in report.warnings { log.debug("# WARNING: \(warning)") }
        log.info("# Task validation passed.")
        let dependencies = TaskFileValidator.dependencyIssues(file)
        if dependencies.isEmpty {
            log.info("# Task dependency validation passed.")
        } else {
            log.info("# WARNING: Task dependency issues detected:")
            for issue in dependencies { log.info("#   \(issue)") }
        }
        return nil
    }

    /// `--show-plan`'s text: the tasks, then the question.
    private func plan(transport: any TaskTransport) -> String {
        var text = "Execution plan for \(settings.taskFilePath):\n"
        for task in file.tasks.sorted(by: { $0.id < $1.id }) {
            let what = task.type.map { "[\($0)]" }
                ?? (task.command.map { "\(task.hosts.map { "hosts=\($0)" } ?? task.hostname ?? ""): \($0) \(task.arguments ?? "")" }
                    ?? "return \(task.returnValue ?? "")")
            text += "  Task \(task.id): \(what)\n"
            if case .rolling(let rolling) = task.body {
                for line in RolloutPreview.lines(task, rolling, file: file, transport: transport) { text += "    \(line)\n" }
            }
        }
        return text + "Proceed? [y/N]: "
    }
}
