/// One thing a run did, at `offset` milliseconds after it started: the run's
/// spine. `FleetRunner`, the jobs and the workflow engine emit these; the
/// console, `--json`, the journal and the report only read them.
///
/// Encoded as one flat JSON object: `type` (the kind's name), `t_ms` and the
/// kind's own fields, so a journal line reads as
/// `{"connect_ms":12,"host":"web1","t_ms":40,"type":"host_connected","via":[]}`.
public struct RunEvent: Sendable, Equatable {
    /// Milliseconds since the run started (`t_ms`), on the monotonic clock.
    public var offset: Int
    public var kind: Kind

    public init(offset: Int, _ kind: Kind) {
        self.offset = offset
        self.kind = kind
    }

    public enum Kind: Sendable, Equatable {
        case runStarted(RunStart)
        case hostConnecting(HostConnecting)
        case hostConnected(HostConnected)
        case hostConnectFailed(HostConnectFailed)
        case commandStarted(CommandStarted)
        case commandEnded(CommandEnded)
        case transferProgress(TransferProgress)
        /// A host's work is done, whatever happened to it: its whole record.
        case hostEnded(HostRecord)
        case taskStarted(TaskStarted)
        case taskEnded(TaskEnded)
        /// A rolling block starts one of its batches.
        case batchStarted(BatchStarted)
        case routed(Routed)
        case runEnded(RunSummary)

        /// The `type` word of the encoded event.
        public var name: String {
            switch self {
            case .runStarted: return "run_started"
            case .hostConnecting: return "host_connecting"
            case .hostConnected: return "host_connected"
            case .hostConnectFailed: return "host_failed_to_connect"
            case .commandStarted: return "command_started"
            case .commandEnded: return "command_ended"
            case .transferProgress: return "transfer_progress"
            case .hostEnded: return "host_ended"
            case .taskStarted: return "task_started"
            case .taskEnded: return "task_ended"
            case .batchStarted: return "batch_started"
            case .routed: return "routed"
            case .runEnded: return "run_ended"
            }
        }

        /// Events a full queue may drop: they only update what later events state in full.
        var isDroppable: Bool {
            if case .transferProgress = self { return true }
            return false
        }
    }
}

// MARK: Payloads

extension RunEvent {
    /// What the run is: Tasker's version, the command line (secrets masked),
    /// the operation and what it runs, how many targets, and when (wall clock).
    public struct RunStart: Codable, Sendable, Equatable {
        public var version: String
        /// `exec`, `push`, `pull`, `script` or `workflow`.
        public var operation: String
        public var commandLine: [String]
        /// The command (joined `-c` commands), the pushed sources, the script, or the task file.
        public var subject: String
        public var targets: Int
        /// ISO 8601 with milliseconds, UTC.
        public var startedAt: String
        /// A workflow's `hosts=` tasks, by ID (absent for other runs): the columns of
        /// the hosts × tasks matrix, including tasks the run never reached.
        public var fanOutTasks: [Int]?
        /// `I/N` when the run is slice I of N of one logical run (`--shard`).
        public var shard: String?

        public init(version: String = TaskerVersion.current, operation: String, commandLine: [String], subject: String, targets: Int,
                    startedAt: String, fanOutTasks: [Int]? = nil, shard: String? = nil) {
            self.shard = shard
            self.version = version
            self.operation = operation
            self.commandLine = commandLine
            self.subject = subject
            self.targets = targets
            self.startedAt = startedAt
            self.fanOutTasks = fanOutTasks
        }

        enum CodingKeys: String, CodingKey {
            case version, operation, commandLine = "command_line", subject, targets, startedAt = "started_at"
            case fanOutTasks = "fan_out_tasks"
            case shard
        }
    }

    public struct HostConnecting: Codable, Sendable, Equatable {
        public var host: String

        public init(host: String) { self.host = host }
    }

    public struct HostConnected: Codable, Sendable, Equatable {
        public var host: String
        /// Jump hosts, first hop first.
        public var via: [String]
        /// 0 when the connection was already pooled.
        public var connectMilliseconds: Int

        public init(host: String, via: [String], connectMilliseconds: Int) {
            self.host = host
            self.via = via
            self.connectMilliseconds = connectMilliseconds
        }

        enum CodingKeys: String, CodingKey { case host, via, connectMilliseconds = "connect_ms" }
    }

    public struct HostConnectFailed: Codable, Sendable, Equatable {
        public var host: String
        public var status: HostStatus
        public var error: String

        public init(host: String, status: HostStatus, error: String) {
            self.host = host
            self.status = status
            self.error = error
        }
    }

    public struct CommandStarted: Codable, Sendable, Equatable {
        public var host: String
        /// The command's place in the host's sequence (`-c` order), from 0.
        public var index: Int
        public var command: String

        public init(host: String, index: Int, command: String) {
            self.host = host
            self.index = index
            self.command = command
        }
    }

    public struct CommandEnded: Codable, Sendable, Equatable {
        public var host: String
        public var index: Int
        /// `ok` or `failed` for a command that ended on its own; else why it did not.
        public var status: HostStatus
        public var exitCode: Int32?
        public var signal: String?
        /// What this command printed (the host's record keeps the retained text).
        public var stdoutBytes: UInt64
        public var stderrBytes: UInt64

        public init(host: String, index: Int, status: HostStatus, exitCode: Int32?, signal: String?, stdoutBytes: UInt64,
                    stderrBytes: UInt64) {
            self.host = host
            self.index = index
            self.status = status
            self.exitCode = exitCode
            self.signal = signal
            self.stdoutBytes = stdoutBytes
            self.stderrBytes = stderrBytes
        }

        enum CodingKeys: String, CodingKey {
            case host, index, status, exitCode = "exit_code", signal, stdoutBytes = "stdout_bytes", stderrBytes = "stderr_bytes"
        }
    }

    public struct TransferProgress: Codable, Sendable, Equatable {
        public var host: String
        /// File bytes sent or received so far.
        public var bytes: UInt64

        public init(host: String, bytes: UInt64) {
            self.host = host
            self.bytes = bytes
        }
    }

    public struct TaskStarted: Codable, Sendable, Equatable {
        public var task: Int
        /// As the log names it: `3`, a loop iteration `3.2`.
        public var label: String
        /// The host of a fan-out (`hosts=`) task; nil for the task as a whole.
        public var host: String?
        public var attempt: Int

        public init(task: Int, label: String, host: String? = nil, attempt: Int = 1) {
            self.task = task
            self.label = label
            self.host = host
            self.attempt = attempt
        }
    }

    public struct TaskEnded: Codable, Sendable, Equatable {
        public var task: Int
        public var label: String
        public var host: String?
        public var attempt: Int
        /// `ok`, `failed`, `skipped`; for a host of a fan-out task the host's status word.
        public var status: String
        public var exitCode: Int
        public var success: Bool

        public init(task: Int, label: String, host: String? = nil, attempt: Int = 1, status: String, exitCode: Int, success: Bool) {
            self.task = task
            self.label = label
            self.host = host
            self.attempt = attempt
            self.status = status
            self.exitCode = exitCode
            self.success = success
        }

        enum CodingKeys: String, CodingKey { case task, label, host, attempt, status, exitCode = "exit_code", success }
    }

    /// The run moves on from task `from` to `to` (nil: the run ends there).
    public struct Routed: Codable, Sendable, Equatable {
        public var from: Int
        public var to: Int?

        public init(from: Int, to: Int?) {
            self.from = from
            self.to = to
        }
    }
}

extension RunEvent {
    /// Batch `batch` of `batches` of rolling block `task` starts, on `hosts`.
    public struct BatchStarted: Codable, Sendable, Equatable {
        public var task: Int
        public var batch: Int
        public var batches: Int
        public var hosts: [String]

        public init(task: Int, batch: Int, batches: Int, hosts: [String]) {
            self.task = task
            self.batch = batch
            self.batches = batches
            self.hosts = hosts
        }
    }
}

// MARK: Coding

extension RunEvent: Codable {
    private enum EnvelopeKeys: String, CodingKey { case type, offset = "t_ms" }

    public func encode(to encoder: any Encoder) throws {
        var envelope = encoder.container(keyedBy: EnvelopeKeys.self)
        try envelope.encode(kind.name, forKey: .type)
        try envelope.encode(offset, forKey: .offset)
        switch kind {
        case .runStarted(let payload): try payload.encode(to: encoder)
        case .hostConnecting(let payload): try payload.encode(to: encoder)
        case .hostConnected(let payload): try payload.encode(to: encoder)
        case .hostConnectFailed(let payload): try payload.encode(to: encoder)
        case .commandStarted(let payload): try payload.encode(to: encoder)
        case .commandEnded(let payload): try payload.encode(to: encoder)
        case .transferProgress(let payload): try payload.encode(to: encoder)
        case .hostEnded(let payload): try payload.encode(to: encoder)
        case .taskStarted(let payload): try payload.encode(to: encoder)
        case .taskEnded(let payload): try payload.encode(to: encoder)
        case .batchStarted(let payload): try payload.encode(to: encoder)
        case .routed(let payload): try payload.encode(to: encoder)
        case .runEnded(let payload): try payload.encode(to: encoder)
        }
    }

    public init(from decoder: any Decoder) throws {
        let envelope = try decoder.container(keyedBy: EnvelopeKeys.self)
        offset = try envelope.decode(Int.self, forKey: .offset)
        let type = try envelope.decode(String.self, forKey: .type)
        switch type {
        case "run_started": kind = .runStarted(try RunStart(from: decoder))
        case "host_connecting": kind = .hostConnecting(try HostConnecting(from: decoder))
        case "host_connected": kind = .hostConnected(try HostConnected(from: decoder))
        case "host_failed_to_connect": kind = .hostConnectFailed(try HostConnectFailed(from: decoder))
        case "command_started": kind = .commandStarted(try CommandStarted(from: decoder))
        case "command_ended": kind = .commandEnded(try CommandEnded(from: decoder))
        case "transfer_progress": kind = .transferProgress(try TransferProgress(from: decoder))
        case "host_ended": kind = .hostEnded(try HostRecord(from: decoder))
        case "task_started": kind = .taskStarted(try TaskStarted(from: decoder))
        case "task_ended": kind = .taskEnded(try TaskEnded(from: decoder))
        case "batch_started": kind = .batchStarted(try BatchStarted(from: decoder))
        case "routed": kind = .routed(try Routed(from: decoder))
        case "run_ended": kind = .runEnded(try RunSummary(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: envelope, debugDescription: "'\(type)' is not a Tasker run event")
        }
    }
}
