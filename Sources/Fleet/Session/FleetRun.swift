import Foundation

/// One `exec`, `push`, `pull` or `script` run over a session: its event stream
/// (the given subscribers, in order), `run_started`, the work in a task of its
/// own that an interrupt cancels, then `run_ended` with the summary and the
/// exit status, and the stream drained. The session stays open for its owner.
public struct FleetRun: Sendable {
    /// `exec`, `push`, `pull` or `script`, and what it runs, for `run_started`.
    public var operation: String
    public var subject: String
    /// Hosts the run targets.
    public var targets: Int
    public var commandLine: [String]
    /// This run's slice, when it is one of several (`--shard`).
    public var shard: Shard?

    public init(operation: String, subject: String, targets: Int, shard: Shard? = nil, commandLine: [String] = CommandLine.arguments) {
        self.shard = shard
        self.operation = operation
        self.subject = subject
        self.targets = targets
        self.commandLine = commandLine
    }

    public struct Outcome: Sendable {
        public var tally: RunTally
        public var exitStatus: Int32
    }

    /// Runs `work` with the session's pool and `options` (their `events` set to the run's stream).
    /// `interrupt` is handed what cancels the work (connect it to signals); `interruptedStatus`
    /// is asked at the end for the exit status of an interrupted run, which overrides the tally's.
    public func perform(in session: FleetSession, options: FleetRunOptions, subscribers: [any RunEventSubscriber],
                        interrupt: (_ cancel: @escaping @Sendable () -> Void) -> Void,
                        interruptedStatus: () -> Int32?,
                        _ work: @escaping @Sendable (ConnectionPool, FleetRunOptions) async -> RunTally) async -> Outcome {
        let clock = RunClock()
        let events = RunEventSink(clock: clock, subscribers: subscribers)
        var options = options
        options.events = events
        events.emit(.runStarted(.init(operation: operation, commandLine: commandLine, subject: subject, targets: targets,
                                      startedAt: clock.wallStartText, shard: shard?.description)))
        let pool = session.pool
        let task = Task { [options] in await work(pool, options) }
        interrupt { task.cancel() }
        let tally = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        let status = interruptedStatus() ?? ExitPolicy.exitStatus(for: tally)
        let statistics = pool.statistics
        events.emit(.runEnded(RunSummary(tally: tally, exitCode: status, wallMilliseconds: clock.offset(),
                                         connectionsOpened: statistics.connectionsOpened,
                                         jumpHostConnectionsOpened: statistics.jumpHostConnectionsOpened)))
        await events.drain()
        return Outcome(tally: tally, exitStatus: status)
    }
}
