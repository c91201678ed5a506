import Foundation
import Glibc
import TestFleet
import XCTest
@testable import SSH

/// The SSH layer when hosts misbehave: frozen and vanished servers, channels
/// that close without an exit status, teardown with work in flight. Faults are
/// real: SIGSTOP of sshd's session processes, iptables DROP inside a network
/// namespace the test creates, an sshd configured to close channels early.
final class ConnectionFaultTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    private func settings(host index: Int, keepalive: Double = 1, count: Int = 2) -> SSHConnectionSettings {
        SSHConnectionSettings(
            address: TestFleet.address(index), port: TestFleet.port, user: NSUserName(),
            identityFiles: [fleet.clientKey], knownHosts: KnownHosts(files: [fleet.knownHosts]),
            connectTimeout: 5, keepaliveInterval: keepalive, keepaliveCountMax: count)
    }

    private func settings(_ server: TestSSHServer, keepalive: Double = 1, count: Int = 2) -> SSHConnectionSettings {
        SSHConnectionSettings(
            address: server.address, port: server.port, user: NSUserName(),
            identityFiles: [fleet.clientKey], knownHosts: KnownHosts(files: [server.knownHosts]),
            connectTimeout: 5, keepaliveInterval: keepalive, keepaliveCountMax: count)
    }

    private func connect(_ settings: SSHConnectionSettings) async throws -> SSHConnection {
        try await SSHConnection.connect(settings, on: EventLoopGroup.shared.next())
    }

    /// The sshd processes serving established connections to fleet host `index`.
    private func sessionProcesses(ofHost index: Int) throws -> [Int32] {
        let result = try ProcessRunner.shell(
            "ss -Htnp state established '( sport = :\(TestFleet.port) )' src \(TestFleet.address(index)) | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u")
        return result.stdout.split(separator: "\n").compactMap { Int32($0) }
    }

    func testAChannelClosedWithoutAnExitStatusIsAnErrorNotASuccess() async throws {
        // OpenSSH 9.2's ChannelTimeout closes an idle channel without sending
        // exit-status or exit-signal, as a server that loses its child would.
        let server = try TestSSHServer(fleet: fleet, name: "channel-timeout", address: "127.0.21.1",
                                       extraConfig: ["ChannelTimeout *=1"])
        defer { server.stop() }
        let connection = try await connect(settings(server, keepalive: 0))
        let finished = try await connection.execute("exit 3", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(finished.exitCode, 3, "a real exit status still comes through")
        let zero = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(zero.exitCode, 0)
        do {
            let exit = try await connection.execute("sleep 5", output: CollectingSink(), deadline: .after(seconds: 20))
            XCTFail("a channel closed without exit status must not succeed: \(exit)")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .other)
            XCTAssertTrue(error.message.contains("no exit status from server"), error.description)
        }
        await connection.close()
    }

    func testAFrozenHostFailsAfterIntervalTimesCountWhileACommandIsSilent() async throws {
        let connection = try await connect(settings(host: 22))
        let running = Task {
            try await connection.execute("sleep 30", output: CollectingSink(), deadline: .after(seconds: 60))
        }
        try await Task.sleep(for: .milliseconds(500))
        let frozen = try sessionProcesses(ofHost: 22)
        XCTAssertFalse(frozen.isEmpty)
        signalProcesses(frozen, "STOP")
        defer { signalProcesses(frozen, "KILL") }
        let started = Date()
        do {
            _ = try await running.value
            XCTFail("the command on a frozen host must fail")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .connectionLost)
            XCTAssertEqual(error.message, "no answer from host for 2s")
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 1.0)
        XCTAssertLessThan(elapsed, 4.5, "detected within interval x (count + 1)")
        let broken = await connection.isBroken
        XCTAssertTrue(broken)
        await connection.close()

        // The host's listener is fine: a new connection works.
        let fresh = try await connect(settings(host: 22))
        let exit = try await fresh.execute("echo back", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(exit.exitCode, 0)
        await fresh.close()
    }

    func testAnIdleConnectionToAVanishedHostIsMarkedBrokenAndTheHostCanBeReachedAgain() async throws {
        let namespace = try NetworkNamespace()
        let server = try TestSSHServer(fleet: fleet, name: "vanishing-idle", address: "127.0.21.2", namespace: namespace)
        defer { server.stop() }
        let connection = try await connect(settings(server))
        let healthy = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(healthy.exitCode, 0)

        try namespace.dropTraffic(toPort: TestSSHServer.namespacePort)
        let started = Date()
        var broken = false
        while !broken, Date().timeIntervalSince(started) < 8 {
            try await Task.sleep(for: .milliseconds(100))
            broken = await connection.isBroken
        }
        XCTAssertTrue(broken, "an idle connection notices the host is gone")
        XCTAssertLessThan(Date().timeIntervalSince(started), 4.5)
        let failure = await connection.failure
        XCTAssertEqual(failure?.message, "no answer from host for 2s")
        do {
            _ = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 10))
            XCTFail("a broken connection runs nothing")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .connectionLost)
            XCTAssertEqual(error.phase, .channel, "reported as not started, so callers reconnect")
        }
        await connection.close()

        try namespace.restoreTraffic(toPort: TestSSHServer.namespacePort)
        let again = try await connect(settings(server))
        let exit = try await again.execute("echo again", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(exit.exitCode, 0)
        await again.close()
    }

    func testClosingWithEveryChannelInFlightEndsEachCommandAndReleasesTheSocket() async throws {
        // A first connection sets up what the process keeps (event loops, crypto).
        await (try connect(settings(host: 23, keepalive: 0))).close()
        let descriptorsBefore = FileDescriptorLimit.inUse
        let connection = try await connect(settings(host: 23, keepalive: 0))
        let marker = "41.\(Int.random(in: 100...999))"
        let commands = (0..<8).map { _ in
            Task { try await connection.execute("sleep \(marker)", output: CollectingSink(), deadline: .after(seconds: 60)) }
        }
        XCTAssertEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 8), 8)
        await connection.close()
        for command in commands {
            do {
                _ = try await command.value
                XCTFail("a command on a closed connection cannot succeed")
            } catch let error as SSHError {
                XCTAssertEqual(error.kind, .connectionLost, error.description)
            }
        }
        do {
            _ = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 5))
            XCTFail("a closed connection runs nothing")
        } catch let error as SSHError {
            XCTAssertEqual(error.phase, .channel)
        }
        XCTAssertEqual(FileDescriptorLimit.inUse, descriptorsBefore, "the socket is closed")
        _ = try ProcessRunner.run("/usr/bin/pkill", ["-f", "sleep \(marker)"])
    }

    func testAnAgentWaitingForConfirmationStallsOnlyItsOwnConnection() async throws {
        // A real ssh-agent holding a key added with `ssh-add -c`: every signature waits
        // for its askpass program, which here takes 30 s to answer (as a user would).
        let directory = try TemporaryDirectory()
        let askpass = directory.path + "/slow-askpass"
        let pause = "30.\(Int.random(in: 100...999))"
        try "#!/bin/sh\nexec sleep \(pause)\n".write(toFile: askpass, atomically: true, encoding: .utf8)
        chmod(askpass, 0o755)
        let agent = try TestAgent(directory: directory.path,
                                  environment: ["SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0", "PATH": "/usr/bin:/bin"])
        defer {
            // The askpass program first: it holds descriptors the agent's exit is noticed by.
            _ = try? ProcessRunner.run("/usr/bin/pkill", ["-KILL", "-f", "sleep \(pause)"])
            agent.stop()
        }
        try agent.add([fleet.clientKey], options: ["-c"])

        let loop = EventLoopGroup.shared.loops[0]
        var viaAgent = settings(host: 21, keepalive: 0)
        viaAgent.identityFiles = []
        viaAgent.agentSocket = agent.socket
        viaAgent.connectTimeout = 3
        let started = Date()
        let waiting = Task { try await SSHConnection.connect(viaAgent, on: loop) }
        try await Task.sleep(for: .milliseconds(500))
        // Another connection on the same event loop is not held up by the agent.
        let other = try await SSHConnection.connect(settings(host: 20, keepalive: 0), on: loop)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5, "the loop kept serving other connections")
        let exit = try await other.execute("true", output: CollectingSink(), deadline: .after(seconds: 5))
        XCTAssertEqual(exit.exitCode, 0)
        await other.close()
        do {
            let connection = try await waiting.value
            await connection.close()
            XCTFail("the agent never answered, so nothing could authenticate")
        } catch let error as SSHError {
            XCTAssertTrue(error.message.contains("agent did not answer"), error.description)
        }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(elapsed, 2.5)
        XCTAssertLessThan(elapsed, 6, "the agent's silence ends at the connect deadline")
    }

    func testTimeoutsOfEveryChannelAtOnceStillKillEveryRemoteCommand() async throws {
        let connection = try await connect(settings(host: 23, keepalive: 0))
        let marker = "42.\(Int.random(in: 100...999))"
        let results = await withTaskGroup(of: SSHError.Kind?.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    do {
                        _ = try await connection.execute("sleep \(marker)", output: CollectingSink(), deadline: .after(seconds: 1))
                        return nil
                    } catch let error as SSHError {
                        return error.kind
                    } catch {
                        return .other
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(results, Array(repeating: .timeout, count: 8))
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0, "every kill got a channel within sshd's MaxSessions")
        let exit = try await connection.execute("echo still usable", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(exit.exitCode, 0)
        await connection.close()
    }
}
