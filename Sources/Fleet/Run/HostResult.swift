import SSH

/// How a host's run ended. The raw values are what `--json` prints.
public enum HostStatus: String, Sendable, Codable, CaseIterable {
    case ok
    /// A push found every file already in place and sent nothing.
    case unchanged
    /// A command exited non-zero or was killed by a signal.
    case failed
    case unreachable
    case authFailed = "auth_failed"
    case hostkeyRejected = "hostkey_rejected"
    /// sudo, su or doas refused to run the command as the become user.
    case becomeFailed = "become_failed"
    case timeout
    case error

    init(_ error: SSHError) {
        switch error.kind {
        case .unreachable: self = .unreachable
        case .authFailed: self = .authFailed
        case .hostKeyRejected: self = .hostkeyRejected
        case .becomeFailed: self = .becomeFailed
        case .timeout: self = .timeout
        case .connectionLost, .cancelled, .other: self = .error
        }
    }
}

/// Everything known about one host's run; reporters only read these values.
public struct HostResult: Sendable {
    public var host: String
    public var status: HostStatus
    public var exitCode: Int32?
    public var signal: String?
    public var stdout: CapturedStream
    public var stderr: CapturedStream
    /// Time to obtain the connection (0 when it was already pooled); nil if none was obtained.
    public var connectMilliseconds: Int?
    public var runMilliseconds: Int
    public var error: String?
    /// Commands started on the host.
    public var commandsRun: Int
    /// The jump hosts the host was reached through, first hop first.
    public var via: [String] = []
    /// File bytes sent to or received from the host (`push`, `pull`); nil for commands.
    public var bytesTransferred: UInt64?
    /// The commands ran on a pseudo-terminal (`--pty`): stderr arrived merged into stdout.
    public var streamsMerged = false

    public init(host: String, status: HostStatus, exitCode: Int32? = nil, signal: String? = nil,
                stdout: CapturedStream = .init(), stderr: CapturedStream = .init(),
                connectMilliseconds: Int? = nil, runMilliseconds: Int = 0, error: String? = nil, commandsRun: Int = 0) {
        self.host = host
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.stdout = stdout
        self.stderr = stderr
        self.connectMilliseconds = connectMilliseconds
        self.runMilliseconds = runMilliseconds
        self.error = error
        self.commandsRun = commandsRun
    }
}

extension HostResult {
    /// A host's result before its work starts: `ok`, reported under its name, with its jump hosts.
    init(starting spec: ConnectionSpec) {
        self.init(host: spec.name, status: .ok)
        via = spec.via
    }

    /// Takes the host's captured streams once its work is done.
    mutating func take(_ capture: OutputCapture) {
        (stdout, stderr) = capture.finish()
    }

    /// Records why a host's work stopped: a refusal of its file system (SFTP,
    /// a failed rename) or a bad local input fails the host; SSH errors map to
    /// their status; cancellation after the run deadline is a `timeout`.
    /// `timedOut` describes the host's own deadline passing, when it had one.
    mutating func fail(_ error: Error, expired: RunDeadlineFlag, timedOut: String?) {
        switch error {
        case let error as SSHError:
            status = HostStatus(error)
            self.error = error.description
            if error.kind == .cancelled, expired.isSet {
                status = .timeout
                self.error = "run timeout passed (\(error.phase.rawValue))"
            } else if error.kind == .timeout, let timedOut, error.phase != .connect {
                self.error = timedOut
            }
        case is SFTPError, is FileTransferFailure, is FleetError:
            status = .failed
            self.error = "\(error)"
        default:
            status = .error
            self.error = "\(error)"
        }
    }
}
