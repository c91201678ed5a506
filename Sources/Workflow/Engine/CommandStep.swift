import Foundation

/// One command ready to run, on the controller or on one host: what a
/// sequential task, a block's subtask and each host of a fan-out task are
/// turned into by the one builder below, and what `launch` runs.
struct CommandStep: Sendable {
    /// How a task's commands run, resolved once per task: the exec type, the timeout and the task's own become.
    struct Settings: Sendable {
        var execType: String
        var timeout: Int
        var become: TaskBecome?
    }

    var settings: Settings
    /// The task's `hostname`, or the fan-out host.
    var hostname: String
    var command: String
    var arguments: String
    /// The program and its arguments as the exec type builds them.
    var argv: [String]
    /// The work to do on `hostname` for SSH exec types; nil for a local child.
    var remote: RemoteTask?

    var timeout: Int { settings.timeout }
    var become: TaskBecome? { settings.become }
}

extension WorkflowEngine {
    /// The task's exec type, become and timeout. A fan-out task runs over SSH unless it says otherwise
    /// (`exec` → `-t` → `ssh`); other tasks as §7 orders (`exec` → `-t` → `TASK_EXECUTOR_TYPE` → …).
    func stepSettings(_ task: TaskDefinition, display: String, resolver: PlaceholderResolver,
                      fanOut: Bool = false) throws -> CommandStep.Settings {
        let execType = fanOut
            ? options.executionTypes.normalise(task.exec.map { resolver.resolve($0).text } ?? options.defaultExecType ?? ExecutionTypes.ssh)
            : try resolveExecType(task.exec, resolver: resolver)
        let become = try taskBecome(task, display: display, resolver: resolver)
        let timeout = resolveTimeout(task.setting(.timeout), execType: execType, resolver: resolver, display: display)
        return CommandStep.Settings(execType: execType, timeout: timeout, become: become)
    }

    /// `task`'s command with placeholders resolved, for `host` when the task fans out
    /// (`@inventory_hostname@` is then the host's inventory name). Tasks running at the
    /// same time share their remote work through `remoteTasks`.
    func commandStep(_ task: TaskDefinition, on host: String? = nil, settings: CommandStep.Settings, resolver: PlaceholderResolver,
                     remoteTasks: RemoteTaskCache? = nil) throws -> CommandStep {
        func expand(_ text: String?) -> String {
            let text = text ?? ""
            return resolver.resolve(host.map { text.replacingOccurrences(of: "@inventory_hostname@", with: $0) } ?? text).text
        }
        let hostname = host ?? expand(task.hostname)
        let command = expand(task.command)
        let arguments = PythonSemantics.expandVariables(expand(task.arguments), environment: options.environment)
        let argv = try CommandLineBuilder.argv(execType: settings.execType, config: options.executionTypes, command: command,
                                               arguments: arguments, hostname: hostname)
        func make() throws -> RemoteTask? {
            try RemoteTask.make(execType: settings.execType, argv: argv, command: command, arguments: arguments,
                                timeout: Double(settings.timeout))
        }
        let remote = try remoteTasks.map { try $0.task(command: command, arguments: arguments, make: make) } ?? make()
        return CommandStep(settings: settings, hostname: hostname, command: command, arguments: arguments, argv: argv, remote: remote)
    }

    /// Starts a step's command locally or, with remote work (SSH exec types), on its host over the pool,
    /// through the task's own `become` if it has one; `--output-dir` keeps its streams under
    /// `outputSubdirectory` (the task's display ID). Cancelling the calling task stops the command.
    func launch(_ step: CommandStep, outputSubdirectory: String, fanOut: Bool = false) async throws -> CommandExit {
        guard let remote = step.remote else {
            if step.become?.turnsOn == true {
                throw TaskFileError(exitCode: 20, "become=true needs an SSH exec type (\(ExecutionTypes.overSSH.joined(separator: ", "))); this task runs on the controller")
            }
            return try await ChildProcess.run(step.argv, timeout: Double(step.timeout), spillDirectory: options.temporaryDirectory)
        }
        guard let transport = options.transport else {
            throw TaskFileError(exitCode: 20, "exec=ssh needs Tasker's SSH settings (run through the tasker command)")
        }
        return await transport.run(host: step.hostname, task: remote, timeout: Double(step.timeout), become: step.become,
                             fanOut: fanOut, outputSubdirectory: outputSubdirectory, live: liveLines, events: options.events)
    }
}
