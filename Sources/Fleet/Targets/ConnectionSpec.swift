import SSH

/// One host, fully resolved: the name it is reported under and every
/// connection setting, merged once before anything connects.
public struct ConnectionSpec: Sendable {
    /// The name the user targeted (an inventory host, alias or address).
    public var name: String
    public var settings: SSHConnectionSettings
    /// The jump hosts the host is reached through, the first one connected to
    /// directly and each later one through the one before; empty for a direct connection.
    public var jumps: [ConnectionSpec]
    /// How the host is reached: an inventory's `ansible_connection` may say otherwise.
    public var transport: ConnectionTransport = .ssh
    /// Commands run as another user through sudo, su or doas; nil: as the login user.
    public var become: Become?
    /// How become would run here if something turned it on (a workflow task's `become=true`):
    /// the method, user and password the command line and inventory give, whether or not they enable it.
    public var becomeWhenAsked = Become()

    public init(name: String, settings: SSHConnectionSettings, jumps: [ConnectionSpec] = []) {
        self.name = name
        self.settings = settings
        self.jumps = jumps
    }

    /// Connections are shared by specs that would open the same session the same way.
    var poolKey: String {
        Self.poolKey(jumps + [self])
    }

    /// The key of the connection to the last hop of `chain`, reached through the ones before it.
    static func poolKey(_ chain: some Collection<ConnectionSpec>) -> String {
        chain.map {
            "\($0.settings.user)@\($0.settings.address):\($0.settings.port)|\($0.settings.identityFiles.joined(separator: ","))"
                + ($0.settings.proxyCommand.map { "|\($0)" } ?? "")
        }.joined(separator: " > ")
    }

    /// The jump hosts' names, for reports (`via`).
    public var via: [String] { jumps.map(\.name) }
}

/// How a host is reached.
public enum ConnectionTransport: Sendable, Equatable {
    case ssh
    /// `ansible_connection=local`: commands run on the controller (`tasker exec`, workflow tasks).
    case local
    /// Another Ansible connection plugin (`docker`, `winrm`, …), which Tasker does not speak.
    case unsupported(String)
}
