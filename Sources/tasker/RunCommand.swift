import ArgumentParser
import Foundation
import Fleet
import Workflow

/// `tasker [options] TASKFILE`: runs a TASKER task file (dry run unless `-r`).
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a TASKER task file (the default command; a dry run unless -r).",
        discussion: """
        Options may also be written at the top of the task file (one per line, --opt=value form); the command
        line wins for valued options, flags combine. Not implemented yet:
        the interactive re-check of environment globals on resume.
        """)

    @Argument(help: "The task file.")
    var taskFile: String

    @Flag(name: [.customShort("r"), .long], help: "Really execute (otherwise: dry run).")
    var run = false

    @Option(name: .long, help: "ERROR, WARN, INFO or DEBUG.")
    var logLevel: String?

    @Flag(name: [.customShort("d"), .long], help: "DEBUG log level.")
    var debug = false

    @Option(name: [.customShort("l"), .long], help: ArgumentHelp("Log directory.", valueName: "dir"))
    var logDir: String?

    @Option(name: [.customShort("t"), .long, .customLong("default-exec")],
            help: ArgumentHelp("Exec type of tasks without exec= (e.g. ssh).", valueName: "type"))
    var type: String?

    @Option(name: [.customShort("p"), .long], help: ArgumentHelp("Project name for the summary file.", valueName: "name"))
    var project: String?

    @Option(name: .long, help: ArgumentHelp("Start at this task ID.", valueName: "id"))
    var startFrom: Int?

    @Option(name: .long, help: ArgumentHelp("Write the JSON report here.", valueName: "file"))
    var outputJson: String?

    @Option(name: .long, help: ArgumentHelp("Execution-type configuration (YAML).", valueName: "file"))
    var execConfig: String?

    @Option(name: .long, help: ArgumentHelp("Script to run when the workflow fails.", valueName: "script"))
    var alertOnFailure: String?

    @OptionGroup(title: "Remote tasks (exec=ssh, exec=ssh_shell, hosts=)") var remote: WorkflowRemoteOptions

    @Flag(name: .long, help: "Unrouted failing tasks continue.") var fireAndForget = false
    @Flag(name: .long, help: "Strict environment checks for globals.") var strictEnvValidation = false
    @Flag(name: .long, help: "Stop after parsing and validation.") var validateOnly = false
    @Flag(name: .long, help: "Print the merged arguments and exit.") var showEffectiveArgs = false
    @Flag(name: .long) var skipTaskValidation = false
    @Flag(name: .long) var skipHostValidation = false
    @Flag(name: .long) var skipUnresolvedHostValidation = false
    @Flag(name: .long) var skipCommandValidation = false
    @Flag(name: .long) var skipSecurityValidation = false
    @Flag(name: .long) var skipSubtaskRangeValidation = false
    @Flag(name: .long) var skipValidation = false
    @Flag(name: .long) var noTaskBackup = false
    @Flag(name: .long) var autoRecovery = false
    @Flag(name: .long) var showRecoveryInfo = false
    @Flag(name: .long) var instanceCheck = false
    @Flag(name: .long) var forceInstance = false
    @Flag(name: .long) var showPlan = false
    @Flag(name: [.customShort("y"), .long]) var yes = false

    /// `--output-json` without a value asks for the default report path.
    static let defaultReportMarker = "\u{1}default"

    func validate() throws {
        if let logLevel, WorkflowLog.Level(name: logLevel) == nil {
            throw ValidationError("invalid --log-level '\(logLevel)' (ERROR, WARN, INFO or DEBUG)")
        }
    }

    func run() async throws {
        var file = try load(strictEnvironment: strictEnvValidation)
        let effective = try merged(with: file.arguments)
        if effective.strictEnvValidation, !strictEnvValidation {
            // The header asked for strict checks of the globals it defines.
            file = try load(strictEnvironment: true)
        }
        if effective.showRecoveryInfo {
            ConsoleWriter.shared.write(RecoveryState(taskFile: file, logDirectory: effective.logDirectory).describe() + "\n")
            return
        }
        if effective.showEffectiveArgs {
            ConsoleWriter.shared.write("File-defined arguments: \(file.arguments.tokens.joined(separator: " "))\n")
            ConsoleWriter.shared.write(effective.summary + "\n")
            return
        }
        try await effective.execute(file)
    }

    private func load(strictEnvironment: Bool) throws -> TaskFile {
        do {
            return try TaskFile.load(path: taskFile, strictEnvironment: strictEnvironment)
        } catch let error as TaskFileError {
            ConsoleWriter.shared.write("tasker: \(error.message)\n", to: .stderr)
            throw ExitCode(error.exitCode)
        }
    }

    /// File-defined options (§3): unknown ones are ignored as the reference
    /// ignores them, an invalid value is a usage error; each known option then
    /// combines with the command line as `fileHeaderMerges` says.
    func merged(with arguments: FileArguments) throws -> RunCommand {
        var result = self
        for warning in arguments.warnings { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
        for token in arguments.tokens {
            let fromFile: RunCommand
            do {
                fromFile = try RunCommand.parse([token, taskFile])
            } catch {
                let message = RunCommand.message(for: error)
                if message.contains("Unknown option") || message.contains("Unexpected argument") { continue }
                throw ValidationError("\(taskFile): file argument '\(token)': \(message)")
            }
            for merge in Self.fileHeaderMerges { merge.apply(&result, fromFile) }
        }
        return result
    }

    private var summary: String {
        var lines = ["task_file: \(taskFile)", "run: \(run)"]
        if let logLevel { lines.append("log_level: \(logLevel)") }
        if let type { lines.append("type: \(type)") }
        if let startFrom { lines.append("start_from: \(startFrom)") }
        if let outputJson { lines.append("output_json: \(outputJson)") }
        if fireAndForget { lines.append("fire_and_forget: true") }
        if !remote.inventory.inventories.isEmpty { lines.append("inventory: \(remote.inventory.inventories.joined(separator: ", "))") }
        if let limit = remote.inventory.limit { lines.append("limit: \(limit)") }
        if let sshConfig = remote.ssh.sshConfig { lines.append("ssh_config: \(sshConfig)") }
        if let forks = remote.forks { lines.append("forks: \(forks)") }
        if let outputDir = remote.outputDir { lines.append("output_dir: \(outputDir)") }
        return lines.joined(separator: "\n")
    }

    /// Why a run failed, for the alert script; nil for exits that bypass alerts.
    private struct Failure {
        var error: String
        var task: Int?
    }

    private func execute(_ file: TaskFile) async throws {
        var level = logLevel.flatMap(WorkflowLog.Level.init(name:)) ?? .info
        if debug, level == .info { level = .debug }
        let secrets = file.globals.filter { WorkflowLog.isSecretName($0.name) }.map(\.value)
        let runTimestamp = Self.timestamp()
        let logFile = run ? try openLogFile(timestamp: runTimestamp) : nil
        let log = WorkflowLog(level: level, file: logFile?.fd, secrets: secrets)
        defer {
            if let logFile { log.info("# Log file: \(logFile.path)") }
            log.close()
        }
        let alert = alertOnFailure.flatMap { AlertScript.prepare($0, log: log) }
        var failure: Failure?
        do {
            try await perform(file, log: log, logFile: logFile?.path, runTimestamp: runTimestamp, failure: &failure)
        } catch let exit as ExitCode {
            if exit.rawValue != 0, let failure, let alert {
                if run {
                    let state = (autoRecovery || outputJson != nil) ? RecoveryState(taskFile: file, logDirectory: logDirectory).path : ""
                    await alert.run(exitCode: exit.rawValue, error: failure.error, failedTask: failure.task, taskFile: taskFile,
                                    logFile: logFile?.path ?? "", stateFile: state, log: log)
                } else {
                    log.info("[DRY RUN] Would run alert script \(alert.path) (exit code \(exit.rawValue))")
                }
            }
            throw exit
        }
    }

    private func perform(_ file: TaskFile, log: WorkflowLog, logFile: String?, runTimestamp: String,
                         failure: inout Failure?) async throws {
        for warning in file.warnings { log.debug(warning) }
        if !run { log.info("DRY RUN: no command will be executed (use -r to run)") }
        if !(skipTaskValidation || skipValidation) {
            var validation = TaskFileValidator.Options()
            validation.skipSecurity = skipSecurityValidation
            validation.skipSubtaskRange = skipSubtaskRangeValidation
            if autoRecovery { validation.recoveredGlobals = RecoveryState(taskFile: file, logDirectory: logDirectory).savedGlobalNames() }
            let report = TaskFileValidator.validate(file, options: validation)
            if !report.passed {
                ConsoleWriter.shared.write("# Task validation FAILED.\n")
                for error in report.errors { ConsoleWriter.shared.write("ERROR: \(error)\n") }
                failure = Failure(error: "Task validation failed", task: nil)
                throw ExitCode(20)
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
        }
        let executionTypes: ExecutionTypes
        do {
            executionTypes = try ExecutionTypes.load(explicit: execConfig)
        } catch let error as TaskFileError {
            ConsoleWriter.shared.write("tasker: \(error.message)\n", to: .stderr)
            throw ExitCode(error.exitCode)
        }
        if let start = startFrom, file.task(start) == nil {
            log.error("--start-from task \(start) is not defined")
            failure = Failure(error: "Start task \(start) not found", task: start)
            throw ExitCode(12)
        }
        if !(skipHostValidation || skipValidation) {
            var hostOptions = HostValidator.Options()
            hostOptions.skipUnresolved = skipUnresolvedHostValidation
            hostOptions.skipCommandCheck = skipCommandValidation
            let validator = HostValidator(file: file, config: executionTypes, options: hostOptions, defaultExecType: type,
                                          environment: ProcessInfo.processInfo.environment, log: log)
            do { try await validator.validate() } catch let hostFailure as HostValidator.Failure {
                log.error("Host validation failed: \(hostFailure)")
                failure = Failure(error: "Host validation failed", task: nil)
                throw ExitCode(hostFailure.exitCode)
            }
        }
        if validateOnly { return }
        var lock: InstanceLock?
        if instanceCheck, !forceInstance {
            do {
                lock = try InstanceLock(file: file, project: project,
                                        home: ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory())
            } catch let error as TaskFileError {
                log.error(error.message)
                throw ExitCode(error.exitCode)
            }
        }
        defer { lock?.release() }

        let temporary = NSTemporaryDirectory() + "/tasker_session_\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: temporary) }

        var options = WorkflowOptions()
        options.execute = run
        options.startFrom = startFrom
        options.fireAndForget = fireAndForget
        options.defaultExecType = type
        options.temporaryDirectory = temporary
        options.executionTypes = executionTypes
        let ssh = try remote.makeRunner()
        options.ssh = ssh
        if !(skipHostValidation || skipValidation) {
            let problems = FanOutTargetValidator.problems(in: file, runner: ssh)
            for warning in problems.warnings { log.warn(warning) }
            if !problems.errors.isEmpty {
                for error in problems.errors { log.error(error) }
                failure = Failure(error: "Host validation failed", task: nil)
                throw ExitCode(20)
            }
        }

        if run, !noTaskBackup {
            try? RunFiles.backup(taskFile: taskFile, contents: file.contents, logDirectory: logDirectory, timestamp: runTimestamp)
        }
        if showPlan, !confirmPlan(file) { return }
        var runFile = file
        // --output-json forces auto-recovery, as in the reference.
        var recovery = (autoRecovery || outputJson != nil) ? RecoveryState(taskFile: file, logDirectory: logDirectory) : nil
        if let saved = recovery, saved.exists, startFrom == nil {
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
                        if !yes {
                            ConsoleWriter.shared.write("Environment changed since the saved run. Continue? [y/N]: ")
                            ConsoleWriter.shared.flush()
                            let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
                            guard answer == "y" || answer == "yes" else {
                                log.error("Auto-recovery aborted")
                                throw TaskFileError(exitCode: 12, "recovery declined")
                            }
                        }
                    }
                    runFile = file.overridingGlobals(resume.globals)
                    options.startFrom = resume.startTask
                    options.restoredResults = resume.results
                } else {
                    log.warn("Auto-recovery: nothing to resume; starting normally")
                    saved.delete()
                    // A fresh state, with its own creation time.
                    recovery = RecoveryState(taskFile: file, logDirectory: logDirectory)
                }
            } catch let error as TaskFileError {
                log.error("Auto-recovery: \(error.message)")
                failure = Failure(error: "Auto-recovery failed", task: nil)
                throw ExitCode(error.exitCode)
            }
        }
        if let recovery, run {
            let logPath = logFile ?? ""
            options.afterTask = { task, next, results, changed in
                recovery.save(currentTask: task, intendedNext: next, results: results, changed: changed, logFile: logPath)
            }
        }
        let engine = WorkflowEngine(file: runFile, options: options, log: log)
        let interrupts = InterruptHandler()
        interrupts.install { engine.cancel.set() }
        let started = Date()
        var outcome = await engine.run()
        await ssh.pool.closeAll()
        remote.writeRetryFile(from: outcome.results)
        let connections = ssh.pool.statistics
        if connections.connectionsOpened > 0 {
            var line = "SSH: \(connections.connectionsOpened) connection(s) opened, \(connections.reconnects) reconnect(s)"
            if connections.jumpHostConnectionsOpened > 0 {
                line += ", \(connections.jumpHostConnectionsOpened) to jump hosts"
            }
            log.info(line)
        }
        if let signal = interrupts.signal, outcome.exitCode != 128 + signal {
            outcome.exitCode = 128 + signal
            outcome.reason = .interrupted(signal: signal)
        }
        if case .error(let message) = outcome.reason { log.error(message) }
        if let outputJson, outcome.producesJSONReport {
            let path = outputJson == Self.defaultReportMarker ? defaultReportPath() : outputJson
            let document = WorkflowReport.json(file: file, outcome: outcome, started: started, ended: Date(), logFile: logFile ?? "")
            do { try WorkflowReport.write(document, to: path) } catch {
                log.error("cannot write the JSON report to \(path): \(error)")
                throw ExitCode(1)
            }
        }
        if outcome.exitCode == 0, outcome.producesJSONReport || outcome.reason == .completed { recovery?.delete() }
        log.info("Workflow finished with exit code \(outcome.exitCode)")
        if let project {
            let task = outcome.finalTask.flatMap(file.task)
            let line = RunFiles.SummaryLine(
                success: outcome.exitCode == 0, exitCode: outcome.exitCode, taskFile: taskFile, taskID: outcome.finalTask ?? -1,
                hostname: task?["hostname"] ?? "localhost", command: log.mask(task?["command"] ?? ""),
                logFile: logFile ?? "unknown.log")
            try? RunFiles.appendSummary(line, project: project, logDirectory: logDirectory)
        }
        if outcome.exitCode != 0 {
            // A missing program or an unknown exec type ends the run at once, without alerts.
            if case .error = outcome.reason {} else {
                failure = Failure(error: outcome.exitCode == 10 ? "Workflow failed by condition" : "Workflow failed", task: outcome.finalTask)
            }
            throw ExitCode(outcome.exitCode)
        }
    }

    /// `-l`, `TASK_EXECUTOR_LOG` or `~/TASKER`.
    private var logDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        return logDir ?? environment["TASK_EXECUTOR_LOG"] ?? "\(environment["HOME"] ?? NSHomeDirectory())/TASKER"
    }

    /// `<log dir>/log/<task name>_<timestamp>.log`.
    private func openLogFile(timestamp: String) throws -> (path: String, fd: Int32) {
        let directory = "\(logDirectory)/log"
        let path = "\(directory)/\(Self.sanitisedName(taskFile))_\(timestamp).log"
        let fd = (try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)) == nil
            ? -1 : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            ConsoleWriter.shared.write("tasker: cannot create log file in \(directory)\n", to: .stderr)
            throw ExitCode(1)
        }
        return (path, fd)
    }

    /// The task file's base name without extension, `[A-Za-z0-9._-]` only, at most 50 characters.
    static func sanitisedName(_ path: String) -> String {
        let name = RunFiles.safeName((path as NSString).lastPathComponent)
        return name.isEmpty ? "task" : name
    }

    /// `--show-plan`: prints the tasks and asks for `y`/`yes` on stdin; anything else stops the run (exit 0).
    private func confirmPlan(_ file: TaskFile) -> Bool {
        ConsoleWriter.shared.write("Execution plan for \(taskFile):\n")
        for task in file.tasks.sorted(by: { $0.id < $1.id }) {
            let what = task["type"].map { "[\($0)]" } ?? (task["command"].map { "\(task["hosts"].map { "hosts=\($0)" } ?? task["hostname"] ?? ""): \($0) \(task["arguments"] ?? "")" } ?? "return \(task["return"] ?? "")")
            ConsoleWriter.shared.write("  Task \(task.id): \(what)\n")
        }
        ConsoleWriter.shared.write("Proceed? [y/N]: ")
        ConsoleWriter.shared.flush()
        let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }

    static func timestamp() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd_HHmmss_SSSSSS"
        return formatter.string(from: Date())
    }

    private func defaultReportPath() -> String {
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        return "\(home)/TASKER/output/\(Self.sanitisedName(taskFile))_\(Self.timestamp()).json"
    }
}
