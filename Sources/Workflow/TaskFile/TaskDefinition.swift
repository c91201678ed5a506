/// One `task=` block as the reader built it: its ID, each known field as
/// written (the last value of a repeated key wins; placeholders are resolved
/// when the task runs) and every line of the block for the validator.
public struct TaskDefinition: Sendable, Equatable {
    /// A `key=value` line of the block, unknown keys included.
    public struct WrittenField: Sendable, Equatable {
        public var key: String
        public var value: String
        public var line: Int
    }

    public var id: Int
    /// The ID as written (`00`, `+5`): some reference behaviours compare the text.
    public var idText: String
    public var line: Int

    public var hostname: String?
    public var command: String?
    public var arguments: String?
    public var exec: String?
    public var timeout: String?
    public var sleep: String?
    public var success: String?
    public var failure: String?
    /// A gate on command tasks and subtasks; the branch selector of conditional blocks.
    public var condition: String?
    public var next: String?
    public var loop: String?
    public var loopBreak: String?
    public var onSuccess: String?
    public var onFailure: String?
    public var returnValue: String?
    public var stdoutSplit: String?
    public var stderrSplit: String?
    /// Accepted and without effect, as in the reference.
    public var stdoutCount: String?
    public var stderrCount: String?
    public var type: String?
    public var tasks: String?
    public var maxParallel: String?
    public var retryFailed: String?
    public var retryCount: String?
    public var retryDelay: String?
    public var ifTrueTasks: String?
    public var ifFalseTasks: String?
    public var hostnames: String?
    public var hosts: String?
    public var become: String?
    public var becomeUser: String?
    public var becomeMethod: String?
    public var serial: String?
    public var maxFailPercentage: String?
    public var batchPause: String?
    public var gate: String?
    public var abortRunning: String?

    public var written: [WrittenField]

    public init(id: Int, idText: String, line: Int, written: [WrittenField] = []) {
        self.id = id
        self.idText = idText
        self.line = line
        self.written = written
        for field in written {
            if let known = TaskField(rawValue: field.key) { self[keyPath: known.keyPath] = field.value }
        }
    }

    public subscript(field: TaskField) -> String? {
        get { self[keyPath: field.keyPath] }
        set { self[keyPath: field.keyPath] = newValue }
    }

    /// What the task is and the fields its kind reads: `type` decides, exactly as written
    /// (`type=Parallel` is a command task), then `hosts`, then a `return` without a command.
    public var body: TaskBody { TaskBody(self) }

    public var kind: TaskBody.Kind { body.kind }

    /// A field as a typed setting, when it is written.
    public func setting<Value>(_ field: TaskField) -> Setting<Value>? { self[field].map(Setting.init) }

    /// The line a field was written on, else the task's own line.
    public func line(of field: TaskField) -> Int {
        written.last { $0.key == field.rawValue }?.line ?? line
    }
}
