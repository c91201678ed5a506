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

    /// The host did what was asked (or found it already done).
    public var isSuccess: Bool { self == .ok || self == .unchanged }

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

/// Everything known about one host's run: the `host` line of `--json`, the
/// `host_ended` event of the journal. Reporters only read these values.
public struct HostRecord: Sendable, Equatable {
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
    /// When the host's work started and ended, in milliseconds since the run started (nil outside a run with events).
    public var startedMilliseconds: Int?
    public var endedMilliseconds: Int?

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

extension HostRecord {
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

extension HostRecord: Codable {
    enum CodingKeys: String, CodingKey {
        case host, status, exitCode = "exit_code", signal, stdout, stderr, stdoutBytes = "stdout_bytes", stderrBytes = "stderr_bytes"
        case stdoutTruncated = "stdout_truncated", stderrTruncated = "stderr_truncated"
        case connectMilliseconds = "connect_ms", runMilliseconds = "run_ms", commandsRun = "commands_run", error, via
        case bytesTransferred = "bytes_transferred", streamsMerged = "pty"
        case startedMilliseconds = "started_ms", endedMilliseconds = "ended_ms"
    }

    /// Every field is written, absent values as `null`, as `--json` always has.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(host, forKey: .host)
        try container.encode(status, forKey: .status)
        try container.encode(exitCode, forKey: .exitCode)
        try container.encode(signal, forKey: .signal)
        try container.encode(stdout.text, forKey: .stdout)
        try container.encode(stderr.text, forKey: .stderr)
        try container.encode(stdout.bytes, forKey: .stdoutBytes)
        try container.encode(stderr.bytes, forKey: .stderrBytes)
        try container.encode(stdout.truncated, forKey: .stdoutTruncated)
        try container.encode(stderr.truncated, forKey: .stderrTruncated)
        try container.encode(connectMilliseconds, forKey: .connectMilliseconds)
        try container.encode(runMilliseconds, forKey: .runMilliseconds)
        try container.encode(commandsRun, forKey: .commandsRun)
        try container.encode(error, forKey: .error)
        try container.encode(via, forKey: .via)
        try container.encode(bytesTransferred, forKey: .bytesTransferred)
        try container.encode(streamsMerged, forKey: .streamsMerged)
        try container.encode(startedMilliseconds, forKey: .startedMilliseconds)
        try container.encode(endedMilliseconds, forKey: .endedMilliseconds)
    }

    /// Reads a record back; a missing or mistyped field is an error naming it. The
    /// offsets are optional: `--json` streams of earlier versions have none.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(host: try container.decode(String.self, forKey: .host), status: try container.decode(HostStatus.self, forKey: .status))
        exitCode = try container.decode(Int32?.self, forKey: .exitCode)
        signal = try container.decode(String?.self, forKey: .signal)
        stdout = CapturedStream(text: try container.decode(String.self, forKey: .stdout),
                                bytes: try container.decode(UInt64.self, forKey: .stdoutBytes),
                                truncated: try container.decode(Bool.self, forKey: .stdoutTruncated))
        stderr = CapturedStream(text: try container.decode(String.self, forKey: .stderr),
                                bytes: try container.decode(UInt64.self, forKey: .stderrBytes),
                                truncated: try container.decode(Bool.self, forKey: .stderrTruncated))
        connectMilliseconds = try container.decode(Int?.self, forKey: .connectMilliseconds)
        runMilliseconds = try container.decode(Int.self, forKey: .runMilliseconds)
        commandsRun = try container.decode(Int.self, forKey: .commandsRun)
        error = try container.decode(String?.self, forKey: .error)
        via = try container.decode([String].self, forKey: .via)
        bytesTransferred = try container.decode(UInt64?.self, forKey: .bytesTransferred)
        streamsMerged = try container.decode(Bool.self, forKey: .streamsMerged)
        startedMilliseconds = try container.decodeIfPresent(Int.self, forKey: .startedMilliseconds)
        endedMilliseconds = try container.decodeIfPresent(Int.self, forKey: .endedMilliseconds)
    }
}
