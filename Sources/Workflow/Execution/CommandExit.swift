import Fleet

/// How a task's command ended.
public enum CommandEnding: Sendable, Equatable {
    /// It ran to its end: the exit code is its status, or minus the signal that killed it.
    case exited
    /// It was killed when its timeout passed (exit code 124, as TASKER reports it).
    case timedOut
    /// The run was interrupted while it ran (exit code 130).
    case cancelled
    /// It never ran on its host: unreachable, a refused login, host key or become, another error (exit code 255).
    case notRun(HostStatus)
}

/// How a task's command — a local child process or a remote command — ended, with what it printed.
public struct CommandExit: Sendable, Equatable {
    public var ending: CommandEnding
    /// The exit code TASKER reports: the status (or minus the signal number, as Python
    /// reports it) when the command exited; 124, 130 or 255 as `ending` says otherwise.
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
    /// Spill files holding the whole stream once it outgrew the in-memory capture.
    public var stdoutFile: String?
    public var stderrFile: String?
    /// The command ran on a host over SSH.
    public var remote = false

    public init(ending: CommandEnding, status: Int = 0, stdout: String, stderr: String, stdoutFile: String? = nil,
                stderrFile: String? = nil, remote: Bool = false) {
        self.ending = ending
        switch ending {
        case .exited: exitCode = status
        case .timedOut: exitCode = 124
        case .cancelled: exitCode = 130
        case .notRun: exitCode = 255
        }
        self.stdout = stdout
        self.stderr = stderr
        self.stdoutFile = stdoutFile
        self.stderrFile = stderrFile
        self.remote = remote
    }

    public var timedOut: Bool { ending == .timedOut }

    /// Why a remote command did not end on its own, as its host's status (`timeout`,
    /// `cancelled`, `unreachable`, `auth_failed`, …); nil when it exited, and for local commands.
    public var hostProblem: HostTaskStatus? {
        guard remote else { return nil }
        switch ending {
        case .exited: return nil
        case .timedOut: return .timeout
        case .cancelled: return .cancelled
        case .notRun(let status): return .host(status)
        }
    }
}
