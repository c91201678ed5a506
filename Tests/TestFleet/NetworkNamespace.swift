import Foundation

/// A network namespace a test creates for itself, with only its own loopback.
/// Servers inside it are reached from the test's namespace through a forwarder
/// process on a 127.x address (socat, one `ip netns exec` per connection), so
/// faults injected inside (iptables DROP) never touch the machine's own network.
public final class NetworkNamespace: @unchecked Sendable {
    public let name: String
    private var forwarders: [(address: String, port: Int, process: Process)] = []

    public init() throws {
        name = "tasker-test-\(UInt32.random(in: 0...UInt32.max))"
        let created = try ProcessRunner.run("/usr/sbin/ip", ["netns", "add", name])
        guard created.status == 0 else { throw TestFleetError(message: "ip netns add failed: \(created.stderr)") }
        _ = try run(["/usr/sbin/ip", "link", "set", "lo", "up"])
    }

    deinit {
        for forwarder in forwarders {
            // The listener and every per-connection child it forked.
            _ = try? ProcessRunner.run("/usr/bin/pkill", ["-KILL", "-f", Self.listenSpec(forwarder.address, forwarder.port)])
            forwarder.process.waitUntilExit()
        }
        if let pids = try? ProcessRunner.run("/usr/sbin/ip", ["netns", "pids", name]).stdout, !pids.isEmpty {
            _ = try? ProcessRunner.run("/bin/kill", ["-KILL"] + pids.split(separator: "\n").map(String.init))
        }
        _ = try? ProcessRunner.run("/usr/sbin/ip", ["netns", "del", name])
    }

    /// Runs a program inside the namespace.
    @discardableResult
    public func run(_ argv: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run("/usr/sbin/ip", ["netns", "exec", name] + argv)
    }

    /// Listens on `address:port` outside (or inside `outer`, a namespace
    /// bridged to this one) and carries each connection to 127.0.0.1:`toPort`
    /// inside the namespace.
    public func forward(from address: String, port: Int, toPort: Int, listeningIn outer: NetworkNamespace? = nil) throws {
        // A forwarder left behind by an interrupted test run would hold the address.
        _ = try? ProcessRunner.run("/usr/bin/pkill", ["-KILL", "-f", Self.listenSpec(address, port)])
        let process = Process()
        let relay = ["\(Self.listenSpec(address, port)),reuseaddr,fork",
                     "EXEC:ip netns exec \(name) socat STDIO TCP\\:127.0.0.1\\:\(toPort)"]
        if let outer {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            process.arguments = ["netns", "exec", outer.name, "/usr/bin/socat"] + relay
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/socat")
            process.arguments = relay
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        forwarders.append((address, port, process))
        let probe = ["/bin/bash", "-c", "exec 3<>/dev/tcp/\(address)/\(port)"]
        for _ in 0..<100 {
            let result = try? outer.map { try $0.run(probe) } ?? ProcessRunner.run(probe[0], Array(probe.dropFirst()))
            if result?.status == 0 { return }
            usleep(20_000)
        }
        throw TestFleetError(message: "forwarder on \(address):\(port) did not start")
    }

    /// Silently drops every packet to `port` inside the namespace, as a pulled
    /// cable or a crashed VM would: nothing is refused, nothing answers.
    public func dropTraffic(toPort port: Int) throws {
        let result = try run(["/usr/sbin/iptables", "-I", "INPUT", "-p", "tcp", "--dport", String(port), "-j", "DROP"])
        guard result.status == 0 else { throw TestFleetError(message: "iptables failed: \(result.stderr)") }
    }

    public func restoreTraffic(toPort port: Int) throws {
        let result = try run(["/usr/sbin/iptables", "-D", "INPUT", "-p", "tcp", "--dport", String(port), "-j", "DROP"])
        guard result.status == 0 else { throw TestFleetError(message: "iptables failed: \(result.stderr)") }
    }

    private static func listenSpec(_ address: String, _ port: Int) -> String {
        "TCP-LISTEN:\(port),bind=\(address)"
    }
}
