import ArgumentParser
import Fleet

extension HostKeyPolicy: ExpressibleByArgument {}

/// Connection options shared by every command that reaches hosts.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .customShort("F"), help: ArgumentHelp("ssh_config file (default ~/.ssh/config if present).", valueName: "file"))
    var sshConfig: String?

    @Option(name: .customShort("l"), help: ArgumentHelp("Remote user.", valueName: "user"))
    var user: String?

    @Option(name: .customShort("p"), help: ArgumentHelp("Remote port.", valueName: "port"))
    var port: Int?

    @Option(name: .customShort("k"), help: ArgumentHelp("Private key file (repeatable); disables the agent.", valueName: "keyfile"))
    var keyFiles: [String] = []

    @Option(name: .long, help: ArgumentHelp("Seconds for TCP connect, key exchange and authentication.", valueName: "seconds"))
    var connectTimeout: Double?

    @Option(name: .long, help: "Host key checking: strict (default), accept-new or off.")
    var hostKeyPolicy: HostKeyPolicy?

    @Option(name: .long, help: ArgumentHelp("known_hosts file to use instead of ssh_config's.", valueName: "file"))
    var knownHosts: String?

    @Option(name: .long, help: ArgumentHelp("Channels open at once per connection (1-9).", valueName: "n"))
    var maxChannels: Int?

    @Option(name: .long, help: ArgumentHelp("SSH handshakes in flight at once.", valueName: "n"))
    var maxHandshakes: Int = 50

    func validate() throws {
        if let port, !(1...65535).contains(port) { throw ValidationError("invalid port \(port) (expected 1-65535)") }
        if let connectTimeout, !(connectTimeout > 0) { throw ValidationError("--connect-timeout must be positive") }
        if let maxChannels, !(1...9).contains(maxChannels) { throw ValidationError("--max-channels must be 1-9 (sshd allows 10 sessions per connection)") }
        if maxHandshakes < 1 { throw ValidationError("--max-handshakes must be at least 1") }
        if let user, user.isEmpty { throw ValidationError("-l needs a user name") }
    }

    var overrides: ConnectionOverrides {
        var overrides = ConnectionOverrides()
        overrides.user = user
        overrides.port = port
        overrides.identityFiles = keyFiles
        overrides.connectTimeout = connectTimeout
        overrides.hostKeyPolicy = hostKeyPolicy
        overrides.knownHostsFile = knownHosts
        overrides.maxChannelsPerHost = maxChannels
        return overrides
    }

    func makeResolver() throws -> ConnectionResolver {
        ConnectionResolver(sshConfig: try ConnectionResolver.loadSSHConfig(path: sshConfig), overrides: overrides)
    }
}
