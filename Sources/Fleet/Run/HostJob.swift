import Platform

/// Work done on a host over its pooled connection — commands, a push, a pull,
/// a script: across a fleet (`tasker exec`, `push`, …) or one host at a time
/// (a workflow task).
public protocol HostJob: Sendable {
    /// One host's run, ending by `runDeadline` (`expired` is set once the run's time is up).
    func run(on spec: ConnectionSpec, pool: ConnectionPool, options: FleetRunOptions,
             runDeadline: Deadline, expired: RunDeadlineFlag) async -> HostRecord
}

extension HostJob {
    /// Runs on every host, `options.forks` at once; `options.events` sees each host's record as it ends.
    public func run(_ specs: [ConnectionSpec], pool: ConnectionPool, options: FleetRunOptions) async -> RunTally {
        await FleetRunner(pool: pool).run(specs, options: options) { spec, runDeadline, expired in
            await self.run(on: spec, pool: pool, options: options, runDeadline: runDeadline, expired: expired)
        }
    }

    /// One host, with no deadline but the job's own.
    public func run(on spec: ConnectionSpec, pool: ConnectionPool, options: FleetRunOptions) async -> HostRecord {
        await run(on: spec, pool: pool, options: options, runDeadline: .distantFuture, expired: RunDeadlineFlag())
    }
}

/// Commands run in order on the host, each on its own channel.
public struct RemoteCommands: HostJob {
    public var commands: [String]

    public init(_ commands: [String]) {
        self.commands = commands
    }

    public func run(on spec: ConnectionSpec, pool: ConnectionPool, options: FleetRunOptions,
                    runDeadline: Deadline, expired: RunDeadlineFlag) async -> HostRecord {
        await FleetRunner(pool: pool).runHost(spec, commands: commands, options: options, runDeadline: runDeadline, expired: expired)
    }
}
