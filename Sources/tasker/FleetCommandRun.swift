import ArgumentParser
import Fleet
import Foundation
import Locking

/// What every fleet command (`exec`, `push`, `pull`, `script`) does around its
/// work: plan descriptors and forks, open the session, run it as a `FleetRun`
/// whose event stream the console or `--json`, `--retry-file` and `--journal`
/// subscribe to, turn Ctrl-C into cancellation, close the session, exit by the table.
struct FleetCommandRun {
    let connection: ConnectionOptions
    let forks: Int
    let hosts: Int
    let mode: ExecReporter.Mode
    /// `--retry-file`: where the hosts that did not succeed are written.
    let retryFile: String?
    /// `--shard`: `{shard}` in the record, retry and output paths is its index; `run_started` names it.
    let shard: Shard?
    let records: RunRecordOptions
    let run: FleetRun
    let progress: ProgressLine?
    /// The resolver the targets were resolved with, for the session.
    let resolver: ConnectionResolver

    init(_ operation: String, resolver: ConnectionResolver, subject: String, connection: ConnectionOptions, targets: TargetOptions, records: RunRecordOptions,
         forks: Int, hosts: Int, json: Bool, fold: Bool = false, progress: ProgressLine?) {
        self.progress = progress
        self.resolver = resolver
        // Validated with the command's options: a bad --shard never gets this far.
        let shard = try? targets.shard.resolved()
        self.shard = shard
        run = FleetRun(operation: operation, subject: subject, targets: hosts, shard: shard)
        self.connection = connection
        self.records = records
        self.forks = forks
        self.hosts = hosts
        retryFile = targets.retryFile.map { shard?.expand($0) ?? $0 }
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
        let records = try self.records.open(shard: shard)
        let unsuccessful = UnsuccessfulHosts()
        let session = connection.ssh.makeSession(resolver: resolver, lifetime: .oneShot, budget: budget)
        let interrupts = InterruptHandler()
        // The progress line first: erased before the summary is printed.
        let outcome = await run.perform(in: session, options: options(budget.forks),
                                        subscribers: (progress.map { [$0] } ?? []) + [ExecReporter(mode: mode), unsuccessful] + records.subscribers,
                                        interrupt: { cancel in interrupts.install(onSignal: cancel) },
                                        interruptedStatus: { interrupts.exitStatus }, work)
        await session.close()
        records.finish()
        if let retryFile { unsuccessful.write(to: retryFile) }
        if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
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
