import Fleet

/// What a task left behind for later placeholders and conditions.
public struct TaskResult: Sendable, Equatable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    public var success: Bool
    /// Spill files holding the full streams when they outgrew memory.
    public var stdoutFile: String?
    public var stderrFile: String?
    /// A fan-out task's (`hosts=`) per-host results, in inventory order; nil for other tasks.
    public var hosts: [HostTaskResult]?

    public init(exitCode: Int, stdout: String, stderr: String, success: Bool,
                stdoutFile: String? = nil, stderrFile: String? = nil, hosts: [HostTaskResult]? = nil) {
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.success = success
        self.stdoutFile = stdoutFile
        self.stderrFile = stderrFile
        self.hosts = hosts
    }

    /// The record of a task whose `condition` gate was false.
    public static let skipped = TaskResult(exitCode: -1, stdout: "", stderr: "Task skipped due to condition", success: false)

    public func host(_ name: String) -> HostTaskResult? {
        hosts?.first { $0.host == name }
    }
}

/// How one host of a fan-out task ended: its connection's status (`ok`, `failed`,
/// `timeout`, or why the command never ran: `unreachable`, `auth_failed`,
/// `hostkey_rejected`, `become_failed`, `error`), or `cancelled` when the run was
/// interrupted. Written as those words in reports and the recovery file.
public enum HostTaskStatus: Sendable, Equatable, CustomStringConvertible {
    case host(HostStatus)
    case cancelled
    /// A rolling block's host never started: the failure budget was spent first.
    case held

    public static let ok = HostTaskStatus.host(.ok)
    public static let failed = HostTaskStatus.host(.failed)
    public static let timeout = HostTaskStatus.host(.timeout)

    public init?(rawValue: String) {
        if rawValue == "cancelled" {
            self = .cancelled
        } else if rawValue == "held" {
            self = .held
        } else if let status = HostStatus(rawValue: rawValue) {
            self = .host(status)
        } else {
            return nil
        }
    }

    public var rawValue: String {
        switch self {
        case .host(let status): return status.rawValue
        case .cancelled: return "cancelled"
        case .held: return "held"
        }
    }

    public var description: String { rawValue }
}

/// One host's part of a fan-out task.
public struct HostTaskResult: Sendable, Equatable {
    public var host: String
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    /// The task's per-host success condition (default `exit_0`).
    public var success: Bool
    public var status: HostTaskStatus
    /// Runs made, counting retries.
    public var attempts: Int
    /// A rolling block's host: the step it reached (its last, or the one that failed).
    public var step: Int?

    public init(host: String, exitCode: Int, stdout: String, stderr: String, success: Bool, status: HostTaskStatus, attempts: Int,
                step: Int? = nil) {
        self.step = step
        self.host = host
        self.exitCode = exitCode
        self.stdout = stdout
        self.stderr = stderr
        self.success = success
        self.status = status
        self.attempts = attempts
    }
}
