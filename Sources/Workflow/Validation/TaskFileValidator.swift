import Foundation

/// The errors and warnings of TASKER's task-file validator (§5 and §5.19 of
/// the reference). Any error ends the run with exit 20 before anything runs.
public struct ValidationReport: Sendable, Equatable {
    public var errors: [String] = []
    public var warnings: [String] = []
    public var passed: Bool { errors.isEmpty }
}

public struct TaskFileValidator {
    public struct Options: Sendable {
        public var skipSecurity = false
        public var skipSubtaskRange = false
        /// Globals a saved auto-recovery state holds values for: a resume uses those,
        /// so their environment variables may be missing now.
        public var recoveredGlobals: Set<String> = []
        /// The execution-type configuration the run uses: its types and aliases are
        /// the known exec types, as at run time. Without one the validator knows
        /// TASKER's own list (the shipped types and aliases, `cmd` not among them).
        public var executionTypes: ExecutionTypes?
        public init() {}
    }

    let file: TaskFile
    let options: Options
    let globals: [String: String]
    /// Each rolling block's steps, by step ID: the block that runs it.
    let rollingSteps: [Int: Int]
    private var report = ValidationReport()

    public init(file: TaskFile, options: Options = Options()) {
        self.file = file
        self.options = options
        globals = file.globalValues
        var steps: [Int: Int] = [:]
        for task in file.tasks.sorted(by: { $0.id < $1.id }) where task.kind == .rolling {
            for item in (task.tasks ?? "").split(separator: ",") {
                if let step = PythonSemantics.int(item.trimmingCharacters(in: .whitespaces)), steps[step] == nil { steps[step] = task.id }
            }
        }
        rollingSteps = steps
    }

    enum Kind { case normal, returnTask, parallel, conditional, decision, rolling }

    static let metacharacters = Set(";&|$`()<>\\\"'\n\r")

    public static func validate(_ file: TaskFile, options: Options = Options()) -> ValidationReport {
        var validator = TaskFileValidator(file: file, options: options)
        return validator.run()
    }

    mutating func run() -> ValidationReport {
        // Stage 2: task IDs and inline comments; errors here stop validation.
        for task in file.tasks {
            if task.idText.count > 10 || !(0...9999).contains(task.id) {
                error("task ID '\(task.idText)' must be an integer from 0 to 9999")
            }
            for field in task.written where Self.hasInlineComment(field.value) {
                error("task \(task.id): field '\(field.key)' has an inline comment (line \(field.line)); comments must be on their own line")
            }
        }
        if !report.passed { return report }
        for task in file.tasks { checkTask(task) }
        checkGaps()
        checkUndefinedReferences()
        checkReachability()
        checkUsedGlobalsWithUnsetEnvironment()
        return report
    }

    mutating func error(_ message: String) { report.errors.append(message) }
    mutating func warn(_ message: String) { report.warnings.append(message) }

    /// Whitespace directly before the value's first `#`.
    static func hasInlineComment(_ value: String) -> Bool {
        guard let hash = value.firstIndex(of: "#"), hash > value.startIndex else { return false }
        return value[value.index(before: hash)].isWhitespace
    }

    /// The validator's classification: `return` wins even over `type` (the runtime lets `type` win).
    func kind(_ task: TaskDefinition) -> Kind {
        if task.returnValue != nil { return .returnTask }
        switch task.kind {
        case .parallel: return .parallel
        case .conditional: return .conditional
        case .decision: return .decision
        // A hosts= task with serial= rolls out as a one-step block, but is checked as the fan-out task it is.
        case .rolling: return task.type == "rolling" ? .rolling : .normal
        case .command, .fanOut, .returnOnly: return .normal
        }
    }

    /// The task's kind as the fields' declarations (`TaskField.kinds`) name it, with the validator's `return` rule.
    func declaredKind(_ task: TaskDefinition) -> TaskBody.Kind {
        if kind(task) == .returnTask { return .returnOnly }
        return task.kind == .rolling && task.type != "rolling" ? .fanOut : task.kind
    }

    func isKnownExecType(_ written: String) -> Bool {
        let builtIn = ["local"] + ExecutionTypes.overSSH
        guard let configuration = options.executionTypes else {
            return (builtIn + ["shell", "pbrun", "p7s", "wwrs", "sh", "bash", "/bin/sh", "/bin/bash"]).contains(written.lowercased())
        }
        let type = configuration.normalise(written)
        return builtIn.contains(type) || configuration.types[type] != nil
    }

    /// `text` with globals substituted, or nil while it still holds a task-result placeholder
    /// (such a value is judged when the task runs).
    func settled(_ text: String) -> String? {
        let value = withGlobals(text)
        return PlaceholderResolver.matches(PlaceholderResolver.resultPattern, in: value).isEmpty ? value : nil
    }

    /// Globals substituted, task-result placeholders left alone: what the validator checks against.
    func withGlobals(_ text: String) -> String {
        PlaceholderResolver(globals: globals).resolve(text).text
    }

    // MARK: Per task

    private mutating func checkTask(_ task: TaskDefinition) {
        let id = task.id
        let kind = kind(task)
        let fansOut = task.hosts != nil && kind != .rolling
        // A rolling block's step runs on the block's hosts.
        let isStep = rollingSteps[id] != nil
        for field in task.written {
            checkGlobalsDefined(fansOut || isStep ? field.value.replacingOccurrences(of: "@inventory_hostname@", with: "") : field.value,
                                task: id, field: field.key)
        }
        for field in task.written where TaskField(rawValue: field.key) == nil {
            warn("task \(id): unknown field '\(field.key)'")
        }
        if id >= 1000 { warn("task \(id): high task ID") }
        for field in [TaskField.retryFailed, .retryCount, .retryDelay]
        where task[field] != nil && !field.kinds.contains(declaredKind(task)) && !isStep {
            warn("task \(id): \(field.rawValue) only has an effect on parallel and conditional blocks")
        }
        if kind == .decision {
            for field in [TaskField.exec, .stdoutSplit, .stderrSplit, .stdoutCount, .stderrCount] where task[field] != nil {
                warn("task \(id): \(field.rawValue) is ignored on a decision block")
            }
            if TaskField.routing.allSatisfy({ task[$0] == nil }) {
                warn("task \(id): decision block without on_success, on_failure or next")
            }
        }
        // `exec=ssh_shell` hands the command line to the remote shell: spaces and shell syntax are its point.
        let execType = task.exec.map { withGlobals($0).lowercased() }
        let remoteShell = execType == ExecutionTypes.sshShell
        // A push's or pull's command lists paths.
        let commandIsPaths = execType == ExecutionTypes.sshPush || execType == ExecutionTypes.sshPull
        if let command = task.command, kind == .normal, !remoteShell, !commandIsPaths, withGlobals(command).contains(" ") {
            warn("task \(id): command contains spaces (it is not split into words; use arguments)")
        }
        if let exec = task.exec, exec != "local", !remoteShell, !commandIsPaths, let command = task.command,
           command.contains(where: Self.metacharacters.contains) {
            warn("task \(id): remote exec with shell metacharacters in the command")
        }
        if let command = task.command?.lowercased(), ["sudo", "su ", "chmod", "chown", "passwd"].contains(where: command.contains) {
            warn("task \(id): command uses privilege-related words")
        }
        if let exec = task.exec {
            if !isKnownExecType(withGlobals(exec)) { warn("task \(id): unknown exec type '\(exec)'") }
        }
        if let timeout = task.timeout.flatMap({ PythonSemantics.int(withGlobals($0)) }), !(5...1000).contains(timeout) {
            warn("task \(id): timeout \(timeout) is outside 5-1000 and will be clamped")
        }
        if let sleep = task.sleep.flatMap({ PythonSemantics.float(withGlobals($0)) }), sleep < 0 {
            warn("task \(id): negative sleep is ignored")
        }
        if task.written.count + 3 > 25 { warn("task \(id): many fields (\(task.written.count))") }

        switch kind {
        case .normal where isStep:
            checkStep(task, block: rollingSteps[id]!)
        case .normal where fansOut:
            checkFanOut(task)
            if TaskField.rollout.contains(where: { task[$0] != nil }) { checkRolloutSettings(task) }
        case .rolling:
            checkRolling(task)
        case .normal:
            if task.hostname == nil { error("task \(id): missing required field 'hostname'") }
            if task.command == nil { error("task \(id): missing required field 'command'") }
        case .parallel:
            checkParallel(task)
        case .conditional:
            checkConditional(task)
        case .decision:
            checkDecision(task)
        case .returnTask:
            if let value = task.returnValue, PythonSemantics.int(withGlobals(value)) == nil {
                error("task \(id): invalid return value '\(value)'")
            }
        }
        if fansOut, kind != .normal { error("task \(id): hosts= is only valid on a task with a command (not on blocks or return tasks)") }
        if (kind == .normal && !fansOut && !isStep) || kind == .returnTask {
            let command = withGlobals(task.command ?? "")
            let hostname = withGlobals(task.hostname ?? "")
            let execIsLocal = task.exec?.lowercased() == "local"
            if kind == .normal, command.isEmpty || (hostname.isEmpty && !execIsLocal) {
                error("task \(id): cannot run: it needs a non-empty command and a hostname (or exec=local)")
            }
            if task.hostname != nil, hostname.isEmpty, task.exec != "local" {
                error("task \(id): empty hostname requires exec=local")
            }
        }
        let aggregateSuccess = fansOut && task.success.flatMap(AggregateCondition.judgingOutcomes) != nil
        if task.success != nil, task.failure != nil, !aggregateSuccess {
            error("task \(id): success and failure cannot both be set")
        }
        checkRouting(task, kind: kind)
        checkBecome(task, kind: kind)
        checkFileTask(task, execType: execType)
        checkNumbers(task, kind: kind)
        for field in [TaskField.stdoutSplit, .stderrSplit] {
            if let spec = task[field] {
                let parts = spec.split(separator: ",", omittingEmptySubsequences: false)
                if parts.count != 2 || PythonSemantics.int(String(parts[1])) == nil {
                    error("task \(id): invalid \(field.rawValue) '\(spec)' (expected DELIMITER,INDEX)")
                }
            }
        }
        for field in TaskField.conditions {
            guard let condition = task[field] else { continue }
            if kind == .parallel || kind == .conditional || kind == .rolling, field == .success { continue }
            if aggregateSuccess, field == .success {
                // A one-step rollout's budget may also be a share of the hosts (max_failed=10%).
                if task.kind == .rolling { checkBudget(task) } else { checkAggregate(condition, task: id, field: field.rawValue) }
                continue
            }
            checkCondition(condition, task: id, field: field.rawValue)
        }
        if !options.skipSecurity { checkSecurity(task, kind: kind) }
    }

    private mutating func checkRouting(_ task: TaskDefinition, kind: Kind) {
        let id = task.id
        let next = task.next
        if next != nil, task.onSuccess != nil || task.onFailure != nil {
            error("task \(id): next cannot be combined with on_success/on_failure")
        }
        for field in [TaskField.onSuccess, .onFailure] {
            guard let value = task[field] else { continue }
            let key = field.rawValue
            guard let target = PythonSemantics.int(value) else {
                error("task \(id): \(key) must be a task ID, got '\(value)'")
                continue
            }
            if !(0...9999).contains(target) { error("task \(id): \(key) target \(target) is outside 0-9999") }
            if target <= id { error("task \(id): \(key) target \(target) must be greater than the task's own ID") }
        }
        if let next {
            let isBlock = kind == .parallel || kind == .conditional || kind == .rolling
            if PythonSemantics.int(next) != nil {
                error("task \(id): next=\(next): direct task jumping is not supported (use on_success/on_failure)")
            } else if next == "loop" {
                if task.loop == nil { error("task \(id): next=loop requires loop") }
            } else if let aggregate = AggregateCondition.judgingOutcomes(next) {
                if !isBlock { error("task \(id): next=\(next) is only valid on parallel and conditional blocks") }
                else if case .bound = aggregate { checkAggregate(next, task: id, field: "next") }
            } else if !["never", "always", "success"].contains(next) {
                checkCondition(next, task: id, field: "next")
            }
        }
        if task.loop != nil, next != "loop" { error("task \(id): loop requires next=loop") }
    }

    /// `exec=ssh_push` and `exec=ssh_pull`: their options and destination, once globals are in
    /// (values from earlier tasks' results are judged when the task runs).
    private mutating func checkFileTask(_ task: TaskDefinition, execType: String?) {
        guard execType == ExecutionTypes.sshPush || execType == ExecutionTypes.sshPull else { return }
        guard let writtenCommand = task.command, let writtenArguments = task.arguments else {
            return error("task \(task.id): exec=\(execType!) needs command= (the sources) and arguments= (the destination)")
        }
        guard let command = settled(writtenCommand), let arguments = settled(writtenArguments) else { return }
        do {
            if execType == ExecutionTypes.sshPush {
                _ = try RemoteTask.pushRequest(command: command, arguments: arguments)
            } else {
                _ = try RemoteTask.pullRequest(command: command, arguments: arguments)
            }
        } catch {
            self.error("task \(task.id): \(error)")
        }
    }

    /// Tasker's `become`, `become_user`, `become_method`: values that can be judged once globals
    /// are in, and only where a command runs over SSH (a hostnames= block hands them to its subtasks).
    private mutating func checkBecome(_ task: TaskDefinition, kind: Kind) {
        let fields = [TaskField.become, .becomeUser, .becomeMethod].filter { task[$0] != nil }
        guard !fields.isEmpty else { return }
        let id = task.id
        let runsCommand = kind == .normal || (kind == .parallel && task.hostnames != nil)
        if !runsCommand || task.command == nil {
            error("task \(id): \(fields.map(\.rawValue).joined(separator: ", ")) only apply to a task that runs a command")
            return
        }
        let become: TaskBecome?
        do {
            become = try TaskBecome.of(task) { settled($0) }
        } catch let failure as TaskFileError {
            return error("task \(id): \(failure.message)")
        } catch {
            return self.error("task \(id): \(error)")
        }
        if become?.turnsOn == true, let exec = task.exec.flatMap(settled),
           !ExecutionTypes.isSSH(options.executionTypes?.normalise(exec) ?? exec.lowercased()) {
            error("task \(id): become=true needs an SSH exec type (\(ExecutionTypes.overSSH.joined(separator: ", "))), not exec=\(exec)")
        }
    }

    private mutating func checkNumbers(_ task: TaskDefinition, kind: Kind) {
        let id = task.id
        if let loop = task.loop {
            if let count = PythonSemantics.int(withGlobals(loop)), (1...1000).contains(count) {
                if count > 100 { warn("task \(id): loop=\(count) is high") }
            } else {
                error("task \(id): loop must be an integer from 1 to 1000, got '\(loop)'")
            }
        }
        if let timeout = task.timeout {
            if !TaskField.timeout.kinds.contains(declaredKind(task)) || task.command == nil {
                error("task \(id): timeout is not allowed on blocks, return tasks or tasks without a command")
            } else if !TaskField.timeout.accepts(withGlobals(timeout)) {
                error("task \(id): timeout must be an integer, got '\(timeout)'")
            }
        }
        if let sleep = task.sleep, !TaskField.sleep.accepts(withGlobals(sleep)) {
            error("task \(id): sleep must be a number, got '\(sleep)'")
        }
    }

    // MARK: Blocks

    func list(_ text: String?) -> (ids: [Int], valid: Bool) {
        guard let text else { return ([], false) }
        var ids: [Int] = []
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            guard let id = PythonSemantics.int(item) else { return (ids, false) }
            ids.append(id)
        }
        return (ids, !ids.isEmpty)
    }

    mutating func checkAggregate(_ text: String, task id: Int, field: String) {
        switch AggregateCondition(text) {
        case .allSuccess?, .anySuccess?, .majoritySuccess?:
            return
        case let .bound(bound, n?)? where n >= 0:
            if n == 0, bound == .minSuccess || bound == .minFailed { warn("task \(id): \(text) is always true") }
        default:
            error("task \(id): invalid aggregate condition \(field)=\(text)")
        }
    }

    private mutating func checkSubtasks(_ ids: [Int], block id: Int) {
        for subtaskID in ids {
            guard let subtask = file.task(subtaskID) else { continue }
            if subtaskID == id { error("task \(id): a block cannot run itself") }
            if subtask.kind == .parallel || subtask.kind == .conditional { error("task \(id): block subtask \(subtaskID) is itself a block (no nesting)") }
            if subtask.loop != nil || subtask.loopBreak != nil { error("task \(id): subtask \(subtaskID) cannot loop") }
            if subtask.hosts != nil { error("task \(id): subtask \(subtaskID) has hosts= (a fan-out task cannot be a block subtask)") }
            if subtask.onSuccess != nil || subtask.onFailure != nil || subtask.next != nil {
                error("task \(id): subtask \(subtaskID) cannot have routing (next, on_success, on_failure)")
            }
            if !options.skipSubtaskRange, id * 100 + 99 <= 999, !(id * 100...id * 100 + 99).contains(subtaskID) {
                warn("task \(id): subtask \(subtaskID) is outside the recommended range \(id * 100)-\(id * 100 + 99)")
            }
        }
    }

    private mutating func checkBlockCommon(_ task: TaskDefinition) {
        if task.failure != nil { error("task \(task.id): blocks cannot use failure") }
        if let success = task.success { checkAggregate(success, task: task.id, field: "success") }
        checkRetrySettings(task)
    }

    /// A task with `hosts=` (Tasker's fan-out over inventory hosts).
    private mutating func checkFanOut(_ task: TaskDefinition) {
        let id = task.id
        if task.hostname != nil { error("task \(id): hosts and hostname cannot both be set") }
        if (task.command ?? "").isEmpty { error("task \(id): a hosts= task needs a command") }
        if (task.hosts ?? "").trimmingCharacters(in: .whitespaces).isEmpty { error("task \(id): hosts= needs a host pattern") }
        if let value = task.maxParallel, (PythonSemantics.int(withGlobals(value)) ?? 0) < 1 {
            error("task \(id): max_parallel must be an integer of at least 1")
        }
        checkRetrySettings(task)
    }

    private mutating func checkRetrySettings(_ task: TaskDefinition) {
        for field in [TaskField.retryCount, .retryDelay] {
            guard let value = task[field] else { continue }
            guard let number = PythonSemantics.int(withGlobals(value)), number >= (field == .retryCount ? 1 : 0),
                  field == .retryDelay || number <= 1000 else {
                error("task \(task.id): invalid \(field.rawValue) '\(value)'")
                continue
            }
        }
    }

    private mutating func checkParallel(_ task: TaskDefinition) {
        let id = task.id
        checkBlockCommon(task)
        let hasTasks = task.tasks != nil
        let hasHosts = task.hostnames != nil
        if hasTasks == hasHosts { error("task \(id): a parallel block needs exactly one of tasks and hostnames") }
        if hasTasks {
            let (ids, valid) = list(task.tasks)
            if !valid { error("task \(id): invalid tasks list '\(task.tasks ?? "")'") }
            checkSubtasks(ids, block: id)
        }
        if hasHosts {
            let hosts = (task.hostnames ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if !(2...1000).contains(hosts.count) { error("task \(id): hostnames needs 2 to 1000 entries") }
            if task.command == nil { error("task \(id): a hostnames block needs a command") }
            for host in hosts where !Self.isValidHostEntry(host) {
                error("task \(id): hostnames entry '\(host)' is not a valid IPv4 address or host name")
            }
        }
        if task.timeout != nil { error("task \(id): timeout is not allowed on blocks") }
        if let value = task.maxParallel {
            if let workers = PythonSemantics.int(value), workers >= 1 {
                if workers > 20 { warn("task \(id): max_parallel=\(workers) is high") }
                if hasTasks, workers > list(task.tasks).ids.count { warn("task \(id): max_parallel exceeds the number of subtasks") }
            } else {
                error("task \(id): max_parallel must be an integer of at least 1")
            }
        }
    }

    private mutating func checkConditional(_ task: TaskDefinition) {
        let id = task.id
        checkBlockCommon(task)
        if task.condition == nil { error("task \(id): a conditional block needs a condition") }
        for field in [TaskField.ifTrueTasks, .ifFalseTasks] {
            let (ids, valid) = list(task[field])
            if !valid { error("task \(id): \(field.rawValue) is missing, empty or invalid") }
            checkSubtasks(ids, block: id)
        }
    }

    private mutating func checkDecision(_ task: TaskDefinition) {
        let id = task.id
        if (task.success == nil) == (task.failure == nil) { error("task \(id): a decision block needs exactly one of success and failure") }
        for field in [TaskField.command, .hostname, .timeout] where task[field] != nil {
            error("task \(id): a decision block cannot have \(field.rawValue)")
        }
        if task.written.contains(where: { $0.key == "arguments" }) { error("task \(id): a decision block cannot have arguments") }
    }

    // MARK: Conditions and globals

    private mutating func checkGlobalsDefined(_ value: String, task id: Int, field: String) {
        for groups in PlaceholderResolver.matches(PlaceholderResolver.globalPattern, in: value) {
            let name = groups[1]
            if name.lowercased() == "task", TaskField(rawValue: field).map({ TaskField.conditions.contains($0) || $0 == .next }) != true { continue }
            if globals[name] == nil { error("task \(id): field '\(field)' uses undefined global variable @\(name)@") }
        }
    }

    private mutating func checkCondition(_ raw: String, task id: Int, field: String) {
        let check = Condition(withGlobals(raw).trimmingCharacters(in: .whitespaces)).checkSyntax()
        if let code = check.unusualExitCode { warn("task \(id): unusual exit code \(code) in \(field)") }
        if let problem = check.problem { error("task \(id): invalid condition \(field)=\(raw): \(problem)") }
    }

    // MARK: Security (§5.18)

    private mutating func checkSecurity(_ task: TaskDefinition, kind: Kind) {
        let id = task.id
        let context = withGlobals(task.exec ?? "local").lowercased()
        // `exec=ssh` runs the argv on the host quoted word by word: the same strict rules as local;
        // `exec=ssh_shell` asks for the remote shell, as `exec=shell` does locally.
        let shell = ["shell", "sh", "bash", "/bin/sh", "/bin/bash", "ssh_shell"].contains(context)
        // A push's or pull's command lists paths, split into words without a shell: quotes may group
        // a path with spaces; anything that looks like an injection is still refused.
        let paths = context == ExecutionTypes.sshPush || context == ExecutionTypes.sshPull
        if let command = task.command, !shell {
            let value = withGlobals(command)
            let quotes: Set<Character> = ["\"", "'"]
            let refused = paths ? Self.metacharacters.subtracting(quotes) : Self.metacharacters
            if value.contains(where: refused.contains) || GlobalVariableRules.injectionPattern(in: value) {
                error("task \(id): task field security error in 'command' (shell metacharacters need exec=shell)")
            }
        }
        if let hostname = task.hostname, !hostname.contains("@"), hostname.count > 253 {
            error("task \(id): hostname longer than 253 characters")
        }
        if let command = task.command, !command.contains("@"), command.count > 4096 {
            error("task \(id): command longer than 4096 characters")
        }
        for field in task.written where !["hostname", "command", "arguments"].contains(field.key) && field.value.count > 10000 {
            error("task \(id): field '\(field.key)' longer than 10000 characters")
        }
        if let hostname = task.hostname {
            let value = withGlobals(hostname)
            if value.contains(where: Self.metacharacters.contains) || GlobalVariableRules.injectionPattern(in: value) {
                error("task \(id): task field security error in 'hostname'")
            }
        }
        if let arguments = task.arguments, !arguments.isEmpty {
            let value = withGlobals(arguments)
            let exempt = value.hasPrefix("-c ") && (value.contains("\"") || value.contains("'"))
            if !shell, !exempt, GlobalVariableRules.injectionPattern(in: value) {
                error("task \(id): task field security error in 'arguments' (injection pattern)")
            }
            if GlobalVariableRules.traversalPattern(in: value) != nil {
                error("task \(id): task field security error in 'arguments' (path traversal)")
            }
            if arguments.count > 2000 { error("task \(id): arguments longer than 2000 characters") }
        }
    }

    // MARK: Whole file (§5.19)

    /// IDs named by on_* targets and task-result placeholders in any field.
    private func referenced() -> Set<Int> {
        var ids: Set<Int> = []
        for task in file.tasks {
            // A rolling block's gate runs between its batches.
            for target in [task.onSuccess, task.onFailure, task.gate].compactMap({ $0.flatMap(PythonSemantics.int) }) { ids.insert(target) }
            for field in task.written {
                for groups in PlaceholderResolver.matches(PlaceholderResolver.resultPattern, in: field.value) {
                    let kinds = ["stdout", "stderr", "success", "exit", "hosts", "succeeded_hosts", "failed_hosts", "touched_hosts", "untouched_hosts"]
                    if let id = Int(groups[1]), kinds.contains(groups[2].lowercased()) { ids.insert(id) }
                }
            }
        }
        return ids
    }

    private func blockLists() -> (parallel: Set<Int>, conditional: Set<Int>) {
        var parallel: Set<Int> = []
        var conditional: Set<Int> = []
        for task in file.tasks where kind(task) == .parallel || kind(task) == .rolling { parallel.formUnion(list(task.tasks).ids) }
        for task in file.tasks where kind(task) == .conditional {
            conditional.formUnion(list(task.ifTrueTasks).ids)
            conditional.formUnion(list(task.ifFalseTasks).ids)
        }
        return (parallel, conditional)
    }

    private mutating func checkGaps() {
        let ids = file.tasks.map(\.id).sorted()
        let lists = blockLists()
        let mentioned = referenced().union(lists.parallel).union(lists.conditional)
        for (a, b) in zip(ids, ids.dropFirst()) where b - a >= 2 {
            // [QUIRK] task a is found by its ID text.
            let previous = file.tasks.first { $0.idText == String(a) }
            let routed = [TaskField.onSuccess, .onFailure, .next, .returnValue].contains { previous?[$0] != nil }
            if mentioned.contains(b) || routed || (90...99).contains(b) || (100...999).contains(b) { continue }
            error("task sequence has gaps (after task \(a) comes task \(b), which nothing routes to)")
        }
    }

    private mutating func checkUndefinedReferences() {
        let defined = Set(file.tasks.map(\.id))
        let lists = blockLists()
        for id in referenced().subtracting(defined).sorted() { error("task \(id) is referenced but not defined") }
        for id in lists.parallel.subtracting(defined).sorted() { error("task \(id) is referenced by a parallel block but not defined") }
        for id in lists.conditional.subtracting(defined).sorted() { error("task \(id) is referenced by a conditional block but not defined") }
    }

    /// Breadth-first from the lowest ID over T→T+1 (unless routed, returning or a P/C block), on_* targets and block lists.
    private mutating func checkReachability() {
        let defined = Set(file.tasks.map(\.id))
        guard let start = defined.min() else { return }
        var reached: Set<Int> = [start]
        var queue = [start]
        while !queue.isEmpty {
            let id = queue.removeFirst()
            guard let task = file.task(id) else { continue }
            var edges: [Int] = []
            let routed = task.onSuccess != nil || task.onFailure != nil || task.returnValue != nil
            if !routed, task.kind != .parallel, task.kind != .conditional, task.kind != .rolling, rollingSteps[id] == nil { edges.append(id + 1) }
            edges += [task.onSuccess, task.onFailure].compactMap { $0.flatMap(PythonSemantics.int) }
            if task.kind == .parallel || task.kind == .rolling { edges += list(task.tasks).ids }
            if task.kind == .rolling, !routed {
                let steps = Set(list(task.tasks).ids)
                var next = id + 1
                while steps.contains(next) { next += 1 }
                edges.append(next)
            }
            if task.kind == .conditional { edges += list(task.ifTrueTasks).ids + list(task.ifFalseTasks).ids }
            for edge in edges where defined.contains(edge) && reached.insert(edge).inserted { queue.append(edge) }
        }
        let lists = blockLists()
        let mentioned = referenced().union(lists.parallel).union(lists.conditional)
        for id in defined.subtracting(reached).sorted() {
            if mentioned.contains(id) {
                if !(90...99).contains(id), !(100...999).contains(id) {
                    warn("task \(id) is referenced but not reachable from the start task")
                }
            } else {
                warn("task \(id) is unreachable and never referenced")
            }
        }
    }

    private mutating func checkUsedGlobalsWithUnsetEnvironment() {
        var used: Set<String> = []
        for task in file.tasks {
            for field in task.written {
                for groups in PlaceholderResolver.matches(PlaceholderResolver.globalPattern, in: field.value) { used.insert(groups[1]) }
            }
        }
        for variable in file.globals where used.contains(variable.name) && !variable.unsetReferences.isEmpty
            && !options.recoveredGlobals.contains(variable.name) {
            error("environment variable expansion failed for used global \(variable.name): $\(variable.unsetReferences[0]) is not set")
        }
        for variable in file.globals where !used.contains(variable.name) {
            let shown = WorkflowLog.isSecretName(variable.name) ? "<masked len=\(variable.value.count)>" : variable.value
            warn("unused global variable \(variable.name)=\(shown)")
        }
    }
}

extension TaskFileValidator {
    /// The informational dependency report (phase 14): placeholders in `condition`
    /// and `arguments` that name a missing task or a task that has not run yet.
    public static func dependencyIssues(_ file: TaskFile) -> [String] {
        // The resolver's grammar; the reference reports only whole-task stdout, stderr, success and exit.
        let reported: Set<String> = ["stdout", "stderr", "success", "exit"]
        var issues: [String] = []
        for task in file.tasks {
            for field in [TaskField.condition, .arguments] {
                guard let value = task[field] else { continue }
                let key = field.rawValue
                for groups in PlaceholderResolver.matches(PlaceholderResolver.resultPattern, in: value)
                where reported.contains(groups[2]) && groups[3].isEmpty {
                    guard let referenced = Int(groups[1]) else { continue }
                    if file.task(referenced) == nil {
                        issues.append("Task \(task.id) references non-existent task \(referenced) in \(key)")
                    } else if referenced >= task.id {
                        issues.append("Task \(task.id) references future task \(referenced) in \(key)")
                    }
                }
            }
        }
        return issues
    }
}

extension TaskFileValidator {
    /// A `hostnames=` entry: a dotted quad must be an IPv4 address (octets 0-255);
    /// anything else must be an RFC 1123 host name of at most 253 characters.
    static func isValidHostEntry(_ host: String) -> Bool {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) {
            return parts.allSatisfy { part in part.count <= 3 && Int(part).map { $0 <= 255 } == true }
        }
        guard !host.isEmpty, host.count <= 253 else { return false }
        return host.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            (1...63).contains(label.count) && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
