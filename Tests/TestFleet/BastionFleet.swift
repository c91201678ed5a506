import Foundation

/// Hosts that only a jump host can reach. A network namespace holds a bastion
/// sshd, which the test reaches through a forwarder at `bastionAddress`, and
/// one sshd that answers for every target: target `k` is `tNNN` at
/// 127.0.1.k (127.0.2.x beyond 250) port 2223 *inside* the namespace. Outside,
/// nothing listens there, so a direct connection fails.
///
/// `sshConfig` names the bastion `bastionName` and each target (`HostName`,
/// `Port`, key, known_hosts; `ProxyJump` only when asked for), and
/// `knownHosts` has every key under its own name.
///
/// Built `behind` another BastionFleet, the bastion is reachable only from
/// inside that fleet's namespace (a forwarder there listens at
/// `bastionAddress`), so its targets are two hops away; the config then
/// also names the outer bastion and jumps through it.
public final class BastionFleet: @unchecked Sendable {
    public static let targetPort = 2223

    public let namespace: NetworkNamespace
    public let bastion: TestSSHServer
    public let targets: TestSSHServer
    public let bastionName: String
    /// Where the bastion is reached: from the test, or from inside `outer`'s namespace.
    public let bastionAddress: String
    public let bastionPort = TestFleet.port
    public let outer: BastionFleet?
    public let targetCount: Int
    public let directory: String
    public var sshConfig: String { directory + "/ssh_config" }
    public var knownHosts: String { directory + "/known_hosts" }

    public init(fleet: TestFleet, bastionName: String = "bastion1", bastionAddress: String = "127.0.22.1",
                targetCount: Int, proxyJumpInConfig: Bool = false, bastionExtraConfig: [String] = [],
                behind outer: BastionFleet? = nil) throws {
        self.bastionName = bastionName
        self.bastionAddress = bastionAddress
        self.outer = outer
        self.targetCount = targetCount
        namespace = try NetworkNamespace()
        bastion = try TestSSHServer(fleet: fleet, name: bastionName, address: bastionAddress,
                                    extraConfig: bastionExtraConfig, namespace: namespace, insideOnly: outer != nil)
        if let outer {
            try namespace.forward(from: bastionAddress, port: bastionPort, toPort: TestSSHServer.namespacePort,
                                  listeningIn: outer.namespace)
        }
        targets = try TestSSHServer(fleet: fleet, name: "\(bastionName)-targets", address: bastionAddress,
                                    namespace: namespace, insideAddress: "0.0.0.0", insidePort: Self.targetPort,
                                    insideOnly: true)
        directory = "\(fleet.stateDirectory)/bastion-\(bastionName)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)

        clientKey = fleet.clientKey
        let hostKey = try String(contentsOfFile: bastion.knownHosts, encoding: .utf8)
            .split(separator: " ").dropFirst().prefix(2).joined(separator: " ")
        var known = "[\(bastionAddress)]:\(bastionPort) \(hostKey)\n"
        if let outer { known += "[\(outer.bastionAddress)]:\(outer.bastionPort) \(hostKey)\n" }
        for index in 1...targetCount {
            known += "[\(Self.targetAddress(index))]:\(Self.targetPort) \(hostKey)\n"
        }
        try known.write(toFile: knownHosts, atomically: true, encoding: .utf8)
        try writeSSHConfig(to: sshConfig, proxyJump: proxyJumpInConfig)
    }

    private let clientKey: String

    /// An ssh_config for the bastion and every target; `bastionKey` replaces
    /// the bastion's login key (a key it does not accept, say).
    public func writeSSHConfig(to path: String, proxyJump: Bool, bastionKey: String? = nil) throws {
        var config = """
            Host \(bastionName)
                HostName \(bastionAddress)
                Port \(bastionPort)
                IdentityFile \(bastionKey ?? clientKey)
            \(outer.map { "    ProxyJump \($0.bastionName)\n" } ?? "")
            """
        if let outer {
            config += """
                Host \(outer.bastionName)
                    HostName \(outer.bastionAddress)
                    Port \(outer.bastionPort)
                    IdentityFile \(clientKey)

                """
        }
        for index in 1...targetCount {
            config += """
                Host \(Self.targetName(index))
                    HostName \(Self.targetAddress(index))
                    Port \(Self.targetPort)
                    IdentityFile \(clientKey)
                \(proxyJump ? "    ProxyJump \(bastionName)\n" : "")
                """
        }
        config += """
            Host *
                User \(NSUserName())
                IdentitiesOnly yes
                UserKnownHostsFile \(knownHosts)
                StrictHostKeyChecking yes

            """
        try config.write(toFile: path, atomically: true, encoding: .utf8)
    }

    public var targetNames: [String] { (1...targetCount).map(Self.targetName) }

    public static func targetName(_ index: Int) -> String {
        String(format: "t%03d", index)
    }

    public static func targetAddress(_ index: Int) -> String {
        "127.0.\(1 + (index - 1) / 250).\(1 + (index - 1) % 250)"
    }

    /// Logins the bastion accepted, one per connection to it.
    public var bastionLogins: Int { bastion.acceptedLogins() }

    /// Logins the targets accepted, one per target session.
    public var targetLogins: Int { targets.acceptedLogins() }

    public func stop() {
        targets.stop()
        bastion.stop()
    }
}
