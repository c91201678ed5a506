/// How a remote command ended.
public struct RemoteExit: Sendable, Equatable {
    /// The exit status, when the server reported one.
    public var exitCode: Int32?
    /// The signal name without `SIG` (e.g. `KILL`), when the command was killed by one.
    public var signal: String?

    public init(exitCode: Int32?, signal: String?) {
        self.exitCode = exitCode
        self.signal = signal
    }
}
