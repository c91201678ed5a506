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

    public init() {}
}

/// Settings for one host that come from an inventory (`ansible_host`, …).
public struct InventoryConnectionVariables: Sendable, Equatable {
    public var address: String?
    public var port: Int?
    public var user: String?
    public var identityFile: String?

    public init(address: String? = nil, port: Int? = nil, user: String? = nil, identityFile: String? = nil) {
        self.address = address
        self.port = port
        self.user = user
        self.identityFile = identityFile
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
    public func resolve(_ target: HostTarget, inventory: InventoryConnectionVariables = .init(),
                        name: String? = nil) throws -> ConnectionSpec {
        let config: SSHConfigValues
        do { config = try sshConfig.resolve(host: target.host) } catch let error as SSHConfigError {
            throw FleetError.badInput("ssh config \(error)")
        }
        let user = target.user ?? overrides.user ?? inventory.user ?? config.user ?? localUser
        let port = target.port ?? overrides.port ?? inventory.port ?? config.port ?? 22
        let address = inventory.address ?? config.hostName.map { expand($0, host: target.host, user: user, port: port) } ?? target.host

        var identities = overrides.identityFiles.map { expand($0, host: target.host, user: user, port: port) }
        if let file = inventory.identityFile { identities.append(expand(file, host: target.host, user: user, port: port)) }
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

        let settings = SSHConnectionSettings(
            address: address,
            port: port,
            user: user,
            identityFiles: identities,
            agentSocket: agentSocket(config, host: target.host, user: user, port: port),
            knownHosts: knownHostsCache.load(knownHostsFiles),
            hostKeyPolicy: overrides.hostKeyPolicy ?? config.hostKeyPolicy ?? .strict,
            connectTimeout: overrides.connectTimeout ?? config.connectTimeout ?? 10,
            keepaliveInterval: overrides.serverAliveInterval ?? config.serverAliveInterval.map(Double.init) ?? 10,
            keepaliveCountMax: overrides.serverAliveCountMax ?? config.serverAliveCountMax ?? 3,
            maxChannels: overrides.maxChannelsPerHost ?? 8)
        return ConnectionSpec(name: name ?? target.description, settings: settings)
    }

    /// The agent to ask for keys: none with `IdentitiesOnly yes` or `-k`, else
    /// ssh_config's `IdentityAgent`, else `SSH_AUTH_SOCK`.
    private func agentSocket(_ config: SSHConfigValues, host: String, user: String, port: Int) -> String? {
        if config.identitiesOnly == true || !overrides.identityFiles.isEmpty { return nil }
        let environment = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
        switch config.identityAgent {
        case nil, "SSH_AUTH_SOCK": return environment.flatMap { $0.isEmpty ? nil : $0 }
        case "none": return nil
        case let path?:
            if path.hasPrefix("$") { return ProcessInfo.processInfo.environment[String(path.dropFirst())] }
            return expand(path, host: host, user: user, port: port)
        }
    }

    /// OpenSSH's `~` and `%` tokens in paths and host names.
    func expand(_ value: String, host: String, user: String, port: Int) -> String {
        var text = value
        if text.hasPrefix("~/") { text = home + text.dropFirst() } else if text == "~" { text = home }
        guard text.contains("%") else { return text }
        var result = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "%", let token = iterator.next() else {
                result.append(character)
                continue
            }
            switch token {
            case "%": result += "%"
            case "d": result += home
            case "h", "n": result += host
            case "r": result += user
            case "u": result += localUser
            case "p": result += String(port)
            default: result += "%\(token)"
            }
        }
        return result
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
