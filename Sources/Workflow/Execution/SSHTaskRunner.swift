import Fleet
import Foundation
import SSH
import AnsibleInventory

/// The SSH exec types (`ssh`, `ssh_shell`, `ssh_push`, `ssh_pull`, `ssh_script`): runs task work on hosts over
/// the session's pooled connections (one connection per host for the whole run). Host
/// names are looked up in the inventory first (ansible_host, port, user, key),
/// then taken as `[user@]host[:port]` through ssh_config.
public final class SSHTaskRunner: TaskTransport {
    public struct Settings: Sendable {
        /// Hosts a fan-out task runs at once unless it sets `max_parallel`.
        public var forks: Int
        /// When set, each remote run keeps its full streams in `DIR/<task>/<host>.stdout|stderr`.
        public var outputDirectory: String?
        /// Bytes of each stream a fan-out task keeps per host from the start and from the end
        /// (a single-host task keeps TASKER's 1 MiB and 64 KiB): results of every host stay in
        /// memory for later placeholders, so this bounds a wide task's footprint.
        public var fanOutKeepBytes: Int

        public init(forks: Int = 64, outputDirectory: String? = nil, fanOutKeepBytes: Int = 32 << 10) {
            self.forks = forks
            self.outputDirectory = outputDirectory
            self.fanOutKeepBytes = fanOutKeepBytes
        }
    }

    public let settings: Settings
    /// The pool, the resolver and the inventory (a workflow's session: failures are not remembered,
    /// since a host that was down for one step may be back for the next).
    public let session: FleetSession

    public init(session: FleetSession, settings: Settings) {
        self.session = session
        self.settings = settings
    }

    public var pool: ConnectionPool { session.pool }

    public var forks: Int { settings.forks }

    /// The inventory hosts `pattern` selects (narrowed by `--limit`), with Ansible-style warnings.
    public func hosts(matching pattern: String) throws -> (hosts: [String], warnings: [String]) {
        do {
            return try session.hosts(matching: pattern)
        } catch let error as FleetError {
            // The session's own reason: "PATTERN needs an inventory (-i INVENTORY)".
            throw TaskFileError(exitCode: 20, "hosts=\(error)")
        } catch let error as InventoryError {
            throw TaskFileError(exitCode: 20, "hosts=\(pattern): \(error)")
        }
    }

    /// How `host` is reached: its inventory entry when it has one, else `[user@]host[:port]`.
    public func spec(for host: String) throws -> ConnectionSpec {
        try session.spec(for: host)
    }

    /// A command's timeout comes after its remote process group was killed.
    public func run(host: String, task: RemoteTask, timeout: Double?, become: TaskBecome?, fanOut: Bool, outputSubdirectory: String?,
                    live: LiveLines?, events: RunEventSink?) async -> CommandExit {
        var spec: ConnectionSpec
        do {
            spec = try self.spec(for: host)
        } catch {
            return CommandExit(ending: .notRun(.error), stdout: "", stderr: "invalid host '\(host)': \(error)", remote: true)
        }
        if let become { spec.become = become.applied(to: spec) }
        let directory = settings.outputDirectory.map { base in outputSubdirectory.map { "\(base)/\($0)" } ?? base }
        var options = FleetRunOptions(commandTimeout: timeout,
                                      capture: CaptureOptions(headBytes: fanOut ? settings.fanOutKeepBytes : ChildProcess.memoryLimit,
                                                              tailBytes: fanOut ? settings.fanOutKeepBytes : 64 << 10,
                                                              outputDirectory: directory, live: live))
        options.events = events
        let result = await task.job.run(on: spec, pool: pool, options: options)
        let stdout = result.stdout.text
        let stderr = result.stderr.text
        // Work that ended without an exit status (a push, a pull, a script that never started) says why in its error.
        let withError = [stderr, result.error ?? ""].filter { !$0.isEmpty }.joined(separator: "\n")
        switch result.status {
        case .ok, .unchanged, .failed:
            if let code = result.signal.map({ -Int(SignalName.number(of: $0) ?? 1) }) ?? result.exitCode.map(Int.init) {
                return CommandExit(ending: .exited, status: code, stdout: stdout, stderr: stderr, remote: true)
            }
            return CommandExit(ending: .exited, status: result.status == .failed ? 1 : 0, stdout: stdout, stderr: withError, remote: true)
        case .error where Task.isCancelled:
            return CommandExit(ending: .cancelled, stdout: stdout, stderr: stderr + "\nInterrupted: remote \(task.kind.rawValue) stopped", remote: true)
        case .timeout where result.connectMilliseconds != nil:
            if task.kind == .push || task.kind == .pull {
                return CommandExit(ending: .timedOut, stdout: stdout, stderr: withError, remote: true)
            }
            return CommandExit(ending: .timedOut, stdout: stdout,
                             stderr: stderr + "\nProcess killed after timeout of \(Int(timeout ?? 0)) seconds", remote: true)
        default:
            let target = "\(spec.settings.user)@\(spec.settings.address):\(spec.settings.port)"
            return CommandExit(ending: .notRun(result.status), stdout: stdout,
                             stderr: "\(result.status.rawValue) (\(target)): \(result.error ?? "connection failed")", remote: true)
        }
    }
}
