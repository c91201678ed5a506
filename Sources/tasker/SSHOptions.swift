import ArgumentParser
import AnsibleInventory
import Fleet
import SSH

extension HostKeyPolicy: ExpressibleByArgument {}

/// The SSH options of every command that reaches hosts (`tasker exec`, `tasker run`).
struct SSHOptions: ParsableArguments {
    @Option(name: [.customShort("F"), .long], help: ArgumentHelp("ssh_config file (default ~/.ssh/config if present).", valueName: "file"))
    var sshConfig: String?

    @Option(name: .customShort("k"), help: ArgumentHelp("Private key file (repeatable); only these keys are offered (the agent still signs for those it holds).", valueName: "keyfile"))
    var keyFiles: [String] = []

    @Option(name: .long, help: ArgumentHelp("Set NAME to VALUE for remote commands (repeatable; exported by the command line, safely quoted).", valueName: "NAME=VALUE"))
    var env: [String] = []

    @Flag(name: .long, help: "Ask once for a password for hosts that take password or keyboard-interactive logins (on the terminal, or through SSH_ASKPASS).")
    var askPass = false

    @Option(name: .long, help: ArgumentHelp("Read the login password from this file (first line; it must be readable by its owner only).", valueName: "file"))
    var passwordFile: String?

    @OptionGroup(title: "Become")
    var become: BecomeOptions

    @Option(name: .long, help: ArgumentHelp("Seconds for TCP connect, key exchange and authentication.", valueName: "seconds"))
    var connectTimeout: Double?

    @Option(name: .long, help: "Host key checking: strict (default), accept-new or off.")
    var hostKeyPolicy: HostKeyPolicy?

    @Option(name: .long, help: ArgumentHelp("known_hosts file to use instead of ssh_config's.", valueName: "file"))
    var knownHosts: String?

    @Option(name: .long, help: ArgumentHelp("SSH handshakes in flight at once (default 50), overall and with or through each jump host.", valueName: "n"))
    var maxHandshakes: Int?

    @Option(name: [.customShort("J"), .long], help: ArgumentHelp("Jump hosts to reach every target through, as ssh -J: [user@]host[:port][,...], or none; wins over ssh_config's ProxyJump.", valueName: "list"))
    var jump: String?

    @Option(name: .long, help: ArgumentHelp("Target sessions one jump host connection carries before another is opened (default 16).", valueName: "n"))
    var tunnelsPerJumpConnection: Int?

    @Option(name: .long, help: ArgumentHelp("Connections to one jump host at most (default 8); beyond them targets wait.", valueName: "n"))
    var maxJumpConnections: Int?

    @Option(name: .long, help: ArgumentHelp("Seconds of silence before a host is asked whether it is still there (default 10, or ssh_config's ServerAliveInterval; 0 turns probes off).", valueName: "seconds"))
    var serverAliveInterval: Double?

    @Option(name: .long, help: ArgumentHelp("Unanswered probes before a silent host is given up (default 3, or ssh_config's ServerAliveCountMax).", valueName: "n"))
    var serverAliveCountMax: Int?

    func validate() throws {
        if let connectTimeout, !(connectTimeout > 0) { throw ValidationError("--connect-timeout must be positive") }
        if let maxHandshakes, maxHandshakes < 1 { throw ValidationError("--max-handshakes must be at least 1") }
        if let serverAliveInterval, !(serverAliveInterval >= 0) { throw ValidationError("--server-alive-interval must not be negative") }
        if let serverAliveCountMax, serverAliveCountMax < 1 { throw ValidationError("--server-alive-count-max must be at least 1") }
        if let tunnelsPerJumpConnection, tunnelsPerJumpConnection < 1 { throw ValidationError("--tunnels-per-jump-connection must be at least 1") }
        if let maxJumpConnections, maxJumpConnections < 1 { throw ValidationError("--max-jump-connections must be at least 1") }
        if askPass, passwordFile != nil { throw ValidationError("--ask-pass and --password-file cannot be used together") }
        for assignment in env {
            guard let equals = assignment.firstIndex(of: "="), RemoteEnvironment.isValidName(String(assignment[..<equals])) else {
                throw ValidationError("--env needs NAME=VALUE with a shell variable name, not '\(assignment)'")
            }
        }
        if let jump, jump.lowercased() != "none" {
            do { _ = try JumpHostList(parsing: jump) } catch let error as JumpHostList.ParseError {
                throw ValidationError("-J: \(error.message)")
            }
        }
    }

    /// ssh_config, then these options and the command's own `user`/`port`/`maxChannels`.
    func makeResolver(user: String?, port: Int? = nil, maxChannels: Int? = nil) throws -> ConnectionResolver {
        var overrides = ConnectionOverrides()
        overrides.user = user
        overrides.port = port
        overrides.identityFiles = keyFiles
        overrides.connectTimeout = connectTimeout
        overrides.hostKeyPolicy = hostKeyPolicy
        overrides.knownHostsFile = knownHosts
        overrides.maxChannelsPerHost = maxChannels
        overrides.serverAliveInterval = serverAliveInterval
        overrides.serverAliveCountMax = serverAliveCountMax
        overrides.jump = jump
        for assignment in env {
            let equals = assignment.firstIndex(of: "=")!
            overrides.environment.set(String(assignment[..<equals]), String(assignment[assignment.index(after: equals)...]))
        }
        // Checked here rather than in validate(): a task file's header may name the file.
        if let passwordFile, let problem = Credentials.problemWithPasswordFile(passwordFile) { throw UsageError(problem) }
        overrides.become = try become.settings()
        overrides.credentials = Credentials(passwordSource: passwordFile.map { .file($0) } ?? (askPass ? .prompt : nil))
        do {
            let config = try ConnectionResolver.loadSSHConfig(path: sshConfig)
            for keyword in config.unsupported { ConsoleWriter.shared.write("tasker: warning: ssh config \(keyword)\n", to: .stderr) }
            return ConnectionResolver(sshConfig: config, overrides: overrides)
        } catch let error as FleetError {
            throw UsageError(error.description)
        }
    }

    /// The session of a run: `oneShot` runs (`tasker exec`) remember failures and close each host's
    /// connection when its work is done; workflows keep connections for later steps.
    func makeSession(resolver: ConnectionResolver, inventory: Inventory? = nil, limit: String? = nil, shard: Shard? = nil,
                     lifetime: FleetSession.Lifetime, budget: FileDescriptorBudget) -> FleetSession {
        FleetSession(settings: .init(resolver: resolver, inventory: inventory, limit: limit, shard: shard, lifetime: lifetime, budget: budget,
                                     maxConcurrentHandshakes: maxHandshakes ?? 50, tunnelsPerJumpHostConnection: tunnelsPerJumpConnection ?? 16,
                                     connectionsPerJumpHost: maxJumpConnections ?? 8))
    }
}
