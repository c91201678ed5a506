import Fleet

/// Where the SSH exec types' work runs: the hosts a `hosts=` pattern selects, and
/// one piece of remote work run on one host. `SSHTaskRunner` is the real one, over
/// pooled connections; the engine needs nothing else from SSH.
public protocol TaskTransport: Sendable {
    /// Hosts a fan-out task runs at once unless it sets `max_parallel` (`--forks`).
    var forks: Int { get }

    /// The hosts `pattern` selects, with Ansible-style warnings; an unusable pattern is a `TaskFileError`.
    func hosts(matching pattern: String) throws -> (hosts: [String], warnings: [String])

    /// Runs `task` on `host`. Work that never ran there ends `notRun` with the reason in stderr;
    /// cancelling the calling task stops the work. `become` is the task's own, over the host's;
    /// `fanOut` keeps the fan-out budget of output per host; `live` sees output lines as they arrive.
    func run(host: String, task: RemoteTask, timeout: Double?, become: TaskBecome?, fanOut: Bool, outputSubdirectory: String?,
             live: LiveLines?, events: RunEventSink?) async -> CommandExit
}
