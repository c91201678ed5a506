/// Everything one SSH connection needs, resolved before anything connects.
public struct SSHConnectionSettings: Sendable {
    /// Address or DNS name to connect to (ssh_config `HostName`).
    public var address: String
    public var port: Int
    public var user: String
    /// Private key files to offer, in order.
    public var identityFiles: [String]
    /// The ssh-agent socket whose keys are offered first, as OpenSSH does; nil for none.
    public var agentSocket: String?
    public var knownHosts: KnownHosts
    public var hostKeyPolicy: HostKeyPolicy
    /// TCP connect, banner, key exchange and authentication must finish within this.
    public var connectTimeout: Double
    /// Seconds between keepalives on an idle connection; 0 disables them.
    public var keepaliveInterval: Int
    /// Receive window offered for each channel.
    public var channelWindowSize: UInt32
    /// Channels open at once on this connection (OpenSSH's MaxSessions default is 10).
    public var maxChannels: Int

    public init(address: String, port: Int = 22, user: String, identityFiles: [String] = [],
                agentSocket: String? = nil, knownHosts: KnownHosts, hostKeyPolicy: HostKeyPolicy = .strict,
                connectTimeout: Double = 10, keepaliveInterval: Int = 15,
                channelWindowSize: UInt32 = 8 << 20, maxChannels: Int = 8) {
        self.address = address
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
        self.agentSocket = agentSocket
        self.knownHosts = knownHosts
        self.hostKeyPolicy = hostKeyPolicy
        self.connectTimeout = connectTimeout
        self.keepaliveInterval = keepaliveInterval
        self.channelWindowSize = channelWindowSize
        self.maxChannels = maxChannels
    }
}
