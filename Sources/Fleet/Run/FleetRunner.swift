import Platform
import SSH
import Synchronization

/// Options of one fan-out run.
public struct FleetRunOptions: Sendable {
    /// Hosts running at once.
    public var forks: Int
    /// Deadline for each command, in seconds; nil for none.
    public var commandTimeout: Double?
    /// Deadline for the whole run, in seconds; nil for none.
    public var runTimeout: Double?
    /// Run a host's later commands even after one fails.
    public var keepGoing: Bool
    public var capture: CaptureOptions
    /// Standard input for every command, shared by all hosts (`--stdin`); nil: EOF at once.
    public var input: (any CommandInput)?
    /// Run each command on a pseudo-terminal (`--pty`): stdout and stderr arrive merged.
    public var pty = false
    /// Where the run's events go (hosts connecting, commands, hosts ending); nil for none.
    public var events: RunEventSink?

    public init(forks: Int = 64, commandTimeout: Double? = nil, runTimeout: Double? = nil,
                keepGoing: Bool = false, capture: CaptureOptions = .init()) {
        self.forks = forks
        self.commandTimeout = commandTimeout
        self.runTimeout = runTimeout
        self.keepGoing = keepGoing
        self.capture = capture
    }
}

/// Runs commands on many hosts at once over pooled connections: at most
/// `forks` hosts in flight, each host's commands in order on its one
/// connection, every host ending as a `HostRecord` whatever happens to the others.
public final class FleetRunner: Sendable {
    public let pool: ConnectionPool

    public init(pool: ConnectionPool = ConnectionPool()) {
        self.pool = pool
    }

    /// Runs `commands` on every host; `options.events` sees each host's record
    /// as `host_ended` as it finishes (hosts never started, because the run was
    /// cancelled or out of time, at the end). Finished results are not kept:
    /// the run returns how many hosts ended in each status.
    public func run(_ specs: [ConnectionSpec], commands: [String], options: FleetRunOptions) async -> RunTally {
        await RemoteCommands(commands).run(specs, pool: pool, options: options)
    }

    /// Runs `job` for every host, at most `options.forks` at once, within the
    /// run's deadline; hosts not started when the run is cancelled or out of
    /// time are reported as such. The job gets the run deadline and the flag
    /// that says it passed.
    public func run(_ specs: [ConnectionSpec], options: FleetRunOptions,
                    job: @escaping @Sendable (ConnectionSpec, Deadline, RunDeadlineFlag) async -> HostRecord) async -> RunTally {
        let runDeadline = Deadline.after(seconds: options.runTimeout)
        let expired = RunDeadlineFlag()
        var tally = RunTally()
        let events = options.events
        func ended(_ result: HostRecord) {
            tally.record(result.status)
            events?.emit(.hostEnded(result))
        }
        let started = await forEachConcurrently(
            count: specs.count, limit: options.forks, deadline: runDeadline, onDeadline: { expired.set() },
            mayStart: { !expired.isSet }, { index in
                let startedAt = events?.clock.offset()
                var result = await job(specs[index], runDeadline, expired)
                result.startedMilliseconds = startedAt
                result.endedMilliseconds = events?.clock.offset()
                return result
            }
        ) { _, result in
            ended(result)
        }
        for spec in specs[started...] {
            ended(HostRecord(host: spec.name, status: expired.isSet ? .timeout : .error,
                             error: expired.isSet ? "run timeout passed before the host started" : "cancelled before the host started"))
        }
        return tally
    }

    /// Runs `commands` in order on one host.
    public func runHost(_ spec: ConnectionSpec, commands: [String], options: FleetRunOptions,
                        runDeadline: Deadline = .distantFuture, expired: RunDeadlineFlag = RunDeadlineFlag()) async -> HostRecord {
        let started = Deadline.now()
        var result = HostRecord(starting: spec)
        guard let capture = FleetRunner.makeCapture(for: spec, options: options, result: &result) else { return result }
        let local = spec.transport == .local
        let terminal = options.pty && !local ? TerminalLineEndings(capture) : nil
        let sink: any OutputSink = terminal ?? capture
        result.streamsMerged = terminal != nil
        let events = HostEvents(spec, options)
        do {
            if local {
                // `ansible_connection=local`: the commands run on the controller.
                if let become = spec.become {
                    throw FleetError.badInput("become (\(become)) is not supported for a local host (ansible_connection=local)")
                }
                result.connectMilliseconds = 0
                events.connectedLocally()
                try await Self.run(commands, options: options, runDeadline: runDeadline, events: events, capture: capture,
                                   into: &result) { command, deadline in
                    try await LocalCommand.run(command, output: capture, deadline: deadline)
                }
            } else {
                try await events.withConnection(pool, for: spec, since: started) { pooled, connectMilliseconds in
                    var connection = pooled
                    result.connectMilliseconds = connectMilliseconds
                    try await Self.run(commands, options: options, runDeadline: runDeadline, events: events, capture: capture,
                                       into: &result) { command, deadline in
                        do {
                            return try await connection.execute(command, input: options.input, pty: options.pty, become: spec.become,
                                                                output: sink, deadline: deadline)
                        } catch let error as SSHError where error.kind == .connectionLost && error.phase == .channel {
                            // The pooled connection died before the command started.
                            connection = try await pool.reconnect(spec, replacing: connection)
                            return try await connection.execute(command, input: options.input, pty: options.pty, become: spec.become,
                                                                output: sink, deadline: deadline)
                        }
                    }
                }
            }
        } catch {
            result.fail(error, expired: expired, timedOut: options.commandTimeout.map {
                "command timed out after \($0)s; \(local ? "local" : "remote") process group killed"
            })
        }
        terminal?.flush()
        result.take(capture)
        result.runMilliseconds = Deadline.milliseconds(since: started)
        return result
    }

    /// The host's output capture; nil, with the result an error, when it cannot be set up (an `--output-dir` file).
    static func makeCapture(for spec: ConnectionSpec, options: FleetRunOptions, result: inout HostRecord) -> OutputCapture? {
        do {
            return try OutputCapture(label: spec.name, options: options.capture)
        } catch {
            result.status = .error
            result.error = "\(error)"
            return nil
        }
    }

    /// Runs `commands` in order through `execute`, recording each exit; stops at
    /// the first failure unless `keepGoing`.
    private static func run(_ commands: [String], options: FleetRunOptions, runDeadline: Deadline, events: HostEvents,
                            capture: OutputCapture, into result: inout HostRecord,
                            _ execute: (String, Deadline) async throws -> RemoteExit) async throws {
        for (index, command) in commands.enumerated() {
            let exit = try await events.command(index, command, capture: capture) {
                try await execute(command, min(Deadline.after(seconds: options.commandTimeout), runDeadline))
            }
            result.commandsRun += 1
            result.exitCode = exit.exitCode
            result.signal = exit.signal
            if exit.signal != nil || exit.exitCode != 0 {
                result.status = .failed
                if !options.keepGoing { break }
            }
        }
    }
}

/// Set once the run's overall deadline has passed, so cancelled hosts are reported as `timeout`.
public final class RunDeadlineFlag: Sendable {
    private let value = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}
