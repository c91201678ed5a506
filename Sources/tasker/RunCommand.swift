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
        Options may also be written at the top of the task file (one per line, --opt=value form); the command \
        line wins for valued options, flags combine. Not implemented yet: \
        the interactive re-check of environment globals on resume.

        Examples:
          tasker deploy.txt            (a dry run: prints what would run)
          tasker -r deploy.txt -i hosts.ini --report run.html
        """)

    @Argument(help: ArgumentHelp("The task file.", valueName: "task-file"))
    var taskFileArgument: String?

    @Flag(name: [.customShort("V"), .customLong("version")], help: "Print the TASKER version whose task files this runs, as TASKER does (TASKER v2.2.0), and exit.")
    var taskerVersion = false

    /// Given unless `-V` (checked by `validate`).
    var taskFile: String { taskFileArgument ?? "" }

    /// The task-language version TASKER's own `-V` prints.
    static let taskerLanguageVersion = "TASKER v2.2.0"

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

    @OptionGroup(title: "Run records") var records: RunRecordOptions

    @Flag(name: .long, help: "Unrouted failing tasks continue.") var fireAndForget = false
    @Flag(name: .long, help: "Strict environment checks for globals.") var strictEnvValidation = false
    @Flag(name: .long, help: "Stop after parsing and validation.") var validateOnly = false
    @Flag(name: .long, help: "Print the merged arguments and exit.") var showEffectiveArgs = false
    @Flag(name: .long, help: "Skip the task-file validator (field security checks, cross-task rules, the dependency report).") var skipTaskValidation = false
    @Flag(name: .long, help: "Skip host validation (wrapper binary, DNS, ping, connectivity test).") var skipHostValidation = false
    @Flag(name: .long, help: "Allow host names that hold placeholders not resolvable before the run.") var skipUnresolvedHostValidation = false
    @Flag(name: .long, help: "Skip host validation's check that each task's program exists (which).") var skipCommandValidation = false
    @Flag(name: .long, help: "Skip the field security checks (global sanitising stays).") var skipSecurityValidation = false
    @Flag(name: .long, help: "Suppress the subtask-range warnings.") var skipSubtaskRangeValidation = false
    @Flag(name: .long, help: "Skip task, host, command and security validation.") var skipValidation = false
    @Flag(name: .long, help: "Do not copy the task file to LOG_DIR/backup/.") var noTaskBackup = false
    @Flag(name: .long, help: "Save recovery state as tasks run, and resume from it on the next run of the same file.") var autoRecovery = false
    @Flag(name: .long, help: "Print the saved recovery state of this task file and exit.") var showRecoveryInfo = false
    @Flag(name: .long, help: "Refuse to run while another run of the same task file holds its lock.") var instanceCheck = false
    @Flag(name: .long, help: "With --instance-check: skip the lock.") var forceInstance = false
    @Flag(name: .long, help: "Print the plan after validation and run only after y or yes on stdin (anything else exits 0).") var showPlan = false
    @Flag(name: [.customShort("y"), .long], help: "Confirm the recovery environment prompt without asking (not --show-plan's).") var yes = false

    /// `--output-json` without a value asks for the default report path.
    static let defaultReportMarker = "\u{1}default"

    func validate() throws {
        if taskFileArgument == nil, !taskerVersion { throw ValidationError("Missing expected argument '<task-file>'") }
        if let logLevel, WorkflowLog.Level(name: logLevel) == nil {
            throw ValidationError("invalid --log-level '\(logLevel)' (ERROR, WARN, INFO or DEBUG)")
        }
    }

    func run() async throws {
        if taskerVersion {
            ConsoleWriter.shared.write(Self.taskerLanguageVersion + "\n")
            return
        }
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
        try await effective.runWorkflow(file)
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

    private func runWorkflow(_ file: TaskFile) async throws {
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
        var interaction = interaction()
        let records = try self.records.open(masker: log.masker, shard: try remote.shard.resolved())
        defer { records.finish() }
        interaction.eventSubscribers = records.subscribers
        let workflow = WorkflowRun(file: file, settings: settings(logFile: logFile?.path, timestamp: runTimestamp), log: log,
                                   interaction: interaction)
        let ending = try await workflow.perform()
        guard ending.exitCode != 0 else { return }
        if let failure = ending.failure, let alert {
            if run {
                let state = (autoRecovery || outputJson != nil) ? RecoveryState(taskFile: file, logDirectory: logDirectory).path : ""
                await alert.run(exitCode: ending.exitCode, error: failure.error, failedTask: failure.task, taskFile: taskFile,
                                logFile: logFile?.path ?? "", stateFile: state, log: log)
            } else {
                log.info("[DRY RUN] Would run alert script \(alert.path) (exit code \(ending.exitCode))")
            }
        }
        throw ExitCode(ending.exitCode)
    }

    /// The options of the run, as the workflow takes them.
    private func settings(logFile: String?, timestamp: String) -> WorkflowRun.Settings {
        var settings = WorkflowRun.Settings(taskFilePath: taskFile, logDirectory: logDirectory, timestamp: timestamp)
        settings.execute = run
        settings.startFrom = startFrom
        settings.fireAndForget = fireAndForget
        settings.defaultExecType = type
        settings.executionTypesFile = execConfig
        settings.project = project
        settings.reportPath = outputJson.map { $0 == Self.defaultReportMarker ? defaultReportPath() : $0 }
        settings.logFilePath = logFile
        settings.skipTaskValidation = skipTaskValidation || skipValidation
        settings.skipSecurityValidation = skipSecurityValidation
        settings.skipSubtaskRangeValidation = skipSubtaskRangeValidation
        settings.skipHostValidation = skipHostValidation || skipValidation
        settings.skipUnresolvedHostValidation = skipUnresolvedHostValidation
        settings.skipCommandValidation = skipCommandValidation
        settings.validateOnly = validateOnly
        settings.backUpTaskFile = !noTaskBackup
        settings.autoRecovery = autoRecovery
        settings.assumeYes = yes
        settings.instanceCheck = instanceCheck
        settings.forceInstance = forceInstance
        settings.showPlan = showPlan
        settings.shard = (try? remote.shard.resolved())?.description
        return settings
    }

    /// The console, Ctrl-C and the remote options, for the workflow.
    private func interaction() -> WorkflowRun.Interaction {
        let remote = self.remote
        var interaction = WorkflowRun.Interaction(
            print: { ConsoleWriter.shared.write($0) },
            printError: { ConsoleWriter.shared.write($0 + "\n", to: .stderr) },
            confirm: { question in
                ConsoleWriter.shared.write(question)
                ConsoleWriter.shared.flush()
                let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
                return answer == "y" || answer == "yes"
            },
            makeSSHRunner: { try remote.makeRunner() })
        let interrupts = InterruptHandler()
        interaction.engineStarting = { interrupt in interrupts.install(onSignal: interrupt) }
        interaction.interruptSignal = { interrupts.signal }
        interaction.engineFinished = { outcome in remote.writeRetryFile(from: outcome.results) }
        return interaction
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
