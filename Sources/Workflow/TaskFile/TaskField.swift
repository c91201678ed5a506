/// The fields a task block may have (§5.1 of the reference), with Tasker's own
/// `hosts`, and the property of `TaskDefinition` each one fills.
public enum TaskField: String, CaseIterable, Sendable {
    case hostname, command, arguments, exec, timeout, sleep
    case success, failure, condition
    case next, loop
    case loopBreak = "loop_break"
    case onSuccess = "on_success"
    case onFailure = "on_failure"
    case returnValue = "return"
    case stdoutSplit = "stdout_split"
    case stderrSplit = "stderr_split"
    case stdoutCount = "stdout_count"
    case stderrCount = "stderr_count"
    case type, tasks
    case maxParallel = "max_parallel"
    case retryFailed = "retry_failed"
    case retryCount = "retry_count"
    case retryDelay = "retry_delay"
    case ifTrueTasks = "if_true_tasks"
    case ifFalseTasks = "if_false_tasks"
    /// The hosts of a generated parallel block; not a task field name for the globals zone (§2.3).
    case hostnames
    /// Tasker's fan-out over inventory hosts.
    case hosts
    /// Tasker's become for one task (SSH exec types): on or off, as whom, how.
    case become
    case becomeUser = "become_user"
    case becomeMethod = "become_method"
    /// Tasker's rolling blocks: batches, the per-batch failure share, the pause and the gate between batches.
    case serial
    case maxFailPercentage = "max_fail_percentage"
    case batchPause = "batch_pause"
    case gate
    case abortRunning = "abort_running"

    /// Whether the reference's reader knows the name: such lines in the globals zone are skipped, not globals.
    public var isReferenceField: Bool {
        switch self {
        case .hostnames, .hosts, .become, .becomeUser, .becomeMethod, .serial, .maxFailPercentage, .batchPause, .gate, .abortRunning: false
        default: true
        }
    }

    /// What a field's value is once placeholders are resolved.
    public enum ValueType: Sendable {
        case text
        /// Python's `int()` (`TaskBody`'s `Setting<Int>`).
        case integer
        /// Python's `float()` (`Setting<Double>`).
        case number
        /// TASKER's condition language.
        case condition
        /// A task ID, or a comma-separated list of them.
        case taskIDs
        /// An inventory host pattern.
        case hostPattern
    }

    public var valueType: ValueType {
        switch self {
        case .timeout, .loop, .returnValue, .maxParallel, .retryCount, .retryDelay, .stdoutCount, .stderrCount, .maxFailPercentage: .integer
        case .sleep, .batchPause: .number
        case .success, .failure, .condition, .loopBreak: .condition
        case .onSuccess, .onFailure, .tasks, .ifTrueTasks, .ifFalseTasks, .gate: .taskIDs
        case .hosts: .hostPattern
        default: .text
        }
    }

    /// Whether `text` (placeholders resolved) is a value of the field's type, where that can be told from the text alone.
    public func accepts(_ text: String) -> Bool {
        switch valueType {
        case .integer: Int(settingText: text) != nil
        case .number: Double(settingText: text) != nil
        case .text, .condition, .taskIDs, .hostPattern: true
        }
    }

    /// The kinds of task the field has an effect on: `TaskBody` reads it for those, the engine
    /// runs it there, and the validator warns about (or refuses) it elsewhere.
    public var kinds: Set<TaskBody.Kind> {
        let commands: Set<TaskBody.Kind> = [.command, .fanOut]
        switch self {
        case .hostname: return [.command]
        // A hostnames= block runs its own command on each host.
        case .command, .arguments, .exec, .become, .becomeUser, .becomeMethod: return commands.union([.parallel])
        case .timeout, .sleep, .loop, .loopBreak, .stdoutSplit, .stderrSplit, .stdoutCount, .stderrCount: return commands
        case .success, .next, .onSuccess, .onFailure: return Set(TaskBody.Kind.allCases).subtracting([.returnOnly])
        case .failure: return commands.union([.decision])
        case .condition: return commands.union([.conditional])
        case .returnValue: return commands.union([.returnOnly])
        case .type: return Set(TaskBody.Kind.allCases)
        case .tasks: return [.parallel, .rolling]
        case .hostnames: return [.parallel]
        case .maxParallel: return [.parallel, .fanOut, .rolling]
        case .serial, .maxFailPercentage, .batchPause, .gate, .abortRunning: return [.rolling, .fanOut]
        case .retryFailed, .retryCount, .retryDelay: return [.parallel, .conditional, .fanOut]
        case .ifTrueTasks, .ifFalseTasks: return [.conditional]
        case .hosts: return [.fanOut, .rolling]
        }
    }

    /// The fields holding conditions (`next` holds a keyword or a condition and is checked apart).
    public static let conditions: [TaskField] = [.success, .failure, .condition, .loopBreak]
    public static let routing: [TaskField] = [.onSuccess, .onFailure, .next]
    /// The fields that make a `hosts=` task roll out in batches, as a one-step rolling block.
    public static let rollout: [TaskField] = [.serial, .maxFailPercentage, .batchPause, .gate, .abortRunning]

    public var keyPath: WritableKeyPath<TaskDefinition, String?> {
        switch self {
        case .hostname: \.hostname
        case .command: \.command
        case .arguments: \.arguments
        case .exec: \.exec
        case .timeout: \.timeout
        case .sleep: \.sleep
        case .success: \.success
        case .failure: \.failure
        case .condition: \.condition
        case .next: \.next
        case .loop: \.loop
        case .loopBreak: \.loopBreak
        case .onSuccess: \.onSuccess
        case .onFailure: \.onFailure
        case .returnValue: \.returnValue
        case .stdoutSplit: \.stdoutSplit
        case .stderrSplit: \.stderrSplit
        case .stdoutCount: \.stdoutCount
        case .stderrCount: \.stderrCount
        case .type: \.type
        case .tasks: \.tasks
        case .maxParallel: \.maxParallel
        case .retryFailed: \.retryFailed
        case .retryCount: \.retryCount
        case .retryDelay: \.retryDelay
        case .ifTrueTasks: \.ifTrueTasks
        case .ifFalseTasks: \.ifFalseTasks
        case .hostnames: \.hostnames
        case .hosts: \.hosts
        case .serial: \.serial
        case .maxFailPercentage: \.maxFailPercentage
        case .batchPause: \.batchPause
        case .gate: \.gate
        case .abortRunning: \.abortRunning
        case .become: \.become
        case .becomeUser: \.becomeUser
        case .becomeMethod: \.becomeMethod
        }
    }
}
