import Foundation
import SSH
import Locking

/// Connection settings given on the command line; they override everything else.
public struct ConnectionOverrides: Sendable {
    public var user: String?
    public var port: Int?
    public var identityFiles: [String] = []
    public var connectTimeout: Double?
    public var hostKeyPolicy: HostKeyPolicy?
    public var knownHostsFile: String?
    public var maxChannelsPerHost: Int?
    /// Seconds between liveness probes of a silent host (0 turns them off).
    public var serverAliveInterval: Double?
    /// Unanswered probes before a host is given up.
    public var serverAliveCountMax: Int?
    /// `-J`: jump hosts for every target, as `ProxyJump` (`none` for none); wins over ssh_config.
    public var jump: String?
    /// The run's key files, passphrases and password (`--ask-pass`, `--password-file`), shared by every hop.
    public var credentials: Credentials?
    /// `--env NAME=VALUE`: on top of ssh_config's `SetEnv`.
    public var environment = RemoteEnvironment()
    /// `--become` and its companions; each value given wins over the inventory's.
    public var become = BecomeSettings()

    public init() {}
}

/// How commands run as another user, as far as one source (the command line
/// or an inventory host's `ansible_become*` variables) says; nil: not said.
public struct BecomeSettings: Sendable {
    public var enabled: Bool?
    public var method: Become.Method?
    public var user: String?
    public var password: Secret?

    public init(enabled: Bool? = nil, method: Become.Method? = nil, user: String? = nil, password: Secret? = nil) {
        self.enabled = enabled
        self.method = method
        self.user = user
        self.password = password
    }

    /// The command line over the inventory: become, or nil when neither turns it on.
    func merged(over inventory: BecomeSettings) -> Become? {
        guard enabled ?? inventory.enabled ?? false else { return nil }
        return whenAsked(over: inventory)
    }

    /// The method, user and password become uses, whether or not it is on.
    func whenAsked(over inventory: BecomeSettings) -> Become {
        Become(method: method ?? inventory.method ?? .sudo, user: user ?? inventory.user ?? "root",
               password: password ?? inventory.password)
    }
}

/// Settings for one host that come from an inventory (`ansible_host`, …).
public struct InventoryConnectionVariables: Sendable {
    public var address: String?
    public var port: Int?
    public var user: String?
    /// `ansible_ssh_private_key_file`, then `-i` keys of the inventory's ssh arguments.
    public var identityFiles: [String]
    /// A ProxyJump list from `ansible_ssh_common_args`/`ansible_ssh_extra_args` (`-J`, `-o ProxyJump=`).
    public var jump: String?
    /// A ProxyCommand from the same arguments (`-o ProxyCommand=`).
    public var proxyCommand: String?
    /// `ansible_password` / `ansible_ssh_pass`: the login password for this host.
    public var password: String?
    /// `ansible_ssh_host_key_checking` / `ansible_host_key_checking`: false turns checking off.
    public var hostKeyPolicy: HostKeyPolicy?
    /// `ansible_become`, `ansible_become_method`, `ansible_become_user`, `ansible_become_password`.
    public var become = BecomeSettings()

    public init(address: String? = nil, port: Int? = nil, user: String? = nil, identityFiles: [String] = [],
                jump: String? = nil, proxyCommand: String? = nil, password: String? = nil, hostKeyPolicy: HostKeyPolicy? = nil) {
        self.address = address
        self.port = port
        self.user = user
        self.identityFiles = identityFiles
        self.jump = jump
        self.proxyCommand = proxyCommand
        self.password = password
        self.hostKeyPolicy = hostKeyPolicy
    }
}

/// Merges, for each host, in increasing precedence: defaults, ssh_config,
/// inventory variables, command-line options, and a `user@`/`:port` written in
/// the target itself.
public struct ConnectionResolver: Sendable {
    public let sshConfig: SSHConfig
    public let overrides: ConnectionOverrides
    private let home: String
    private let localUser: String
    private let knownHostsCache = KnownHostsCache()

    public init(sshConfig: SSHConfig, overrides: ConnectionOverrides) {
        self.sshConfig = sshConfig
        self.overrides = overrides
        home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        localUser = ProcessInfo.processInfo.environment["USER"] ?? NSUserName()
    }

    /// The config `ssh` would read: `path` when given, else `~/.ssh/config` if it exists.
    public static func loadSSHConfig(path: String?) throws -> SSHConfig {
        if let path {
            do { return try SSHConfig(contentsOf: path) } catch let error as SSHConfigError {
                throw FleetError.badInput("ssh config \(error)")
            }
        }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let defaultPath = home + "/.ssh/config"
        guard FileManager.default.fileExists(atPath: defaultPath) else { return .empty }
        do { return try SSHConfig(contentsOf: defaultPath) } catch let error as SSHConfigError {
            throw FleetError.badInput("ssh config \(error)")
        }
    }

    /// `name` is what the host is reported as (default: the target as written).
    /// How the host is reached comes from `-J`, else the inventory's ssh
    /// arguments, else ssh_config (`ProxyJump` or `ProxyCommand`).
    public func resolve(_ target: HostTarget, inventory: InventoryConnectionVariables = .init(),
                        name: String? = nil) throws -> ConnectionSpec {
        let config = try configValues(for: target.host, user: target.user ?? overrides.user ?? inventory.user)
        var spec = try resolve(target, config: config, inventory: inventory, name: name ?? target.description, isJumpHost: false)
        let route: Route = if let jump = overrides.jump { .init(jump: jump) } else { .init(inventory) ?? .init(config) }
        try follow(route, for: &spec, host: target.host, depth: 0)
        return spec
    }

    /// How a host is reached: directly, through jump hosts, or over a ProxyCommand's pipes.
    private enum Route {
        case direct
        case jump(String)
        case command(String)

        init(jump: String) {
            self = jump.lowercased() == "none" ? .direct : .jump(jump)
        }

        init(command: String) {
            self = command.lowercased() == "none" ? .direct : .command(command)
        }

        init?(_ inventory: InventoryConnectionVariables) {
            if let jump = inventory.jump { self.init(jump: jump) } else if let command = inventory.proxyCommand {
                self.init(command: command)
            } else { return nil }
        }

        init(_ config: SSHConfigValues) {
            if let jump = config.proxyJump { self.init(jump: jump) } else if let command = config.proxyCommand {
                self.init(command: command)
            } else { self = .direct }
        }
    }

    private func follow(_ route: Route, for spec: inout ConnectionSpec, host: String, depth: Int) throws {
        switch route {
        case .direct: break
        case .jump(let list): spec.jumps = try jumpChain(list, for: spec, depth: depth)
        case .command(let command): spec.settings.proxyCommand = expandProxyCommand(command, spec.settings, host: host)
        }
    }

    /// ProxyCommand's tokens as ssh expands them: `%h` the address (after
    /// HostName), `%n` the name as given, `%p` the port, `%r` the user, `%%`.
    private func expandProxyCommand(_ command: String, _ settings: SSHConnectionSettings, host: String) -> String {
        PercentTokens(["h": settings.address, "n": host, "p": String(settings.port), "r": settings.user,
                       "u": localUser, "d": home]).expand(command)
    }

    /// Longest chain of jump hosts; beyond it a configuration is taken to loop.
    static let maximumJumpHosts = 10

    /// The hosts to pass through for `list`, as `ssh -J list` reaches them:
    /// the first hop is reached the way its own ssh_config says (its own
    /// `ProxyJump` included), each later hop through the one before it.
    private func jumpChain(_ list: String, for target: ConnectionSpec, depth: Int) throws -> [ConnectionSpec] {
        if list.lowercased() == "none" { return [] }
        let hops: [JumpHostList.Hop]
        do { hops = try JumpHostList(parsing: list).hops } catch let error as JumpHostList.ParseError {
            throw FleetError.badInput("bad jump host list '\(list)' for \(target.name): \(error.message)")
        }
        var chain: [ConnectionSpec] = []
        for (index, hop) in hops.enumerated() {
            let config = try configValues(for: hop.host, user: hop.user)
            var spec = try resolve(HostTarget(host: hop.host, user: hop.user, port: hop.port), config: config,
                                   inventory: .init(), name: hop.host, isJumpHost: true)
            if index == 0 {
                guard depth < Self.maximumJumpHosts else {
                    throw FleetError.badInput("jump hosts for \(target.name) go more than \(Self.maximumJumpHosts) deep (a ProxyJump loop?)")
                }
                try follow(Route(config), for: &spec, host: hop.host, depth: depth + 1)
                chain += spec.jumps
                spec.jumps = []
            }
            chain.append(spec)
        }
        guard chain.count <= Self.maximumJumpHosts else {
            throw FleetError.badInput("jump hosts for \(target.name) go more than \(Self.maximumJumpHosts) deep (a ProxyJump loop?)")
        }
        if let last = chain.last, last.settings.address == target.settings.address,
           last.settings.port == target.settings.port, last.settings.user == target.settings.user {
            throw FleetError.badInput("jump host loop: \(target.name) would be reached through itself")
        }
        return chain
    }

    /// `user`: the remote user given outside ssh_config, which `Match user` sees.
    private func configValues(for host: String, user: String?) throws -> SSHConfigValues {
        do { return try sshConfig.resolve(host: host, user: user, localUser: localUser) } catch let error as SSHConfigError {
            throw FleetError.badInput("ssh config \(error)")
        }
    }

    /// One host's settings. The command line's user, port and identities are
    /// the target's, as with `ssh -J`: a jump host takes its own from its
    /// `[user@]host[:port]` and ssh_config. Its other options (timeouts,
    /// host key policy, known_hosts) apply to every hop.
    private func resolve(_ target: HostTarget, config: SSHConfigValues, inventory: InventoryConnectionVariables,
                         name: String, isJumpHost: Bool) throws -> ConnectionSpec {
        var commandLine = overrides
        if isJumpHost {
            commandLine.user = nil
            commandLine.port = nil
            commandLine.identityFiles = []
        }
        let user = target.user ?? commandLine.user ?? inventory.user ?? config.user ?? localUser
        let port = target.port ?? commandLine.port ?? inventory.port ?? config.port ?? 22
        let address = inventory.address ?? config.hostName.map { expand($0, host: target.host, user: user, port: port) } ?? target.host

        var identities = commandLine.identityFiles.map { expand($0, host: target.host, user: user, port: port) }
        identities += inventory.identityFiles.map { expand($0, host: target.host, user: user, port: port) }
        identities += config.identityFiles.map { expand($0, host: target.host, user: user, port: port) }
        if identities.isEmpty {
            identities = ["id_ed25519", "id_ecdsa", "id_rsa"].map { "\(home)/.ssh/\($0)" }
                .filter { FileManager.default.fileExists(atPath: $0) }
        }
        var seen: Set<String> = []
        identities = identities.filter { seen.insert($0).inserted }

        var knownHostsFiles: [String]
        if let file = overrides.knownHostsFile {
            knownHostsFiles = [file]
        } else {
            knownHostsFiles = (config.userKnownHostsFiles ?? ["~/.ssh/known_hosts", "~/.ssh/known_hosts2"])
                + (config.globalKnownHostsFiles ?? ["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"])
        }
        knownHostsFiles = knownHostsFiles.filter { $0.lowercased() != "none" }
            .map { expand($0, host: target.host, user: user, port: port) }

        var settings = SSHConnectionSettings(
            name: name,
            address: address,
            port: port,
            user: user,
            identityFiles: identities,
            agentSocket: agentSocket(config, host: target.host, user: user, port: port),
            knownHosts: knownHostsCache.load(knownHostsFiles),
            hostKeyPolicy: commandLine.hostKeyPolicy ?? inventory.hostKeyPolicy ?? config.hostKeyPolicy ?? .strict,
            connectTimeout: overrides.connectTimeout ?? config.connectTimeout ?? 10,
            keepaliveInterval: overrides.serverAliveInterval ?? config.serverAliveInterval.map(Double.init) ?? 10,
            keepaliveCountMax: overrides.serverAliveCountMax ?? config.serverAliveCountMax ?? 3,
            maxChannels: overrides.maxChannelsPerHost ?? 8)
        settings.hostKeyAlias = config.hostKeyAlias
        settings.loginPassword = inventory.password
        settings.environment = config.environment
        for (name, value) in overrides.environment.variables { settings.environment.set(name, value) }
        applyAuthentication(config, commandLine: commandLine, to: &settings, host: target.host)
        var spec = ConnectionSpec(name: name, settings: settings)
        if !isJumpHost {
            spec.become = overrides.become.merged(over: inventory.become)
            spec.becomeWhenAsked = overrides.become.whenAsked(over: inventory.become)
        }
        return spec
    }

    /// How the host is logged into and which algorithms it may use, from ssh_config
    /// and the run's credentials. `-k` offers only the keys given, as `IdentitiesOnly`.
    private func applyAuthentication(_ config: SSHConfigValues, commandLine: ConnectionOverrides,
                                     to settings: inout SSHConnectionSettings, host: String) {
        settings.identitiesOnly = config.identitiesOnly == true || !commandLine.identityFiles.isEmpty
        settings.certificateFiles = config.certificateFiles.map {
            expand($0, host: host, user: settings.user, port: settings.port)
        }
        if let list = config.pubkeyAcceptedAlgorithms {
            settings.publicKeyAlgorithms = AlgorithmList.resolve(list, for: .pubkeyAcceptedAlgorithms)
        }
        settings.algorithms = AlgorithmPreferences(
            keyExchange: config.kexAlgorithms.map { AlgorithmList.resolve($0, for: .kexAlgorithms) },
            hostKey: config.hostKeyAlgorithms.map { AlgorithmList.resolve($0, for: .hostKeyAlgorithms) },
            ciphers: config.ciphers.map { AlgorithmList.resolve($0, for: .ciphers) },
            macs: config.macs.map { AlgorithmList.resolve($0, for: .macs) })
        settings.passwordAuthentication = config.passwordAuthentication ?? true
        settings.keyboardInteractiveAuthentication = config.kbdInteractiveAuthentication ?? true
        if let credentials = overrides.credentials { settings.credentials = credentials }
    }

    /// The agent to ask for keys: ssh_config's `IdentityAgent`, else `SSH_AUTH_SOCK`.
    /// With `IdentitiesOnly` it still signs for the identity files it holds.
    private func agentSocket(_ config: SSHConfigValues, host: String, user: String, port: Int) -> String? {
        // getenv, not ProcessInfo.environment: this runs for every host, and that builds the whole environment each time.
        func variable(_ name: String) -> String? { getenv(name).map { String(cString: $0) } }
        switch config.identityAgent {
        case nil, "SSH_AUTH_SOCK": return variable("SSH_AUTH_SOCK").flatMap { $0.isEmpty ? nil : $0 }
        case "none": return nil
        case let path?:
            if path.hasPrefix("$") { return variable(String(path.dropFirst())) }
            return expand(path, host: host, user: user, port: port)
        }
    }

    /// OpenSSH's `~` and `%` tokens in paths and host names.
    func expand(_ value: String, host: String, user: String, port: Int) -> String {
        var text = value
        if text.hasPrefix("~/") { text = home + text.dropFirst() } else if text == "~" { text = home }
        return PercentTokens(["d": home, "h": host, "n": host, "r": user, "u": localUser, "p": String(port)]).expand(text)
    }
}

/// Parses each distinct set of known_hosts files once per run.
final class KnownHostsCache: Sendable {
    private let cache = Locked<[String: KnownHosts]>([:])

    func load(_ files: [String]) -> KnownHosts {
        let key = files.joined(separator: "\n")
        return cache.withLock { cache in
            if let known = cache[key] { return known }
            let known = KnownHosts(files: files)
            cache[key] = known
            return known
        }
    }
}
