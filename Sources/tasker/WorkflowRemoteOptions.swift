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

    @Option(name: [.customShort("F"), .long], help: ArgumentHelp("ssh_config file (default ~/.ssh/config if present).", valueName: "file"))
    var sshConfig: String?

    @Option(name: .long, help: ArgumentHelp("Remote user.", valueName: "user"))
    var sshUser: String?

    @Option(name: .customShort("k"), help: ArgumentHelp("Private key file (repeatable); disables the agent.", valueName: "keyfile"))
    var keyFiles: [String] = []

    @Option(name: .long, help: "Host key checking: strict (default), accept-new or off.")
    var hostKeyPolicy: HostKeyPolicy?

    @Option(name: .long, help: ArgumentHelp("known_hosts file to use instead of ssh_config's.", valueName: "file"))
    var knownHosts: String?

    @Option(name: .long, help: ArgumentHelp("Seconds for TCP connect, key exchange and authentication.", valueName: "seconds"))
    var connectTimeout: Double?

    @Option(name: [.customShort("f"), .long], help: ArgumentHelp("Hosts a hosts= task runs at once unless it sets max_parallel (default 64).", valueName: "n"))
    var forks: Int?

    @Option(name: .long, help: ArgumentHelp("SSH handshakes in flight at once (default 50).", valueName: "n"))
    var maxHandshakes: Int?

    @Option(name: .long, help: ArgumentHelp("Keep every remote run's full stdout/stderr in DIR/<task>/<host>.stdout|stderr.", valueName: "dir"))
    var outputDir: String?

    @Option(name: .long, help: ArgumentHelp("Bytes a hosts= task keeps per host from the start and from the end of each stream (default 32768).", valueName: "bytes"))
    var keepBytes: Int?

    func validate() throws {
        if let connectTimeout, !(connectTimeout > 0) { throw ValidationError("--connect-timeout must be positive") }
        if let sshUser, sshUser.isEmpty { throw ValidationError("--ssh-user needs a user name") }
        if let forks, forks < 1 { throw ValidationError("--forks must be at least 1") }
        if let maxHandshakes, maxHandshakes < 1 { throw ValidationError("--max-handshakes must be at least 1") }
        if let keepBytes, keepBytes < 0 { throw ValidationError("--keep-bytes must not be negative") }
        if inventory.inventories.isEmpty, inventory.limit != nil { throw ValidationError("--limit needs -i") }
    }

    /// These options where set, else `other`'s (file-defined arguments).
    func filling(from other: WorkflowRemoteOptions) -> WorkflowRemoteOptions {
        var result = self
        if result.inventory.inventories.isEmpty { result.inventory.inventories = other.inventory.inventories }
        result.inventory.limit = result.inventory.limit ?? other.inventory.limit
        result.sshConfig = result.sshConfig ?? other.sshConfig
        result.sshUser = result.sshUser ?? other.sshUser
        if result.keyFiles.isEmpty { result.keyFiles = other.keyFiles }
        result.hostKeyPolicy = result.hostKeyPolicy ?? other.hostKeyPolicy
        result.knownHosts = result.knownHosts ?? other.knownHosts
        result.connectTimeout = result.connectTimeout ?? other.connectTimeout
        result.forks = result.forks ?? other.forks
        result.maxHandshakes = result.maxHandshakes ?? other.maxHandshakes
        result.outputDir = result.outputDir ?? other.outputDir
        result.keepBytes = result.keepBytes ?? other.keepBytes
        return result
    }

    /// The pooled SSH transport for the run: ssh_config, the inventory, then these options.
    func makeRunner() throws -> SSHTaskRunner {
        var overrides = ConnectionOverrides()
        overrides.user = sshUser
        overrides.identityFiles = keyFiles
        overrides.hostKeyPolicy = hostKeyPolicy
        overrides.knownHostsFile = knownHosts
        overrides.connectTimeout = connectTimeout
        let resolver: ConnectionResolver
        do {
            resolver = ConnectionResolver(sshConfig: try ConnectionResolver.loadSSHConfig(path: sshConfig), overrides: overrides)
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
        let settings = SSHTaskRunner.Settings(
            resolver: resolver, inventory: inventory.inventories.isEmpty ? nil : try inventory.load(),
            limit: inventory.limit, forks: forks ?? 64, outputDirectory: outputDir, fanOutKeepBytes: keepBytes ?? 32 << 10)
        return SSHTaskRunner(settings: settings, pool: ConnectionPool(maxConcurrentHandshakes: maxHandshakes ?? 50))
    }
}
