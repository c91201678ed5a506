import Foundation

/// An extra OpenSSH server for tests that need one set up differently from the
/// fleet (its own sshd_config lines) or placed where faults can be scripted
/// (inside a network namespace, reached through a forwarder on a 127.x address).
/// It uses the fleet's host and client keys; `sshConfig` and `knownHosts` reach it
/// as host `name`.
public final class TestSSHServer: @unchecked Sendable {
    public let name: String
    public let address: String
    public let port: Int
    public let directory: String
    public let namespace: NetworkNamespace?
    /// Where sshd listens inside the namespace.
    public let insideAddress: String
    public let insidePort: Int
    public var sshConfig: String { directory + "/ssh_config" }
    public var knownHosts: String { directory + "/known_hosts" }
    public var log: String { directory + "/sshd.log" }
    private var stopped = false

    /// Port sshd listens on inside a namespace (127.0.0.1 there).
    public static let namespacePort = 2222

    /// Starts sshd on `address:port`, or, with `namespace`, inside it on
    /// `insideAddress:insidePort` with a forwarder on `address:port` outside
    /// that carries each connection in. With `insideOnly`, there is no
    /// forwarder: only hosts inside the namespace reach it, at `address:port`.
    public init(fleet: TestFleet, name: String, address: String, port: Int = TestFleet.port,
                extraConfig: [String] = [], namespace: NetworkNamespace? = nil,
                insideAddress: String = "127.0.0.1", insidePort: Int = TestSSHServer.namespacePort,
                insideOnly: Bool = false) throws {
        self.name = name
        self.address = insideOnly ? insideAddress : address
        self.port = insideOnly ? insidePort : port
        self.namespace = namespace
        self.insideAddress = insideAddress
        self.insidePort = insidePort
        directory = "\(fleet.stateDirectory)/extra-\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        stop() // an sshd left behind by an interrupted test run would hold the address
        stopped = false
        let publicKey = try String(contentsOfFile: "\(fleet.stateDirectory)/sshd-0/ssh_host_ed25519_key.pub", encoding: .utf8)
            .split(separator: " ").prefix(2).joined(separator: " ")
        try "[\(self.address)]:\(self.port) \(publicKey)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        try """
            Host \(name)
                HostName \(self.address)
                Port \(self.port)
                User \(NSUserName())
                IdentityFile \(fleet.clientKey)
                IdentitiesOnly yes
                UserKnownHostsFile \(knownHosts)
                StrictHostKeyChecking yes

            """.write(toFile: sshConfig, atomically: true, encoding: .utf8)
        // The fleet's own sshd_config, with this server's address, port and pid file, and the
        // extra lines first (sshd keeps the first value it reads for a keyword).
        let listen = namespace == nil ? ["ListenAddress \(address)", "Port \(port)"]
            : ["ListenAddress \(insideAddress)", "Port \(insidePort)"]
        let base = try String(contentsOfFile: "\(fleet.stateDirectory)/sshd-0/sshd_config", encoding: .utf8)
            .split(separator: "\n").map(String.init)
            .filter { !$0.hasPrefix("ListenAddress ") && !$0.hasPrefix("Port ") && !$0.hasPrefix("PidFile ") }
        let config = (listen + ["PidFile \(directory)/sshd.pid"] + extraConfig + base).joined(separator: "\n") + "\n"
        try config.write(toFile: "\(directory)/sshd_config", atomically: true, encoding: .utf8)
        try Data().write(to: URL(fileURLWithPath: log))
        let sshd = ["/usr/sbin/sshd", "-f", "\(directory)/sshd_config", "-E", log]
        let started = try namespace.map { try $0.run(sshd) } ?? ProcessRunner.run(sshd[0], Array(sshd.dropFirst()))
        guard started.status == 0 else { throw TestFleetError(message: "sshd for \(name) failed: \(started.stderr)") }
        if let namespace, !insideOnly {
            try namespace.forward(from: address, port: port, toPort: insidePort)
        }
        try waitUntilListening()
    }

    deinit { stop() }

    public func stop() {
        guard !stopped else { return }
        stopped = true
        if let pid = listenerPID {
            signalProcesses([pid], "CONT")
            signalProcesses([pid], "TERM")
        }
    }

    /// The listening sshd.
    public var listenerPID: Int32? {
        (try? String(contentsOfFile: "\(directory)/sshd.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The sshd processes serving established connections to this server (the
    /// per-connection children, not the listener).
    public func sessionProcesses() throws -> [Int32] {
        let command = "ss -Htnp state established '( sport = :\(namespace == nil ? port : insidePort) )' | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u"
        let result = try namespace.map { try $0.run(["/bin/sh", "-c", command]) } ?? ProcessRunner.shell(command)
        return result.stdout.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Lines of the sshd log that record an accepted login.
    public func acceptedLogins() -> Int {
        let text = String(decoding: FileManager.default.contents(atPath: log) ?? Data(), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).filter { $0.contains("Accepted publickey") }.count
    }

    private func waitUntilListening() throws {
        let probeAddress = insideAddress == "0.0.0.0" ? "127.0.0.1" : insideAddress
        let probe = "exec 3<>/dev/tcp/\(probeAddress)/\(insidePort)"
        for _ in 0..<100 {
            let ready: Bool
            if let namespace {
                ready = (try? namespace.run(["/bin/bash", "-c", probe]))?.status == 0
            } else {
                ready = (try? ProcessRunner.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/\(address)/\(port)"]))?.status == 0
            }
            if ready { return }
            usleep(50_000)
        }
        throw TestFleetError(message: "sshd for \(name) did not start listening")
    }
}

/// Sends a signal to processes, for faults such as a frozen (SIGSTOP) or killed server.
public func signalProcesses(_ pids: [Int32], _ signal: String) {
    guard !pids.isEmpty else { return }
    _ = try? ProcessRunner.run("/bin/kill", ["-\(signal)"] + pids.map(String.init))
}
