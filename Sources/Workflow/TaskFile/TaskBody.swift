/// What a task is, by kind, with the fields that kind reads: the one
/// classification the engine dispatches on (the validator reads it too, with
/// TASKER's one difference: for it, `return` wins over `type`). Built from the
/// task's fields as written; placeholders in them are resolved when the task runs.
public enum TaskBody: Sendable, Equatable {
    /// A command on the controller or on its `hostname` (also with a `return` after it).
    case command(Command)
    /// Tasker's `hosts=`: the command on every inventory host the pattern selects.
    case fanOut(FanOut)
    /// `return=` without a command: ends the run with that code.
    case returnOnly(Setting<Int>)
    case parallel(Parallel)
    case conditional(Conditional)
    case decision
    /// Tasker's `type=rolling`: each host runs the steps in order, in batches, within a failure budget.
    case rolling(Rolling)

    public enum Kind: String, Sendable, CaseIterable {
        case command, fanOut, returnOnly, parallel, conditional, decision, rolling
    }

    public struct Command: Sendable, Equatable {
        public var timeout: Setting<Int>?
        public var sleep: Setting<Double>?
        public var returnValue: Setting<Int>?
    }

    public struct FanOut: Sendable, Equatable {
        public var hosts: String
        public var timeout: Setting<Int>?
        public var sleep: Setting<Double>?
        public var maxParallel: Setting<Int>?
        public var retry: Retry?
        public var returnValue: Setting<Int>?
    }

    /// `retry_count`/`retry_delay` (or `retry_failed=true`): failed subtasks or hosts run again.
    public struct Retry: Sendable, Equatable {
        /// Retries after the first attempt (default 1).
        public var count: Setting<Int>
        /// Seconds between attempts (default 1).
        public var delay: Setting<Int>

        public init(count: Setting<Int>, delay: Setting<Int>) {
            self.count = count
            self.delay = delay
        }

        /// The task's retry settings; nil when it has none (`retry_count` or `retry_failed=true`).
        public init?(of task: TaskDefinition) {
            guard task.retryCount != nil || task.retryFailed?.lowercased() == "true" else { return nil }
            self.init(count: Setting(task.retryCount ?? "1"), delay: Setting(task.retryDelay ?? "1"))
        }
    }

    public struct Parallel: Sendable, Equatable {
        public enum Subtasks: Sendable, Equatable {
            /// `tasks=`: task IDs as written (validated when the block runs).
            case listed(String)
            /// `hostnames=`: the block's own command once per host.
            case perHost([String])
        }

        public var subtasks: Subtasks?
        public var maxParallel: Setting<Int>?
        public var retry: Retry?
    }

    public struct Conditional: Sendable, Equatable {
        public var condition: String?
        public var ifTrueTasks: String?
        public var ifFalseTasks: String?
        public var retry: Retry?
    }

    public struct Rolling: Sendable, Equatable {
        public enum Steps: Sendable, Equatable {
            /// A `type=rolling` block's `tasks=` as written.
            case listed(String?)
            /// A `hosts=` task with `serial=` (or another rollout field) is its own one step.
            case itself
        }

        public var hosts: String?
        /// The per-host pipeline.
        public var steps: Steps
        public var serial: String?
        public var maxParallel: Setting<Int>?
        /// The failure budget (`success=`), `all_success` when not given.
        public var criterion: String?
        public var maxFailPercentage: Setting<Int>?
        public var batchPause: Setting<Double>?
        /// A task run after each batch; a failure stops the rollout.
        public var gate: Setting<Int>?
        /// When the budget is spent, cancel running hosts instead of letting them finish.
        public var abortRunning: Bool

        init(_ task: TaskDefinition, steps: Steps, criterion: String?) {
            hosts = task.hosts
            self.steps = steps
            serial = task.serial
            maxParallel = task.setting(.maxParallel)
            self.criterion = criterion
            maxFailPercentage = task.setting(.maxFailPercentage)
            batchPause = task.setting(.batchPause)
            gate = task.setting(.gate)
            abortRunning = task.abortRunning?.lowercased() == "true"
        }
    }

    public init(_ task: TaskDefinition) {
        func setting<Value>(_ field: TaskField) -> Setting<Value>? { task.setting(field) }
        let retry = Retry(of: task)
        switch task.type {
        case "parallel":
            let subtasks: Parallel.Subtasks? = task.hostnames.map { hostnames in
                .perHost(hostnames.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            } ?? task.tasks.map { .listed($0) }
            self = .parallel(Parallel(subtasks: subtasks, maxParallel: setting(.maxParallel), retry: retry))
        case "conditional":
            self = .conditional(Conditional(condition: task.condition, ifTrueTasks: task.ifTrueTasks, ifFalseTasks: task.ifFalseTasks,
                                            retry: retry))
        case "decision":
            self = .decision
        case "rolling":
            self = .rolling(Rolling(task, steps: .listed(task.tasks), criterion: task.success))
        default:
            if task.hosts != nil, TaskField.rollout.contains(where: { task[$0] != nil }) {
                // The task's success is its budget when it is an aggregate form, else each host's condition.
                self = .rolling(Rolling(task, steps: .itself, criterion: task.success.flatMap { AggregateCondition.judgingOutcomes($0) == nil ? nil : $0 }))
            } else if let hosts = task.hosts {
                self = .fanOut(FanOut(hosts: hosts, timeout: setting(.timeout), sleep: setting(.sleep), maxParallel: setting(.maxParallel),
                                      retry: retry, returnValue: setting(.returnValue)))
            } else if let returnValue = task.returnValue, (task.command ?? "").isEmpty {
                self = .returnOnly(Setting(returnValue))
            } else {
                self = .command(Command(timeout: setting(.timeout), sleep: setting(.sleep), returnValue: setting(.returnValue)))
            }
        }
    }

    public var kind: Kind {
        switch self {
        case .command: .command
        case .fanOut: .fanOut
        case .returnOnly: .returnOnly
        case .parallel: .parallel
        case .conditional: .conditional
        case .decision: .decision
        case .rolling: .rolling
        }
    }
}

/// A field's text as written and, once its placeholders are resolved, its typed value
/// (so `timeout=@T@` works where `T` is a global or an earlier task's output).
public struct Setting<Value: SettingValue>: Sendable, Equatable {
    public var text: String

    public init(_ text: String) {
        self.text = text
    }

    public enum Reading: Sendable, Equatable {
        case value(Value)
        /// A placeholder in it is not resolved (yet).
        case unresolved
        /// Resolved, but not a `Value`: the resolved text.
        case invalid(String)
    }

    /// The value with placeholders resolved, or why there is none.
    public func read(_ resolver: PlaceholderResolver) -> Reading {
        let (resolved, complete) = resolver.resolve(text)
        guard complete else { return .unresolved }
        return Value(settingText: resolved).map { .value($0) } ?? .invalid(resolved)
    }

    /// The value with placeholders resolved; nil when one is left unresolved or the text is not a `Value`.
    public func value(_ resolver: PlaceholderResolver) -> Value? {
        if case .value(let value) = read(resolver) { return value }
        return nil
    }

    /// The value of the text as written, placeholders and all (where TASKER reads a field without resolving it).
    public var literal: Value? { Value(settingText: text) }
}

/// What a setting's text may hold, read as TASKER (Python) reads it.
public protocol SettingValue: Sendable, Equatable {
    init?(settingText: String)
}

extension Int: SettingValue {
    public init?(settingText: String) {
        guard let value = PythonSemantics.int(settingText) else { return nil }
        self = value
    }
}

extension Double: SettingValue {
    public init?(settingText: String) {
        guard let value = PythonSemantics.float(settingText) else { return nil }
        self = value
    }
}
