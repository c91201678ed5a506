/// Everything one SSH connection needs, resolved before anything connects.
public struct SSHConnectionSettings: Sendable {
    /// What messages call the host (the name the user gave); defaults to `address`.
    public var name: String
    /// Address or DNS name to connect to (ssh_config `HostName`).
    public var address: String
    public var port: Int
    /// ssh_config `ProxyCommand`, tokens already expanded: run it and speak SSH
    /// over its stdin and stdout instead of connecting to `address`.
    public var proxyCommand: String?
    public var user: String
    /// Private key files to offer, in order.
    public var identityFiles: [String]
    /// The ssh-agent socket whose keys are offered first, as OpenSSH does; nil for none.
    public var agentSocket: String?
    /// `IdentitiesOnly`: offer only `identityFiles` and `certificateFiles` (the
    /// agent still signs for those it holds).
    public var identitiesOnly = false
    /// `CertificateFile`: user certificates offered first, signed with the key file beside them.
    public var certificateFiles: [String] = []
    /// `PubkeyAcceptedAlgorithms`, resolved: the signature algorithms that may be offered.
    public var publicKeyAlgorithms = AlgorithmList.defaultPublicKeyAlgorithms
    /// `PasswordAuthentication` and `KbdInteractiveAuthentication`: whether those
    /// methods may be tried, once `credentials` has a password source.
    public var passwordAuthentication = true
    public var keyboardInteractiveAuthentication = true
    /// Key files, passphrases and the password, shared by every connection of a run.
    public var credentials = Credentials.processDefault
    /// Variables every command on this connection starts with (`--env`, ssh_config `SetEnv`).
    public var environment = RemoteEnvironment()
    /// This host's own login password (an inventory's `ansible_password`); when set
    /// it is used for password and keyboard-interactive logins instead of the run's.
    public var loginPassword: String?
    /// `KexAlgorithms`, `HostKeyAlgorithms`, `Ciphers`, `MACs`, resolved; nil keeps libssh2's default.
    public var algorithms = AlgorithmPreferences()
    public var knownHosts: KnownHosts
    /// ssh_config `HostKeyAlias`: the name the host's key is looked up under instead of `address`.
    public var hostKeyAlias: String?
    public var hostKeyPolicy: HostKeyPolicy
    /// TCP connect, banner, key exchange and authentication must finish within this.
    public var connectTimeout: Double
    /// Seconds between liveness probes when the host has been silent (ssh_config
    /// `ServerAliveInterval`); 0 disables them and the TCP timeouts derived from them.
    public var keepaliveInterval: Double
    /// Probes that may go unanswered before the host is given up as gone
    /// (`ServerAliveCountMax`): a silent host fails after interval × count.
    public var keepaliveCountMax: Int
    /// Receive window offered for each channel.
    public var channelWindowSize: UInt32
    /// Command channels open at once on this connection; one more is kept for
    /// killing timed-out commands (OpenSSH's MaxSessions default is 10).
    public var maxChannels: Int

    public init(name: String? = nil, address: String, port: Int = 22, proxyCommand: String? = nil, user: String, identityFiles: [String] = [],
                agentSocket: String? = nil, knownHosts: KnownHosts, hostKeyPolicy: HostKeyPolicy = .strict,
                connectTimeout: Double = 10, keepaliveInterval: Double = 10, keepaliveCountMax: Int = 3,
                channelWindowSize: UInt32 = 8 << 20, maxChannels: Int = 8) {
        self.name = name ?? address
        self.address = address
        self.port = port
        self.proxyCommand = proxyCommand
        self.user = user
        self.identityFiles = identityFiles
        self.agentSocket = agentSocket
        self.knownHosts = knownHosts
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveCountMax = max(1, keepaliveCountMax)
        self.channelWindowSize = channelWindowSize
        self.maxChannels = maxChannels
    }
}

/// Algorithm lists from ssh_config, in preference order, for key exchange.
public struct AlgorithmPreferences: Sendable, Equatable {
    public var keyExchange: [String]?
    /// When set, known_hosts no longer reorders host-key algorithms (as in OpenSSH).
    public var hostKey: [String]?
    public var ciphers: [String]?
    public var macs: [String]?

    public init(keyExchange: [String]? = nil, hostKey: [String]? = nil, ciphers: [String]? = nil, macs: [String]? = nil) {
        self.keyExchange = keyExchange
        self.hostKey = hostKey
        self.ciphers = ciphers
        self.macs = macs
    }
}

extension SSHConnectionSettings {
    /// The name known_hosts records this host's key under.
    public var knownHostsName: String { hostKeyAlias ?? address }

    /// How long a host may stay silent before the connection is given up; nil when probes are off.
    public var deadPeerTimeout: Double? {
        keepaliveInterval > 0 ? keepaliveInterval * Double(keepaliveCountMax) : nil
    }
}
