import ArgumentParser
import Fleet
import Foundation
import Locking
import SSH

/// What every fleet command (`exec`, `push`, `pull`, `script`) does around its
/// work: plan descriptors and forks, open the pool, report each host as it
/// ends, turn Ctrl-C into cancellation, print the summary, exit by the table.
struct FleetCommandRun {
    let connection: ConnectionOptions
    let forks: Int
    let hosts: Int
    let mode: ExecReporter.Mode
    /// `--retry-file`: where the hosts that did not succeed are written.
    let retryFile: String?

    init(connection: ConnectionOptions, targets: TargetOptions, forks: Int, hosts: Int, json: Bool, fold: Bool = false) {
        self.connection = connection
        self.forks = forks
        self.hosts = hosts
        retryFile = targets.retryFile
        mode = json ? .json : fold ? .fold : .live
    }

    /// Runs `work` with the pool and the run options `options` makes for the
    /// planned number of forks; throws the exit status when it is not 0.
    func perform(options: (_ forks: Int) -> FleetRunOptions, filesPerHost: Int,
                 _ work: @escaping @Sendable (ConnectionPool, FleetRunOptions, @escaping @Sendable (HostResult) -> Void) async -> RunTally)
        async throws {
        let budget: FileDescriptorBudget
        do {
            budget = try FileDescriptorBudget.plan(requestedForks: min(forks, hosts), filesPerHost: filesPerHost)
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
        if let warning = budget.warning { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
        let runOptions = options(budget.forks)
        let pool = connection.ssh.makePool(oneShot: true, budget: budget)
        let reporter = ExecReporter(mode: mode, hosts: hosts)
        let unsuccessful = Locked<[String]>([])
        let started = Deadline.now()
        let task = Task {
            await work(pool, runOptions) { result in
                if result.status != .ok, result.status != .unchanged { unsuccessful.withLock { $0.append(result.host) } }
                reporter.record(result)
            }
        }
        let interrupts = InterruptHandler()
        interrupts.install { task.cancel() }
        let tally = await task.value
        await pool.closeAll()

        if let retryFile { writeRetryFile(retryFile, hosts: unsuccessful.withLock { $0 }) }
        let status = interrupts.exitStatus ?? ExitPolicy.exitStatus(for: tally)
        let statistics = pool.statistics
        reporter.finish(RunSummary(tally: tally, exitCode: status, wallMilliseconds: Deadline.milliseconds(since: started),
                                   connectionsOpened: statistics.connectionsOpened,
                                   jumpHostConnectionsOpened: statistics.jumpHostConnectionsOpened))
        if status != 0 { throw ExitCode(status) }
    }

    /// One host per line, in the order they finished; empty when every host succeeded.
    private func writeRetryFile(_ path: String, hosts: [String]) {
        do {
            try hosts.map { $0 + "\n" }.joined().write(toFile: path, atomically: true, encoding: .utf8)
        } catch {
            ConsoleWriter.shared.write("tasker: cannot write retry file \(path): \(error.localizedDescription)\n", to: .stderr)
        }
    }
}
