import ArgumentParser
import Fleet
import Foundation
import Locking

/// What every fleet command (`exec`, `push`, `pull`, `script`) does around its
/// work: plan descriptors and forks, open the pool, start the run's event
/// stream (console or `--json`, `--retry-file`, `--journal` are its
/// subscribers), turn Ctrl-C into cancellation, end the run with its summary,
/// exit by the table.
struct FleetCommandRun {
    let connection: ConnectionOptions
    let forks: Int
    let hosts: Int
    let mode: ExecReporter.Mode
    /// `--retry-file`: where the hosts that did not succeed are written.
    let retryFile: String?
    let records: RunRecordOptions
    /// `exec`, `push`, `pull` or `script`, and what it runs, for `run_started`.
    let operation: String
    let subject: String
    let progress: ProgressLine?

    init(_ operation: String, subject: String, connection: ConnectionOptions, targets: TargetOptions, records: RunRecordOptions,
         forks: Int, hosts: Int, json: Bool, fold: Bool = false, progress: ProgressLine?) {
        self.progress = progress
        self.operation = operation
        self.subject = subject
        self.connection = connection
        self.records = records
        self.forks = forks
        self.hosts = hosts
        retryFile = targets.retryFile
        mode = json ? .json : fold ? .fold : .live
    }

    /// Runs `work` with the pool and the run options `options` makes for the
    /// planned number of forks (their `events` set to the run's stream);
    /// throws the exit status when it is not 0.
    func perform(options: (_ forks: Int) -> FleetRunOptions, filesPerHost: Int,
                 _ work: @escaping @Sendable (ConnectionPool, FleetRunOptions) async -> RunTally) async throws {
        let budget: FileDescriptorBudget
        do {
            budget = try FileDescriptorBudget.plan(requestedForks: min(forks, hosts), filesPerHost: filesPerHost)
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
        if let warning = budget.warning { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
        var runOptions = options(budget.forks)
        let records = try self.records.open()
        let unsuccessful = UnsuccessfulHosts()
        let clock = RunClock()
        let events = RunEventSink(clock: clock, subscribers: (progress.map { [$0] } ?? [])  // first: erased before the summary is printed
                                    + [ExecReporter(mode: mode), unsuccessful] + records.subscribers)
        runOptions.events = events
        events.emit(.runStarted(.init(operation: operation, commandLine: CommandLine.arguments, subject: subject, targets: hosts,
                                      startedAt: clock.wallStartText)))
        let pool = connection.ssh.makePool(oneShot: true, budget: budget)
        let task = Task { await work(pool, runOptions) }
        let interrupts = InterruptHandler()
        interrupts.install { task.cancel() }
        let tally = await task.value
        await pool.closeAll()

        let status = interrupts.exitStatus ?? ExitPolicy.exitStatus(for: tally)
        let statistics = pool.statistics
        events.emit(.runEnded(RunSummary(tally: tally, exitCode: status, wallMilliseconds: clock.offset(),
                                         connectionsOpened: statistics.connectionsOpened,
                                         jumpHostConnectionsOpened: statistics.jumpHostConnectionsOpened)))
        await events.drain()
        records.finish()
        if let retryFile { unsuccessful.write(to: retryFile) }
        if status != 0 { throw ExitCode(status) }
    }
}

/// `--retry-file`: the hosts that did not succeed, one per line in the order they
/// finished; empty when every host succeeded.
final class UnsuccessfulHosts: RunEventSubscriber {
    private let hosts = Locked<[String]>([])

    func receive(_ event: RunEvent) {
        guard case .hostEnded(let record) = event.kind, !record.status.isSuccess else { return }
        hosts.withLock { $0.append(record.host) }
    }

    func write(to path: String) {
        do {
            try hosts.withLock { $0 }.map { $0 + "\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            ConsoleWriter.shared.write("tasker: cannot write retry file \(path): \(error.localizedDescription)\n", to: .stderr)
        }
    }
}
