import ArgumentParser
import Fleet
import Foundation
import Workflow

/// `tasker run`'s options for remote tasks (`exec=ssh`, `exec=ssh_shell`, `hosts=`).
/// They mirror `tasker exec`'s, except that TASKER already owns `-l` (log
/// directory) and `-p` (project): the remote user is `--ssh-user`, the port comes
/// from the inventory, ssh_config or `host:port`.
struct WorkflowRemoteOptions: ParsableArguments {
    @OptionGroup var inventory: InventoryOptions

    @OptionGroup var ssh: SSHOptions

    @Option(name: .long, help: ArgumentHelp("Remote user.", valueName: "user"))
    var sshUser: String?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Hosts a hosts= task runs at once unless it sets max_parallel (default 64).", valueName: "n"))
    var forks: Int?

    @Option(name: .long, help: ArgumentHelp("Keep every remote run's full stdout/stderr in DIR/<task>/<host>.stdout|stderr.", valueName: "dir"))
    var outputDir: String?

    @Option(name: .long, help: ArgumentHelp("Bytes a hosts= task keeps per host from the start and from the end of each stream (default 32768).", valueName: "bytes"))
    var keepBytes: Int?

    @Option(name: .long, help: ArgumentHelp("After the run, write the hosts that failed in any hosts= task to FILE, one per line (rerun them with --limit @FILE).", valueName: "file"))
    var retryFile: String?

    @OptionGroup var shard: ShardOptions

    func validate() throws {
        if let sshUser, sshUser.isEmpty { throw ValidationError("--ssh-user needs a user name") }
        if let forks, forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let keepBytes, keepBytes < 0 { throw ValidationError("--keep-bytes must not be negative") }
    }

    /// The pooled SSH transport for the run: ssh_config, the inventory, then these options.
    func makeRunner() throws -> SSHTaskRunner {
        // Checked here, after the task file's arguments are merged: either side may give -i.
        if inventory.inventories.isEmpty, inventory.limit != nil { throw UsageError("--limit needs -i") }
        let budget: FileDescriptorBudget
        do {
            budget = try FileDescriptorBudget.plan(requestedForks: forks ?? 64, filesPerHost: outputDir == nil ? 0 : 2)
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
        if let warning = budget.warning { ConsoleWriter.shared.write("tasker: warning: \(warning)\n", to: .stderr) }
        let session = ssh.makeSession(resolver: try ssh.makeResolver(user: sshUser),
                                      inventory: inventory.inventories.isEmpty ? nil : try inventory.load(), limit: inventory.limit,
                                      shard: try shard.resolved(), lifetime: .workflow, budget: budget)
        let shard = try self.shard.resolved()
        return SSHTaskRunner(session: session, settings: .init(forks: budget.forks, outputDirectory: outputDir.map { shard?.expand($0) ?? $0 },
                                                               fanOutKeepBytes: keepBytes ?? 32 << 10))
    }

    /// Writes `--retry-file`: each host that failed in some fan-out task, once, in
    /// the order of the tasks' IDs; empty when none failed.
    func writeRetryFile(from results: [Int: TaskResult]) {
        guard let written = retryFile else { return }
        let retryFile = (try? shard.resolved())??.expand(written) ?? written
        var hosts: [String] = []
        for id in results.keys.sorted() {
            for host in results[id]?.hosts ?? [] where !host.success && !hosts.contains(host.host) { hosts.append(host.host) }
        }
        do {
            try hosts.map { $0 + "\n" }.joined().write(toFile: retryFile, atomically: true, encoding: .utf8)
        } catch {
            ConsoleWriter.shared.write("tasker: cannot write retry file \(retryFile): \(error.localizedDescription)\n", to: .stderr)
        }
    }
}
