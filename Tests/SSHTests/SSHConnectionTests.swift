import Foundation
import Glibc
import Locking
import Platform
@testable import SSH
import TestFleet
import XCTest

/// The SSH layer against real OpenSSH servers of the test fleet.
final class SSHConnectionTests: XCTestCase {
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
    }

    private func settings(host index: Int, port: Int = TestFleet.port, key: String? = nil,
                          knownHosts: String? = nil, policy: HostKeyPolicy = .strict,
                          connectTimeout: Double = 5) -> SSHConnectionSettings {
        SSHConnectionSettings(
            address: TestFleet.address(index), port: port, user: NSUserName(),
            identityFiles: [key ?? fleet.clientKey],
            knownHosts: KnownHosts(files: [knownHosts ?? fleet.knownHosts]), hostKeyPolicy: policy,
            connectTimeout: connectTimeout)
    }

    private func connect(_ settings: SSHConnectionSettings) async throws -> SSHConnection {
        try await SSHConnection.connect(settings, on: EventLoopGroup.shared.next())
    }

    private func expectSSHError(_ kind: SSHError.Kind, _ body: () async throws -> Void,
                                file: StaticString = #filePath, line: UInt = #line) async -> SSHError? {
        do {
            try await body()
            XCTFail("expected \(kind) error", file: file, line: line)
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            return error
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return nil
    }

    /// Connecting, then ready; closed after close(), with every later use refused with the reason.
    func testTheLifecycleGoesFromReadyToClosed() async throws {
        let connection = try await connect(settings(host: 5))
        guard case .ready = await connection.lifecycle else { return XCTFail("not ready after connect") }
        let healthy = await connection.failure
        XCTAssertNil(healthy)
        await connection.close()
        guard case .closed(let reason) = await connection.lifecycle else { return XCTFail("not closed after close()") }
        XCTAssertEqual(reason.message, "connection closed")
        await connection.close()  // a second close is a no-op
        do {
            _ = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 5))
            XCTFail("a closed connection ran a command")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .connectionLost)
        }
    }

    /// SFTP handles belong to the connection that opened them: another connection refuses them
    /// before touching libssh2, and the owner goes on using them.
    func testAnSFTPSessionIsRefusedByAnotherConnection() async throws {
        let owner = try await connect(settings(host: 3))
        let other = try await connect(settings(host: 4))
        let sftp = try await owner.openSFTP(deadline: .after(seconds: 10))
        do {
            _ = try await other.sftpStat(sftp, "/", deadline: .after(seconds: 5))
            XCTFail("another connection used the SFTP session")
        } catch let error as SSHError {
            XCTAssertTrue(error.description.contains("belongs to another connection"), error.description)
        }
        let root = try await owner.sftpStat(sftp, "/", deadline: .after(seconds: 5))
        XCTAssertNotNil(root)
        await owner.closeSFTP(sftp)
        await owner.close()
        await other.close()
    }

    func testRunsCommandsWithSeparateStreamsAndExitStatus() async throws {
        let connection = try await connect(settings(host: 1))
        let sink = CollectingSink()
        let exit = try await connection.execute("echo out; echo err >&2; exit 7", output: sink, deadline: .after(seconds: 10))
        XCTAssertEqual(exit, RemoteExit(exitCode: 7, signal: nil))
        XCTAssertEqual(sink.text(.stdout), "out\n")
        XCTAssertEqual(sink.text(.stderr), "err\n")

        let killed = try await connection.execute("kill -TERM $$", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(killed.signal, "TERM")
        XCTAssertNil(killed.exitCode)
        await connection.close()
    }

    func testManyConcurrentCommandsOnOneConnectionAllComplete() async throws {
        let before = fleet.connectionCount(toHost: 2)
        let connection = try await connect(settings(host: 2))
        let marker = "/tmp/tasker-concurrency-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        // Each command registers itself, waits, then counts how many were registered:
        // with several channels at once the counts exceed one.
        let command = "mkdir -p \(marker) && touch \(marker)/$$ && sleep 1 && ls \(marker) | wc -l"
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<12 {
                group.addTask {
                    let sink = CollectingSink()
                    let exit = try await connection.execute(command, output: sink, deadline: .after(seconds: 30))
                    XCTAssertEqual(exit.exitCode, 0)
                    return Int(sink.text(.stdout).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(counts.count, 12)
        XCTAssertFalse(counts.contains(-1))
        XCTAssertGreaterThan(counts.max() ?? 0, 1, "commands should overlap on one connection")
        XCTAssertEqual(fleet.connectionsLogged(toHost: 2, since: before), 1)
        await connection.close()
    }

    func testTimeoutKillsTheRemoteProcessGroupAndFreesItsSlot() async throws {
        var limited = settings(host: 3)
        limited.maxChannels = 2
        let connection = try await connect(limited)
        let marker = "37.\(Int.random(in: 100...999))"
        let error = await expectSSHError(.timeout) {
            _ = try await connection.execute("sleep \(marker) & sleep \(marker); echo never", output: CollectingSink(),
                                             deadline: .after(seconds: 1))
        }
        XCTAssertNotNil(error)
        XCTAssertTrue(try waitUntil(seconds: 5) { try !self.remoteProcessExists("sleep \(marker)") },
                      "the remote command and its background child must be killed")
        // Both of the connection's channel slots are usable again.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                group.addTask {
                    let sink = CollectingSink()
                    let exit = try await connection.execute("echo \(index)", output: sink, deadline: .after(seconds: 10))
                    XCTAssertEqual(exit.exitCode, 0)
                    XCTAssertEqual(sink.text(.stdout), "\(index)\n")
                }
            }
            try await group.waitForAll()
        }
        await connection.close()
    }

    func testWaitingForAChannelSlotEndsAtTheDeadline() async throws {
        var single = settings(host: 3)
        single.maxChannels = 1
        let connection = try await connect(single)
        let busy = Task { try await connection.execute("sleep 3", output: CollectingSink(), deadline: .after(seconds: 30)) }
        try await Task.sleep(for: .milliseconds(300))
        let started = Date()
        let error = await expectSSHError(.timeout) {
            _ = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 1))
        }
        XCTAssertTrue(error?.message.contains("no free channel") ?? false, "\(String(describing: error))")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2.5)
        let busyExit = try await busy.value
        XCTAssertEqual(busyExit.exitCode, 0)
        await connection.close()
    }

    func testCancellationKillsTheRemoteCommand() async throws {
        let connection = try await connect(settings(host: 4))
        let marker = "38.\(Int.random(in: 100...999))"
        let task = Task {
            try await connection.execute("sleep \(marker)", output: CollectingSink(), deadline: .after(seconds: 60))
        }
        XCTAssertTrue(try waitUntil(seconds: 5) { try self.remoteProcessExists("sleep \(marker)") })
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .cancelled)
        }
        XCTAssertTrue(try waitUntil(seconds: 5) { try !self.remoteProcessExists("sleep \(marker)") })
        await connection.close()
    }

    func testUnknownHostKeyIsRefusedUnderStrictAndRecordedUnderAcceptNew() async throws {
        let directory = try TemporaryDirectory()
        let knownHosts = directory.path + "/known_hosts"
        let error = await expectSSHError(.hostKeyRejected) {
            _ = try await self.connect(self.settings(host: 5, knownHosts: knownHosts))
        }
        XCTAssertTrue(error?.message.contains("SHA256:") ?? false, "the refusal shows the fingerprint: \(String(describing: error))")

        let accepted = try await connect(settings(host: 5, knownHosts: knownHosts, policy: .acceptNew))
        await accepted.close()
        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        XCTAssertTrue(recorded.hasPrefix("[\(TestFleet.address(5))]:\(TestFleet.port) ssh-ed25519 "), recorded)

        let strictAgain = try await connect(settings(host: 5, knownHosts: knownHosts))
        await strictAgain.close()
    }

    func testHostKeyAliasIsTheNameTheKeyIsLookedUpAndRecordedUnder() async throws {
        let directory = try TemporaryDirectory()
        let knownHosts = directory.path + "/known_hosts"
        let fleetLine = try String(contentsOfFile: fleet.knownHosts, encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("[\(TestFleet.address(6))]:") }
        let key = try XCTUnwrap(fleetLine).split(separator: " ").dropFirst().joined(separator: " ")
        try "[web-alias]:\(TestFleet.port) \(key)\n".write(toFile: knownHosts, atomically: true, encoding: .utf8)
        var aliased = settings(host: 6, knownHosts: knownHosts)
        aliased.hostKeyAlias = "web-alias"
        let connection = try await connect(aliased)
        await connection.close()
        // Without the alias the address is looked up, and it is not there.
        _ = await expectSSHError(.hostKeyRejected) { _ = try await self.connect(self.settings(host: 6, knownHosts: knownHosts)) }
        var other = aliased
        other.hostKeyAlias = "other-alias"
        other.hostKeyPolicy = .acceptNew
        await (try connect(other)).close()
        let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
        XCTAssertTrue(recorded.contains("[other-alias]:\(TestFleet.port) ssh-ed25519 "), recorded)
    }

    func testChangedHostKeyIsRefusedEvenUnderAcceptNew() async throws {
        let directory = try TemporaryDirectory()
        let knownHosts = directory.path + "/known_hosts"
        let bogus = Data((0..<51).map { UInt8($0) }).base64EncodedString()
        try "[\(TestFleet.address(6))]:\(TestFleet.port) ssh-ed25519 \(bogus)\n"
            .write(toFile: knownHosts, atomically: true, encoding: .utf8)
        for policy in [HostKeyPolicy.strict, .acceptNew] {
            let error = await expectSSHError(.hostKeyRejected) {
                _ = try await self.connect(self.settings(host: 6, knownHosts: knownHosts, policy: policy))
            }
            XCTAssertTrue(error?.message.contains("CHANGED") ?? false)
        }
    }

    func testWrongUserKeyFailsAuthentication() async throws {
        let directory = try TemporaryDirectory()
        let key = directory.path + "/stranger"
        let keygen = try ProcessRunner.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key])
        XCTAssertEqual(keygen.status, 0)
        let error = await expectSSHError(.authFailed) {
            _ = try await self.connect(self.settings(host: 7, key: key))
        }
        XCTAssertTrue(error?.message.contains(key) ?? false)
    }

    func testAuthenticatesWithAKeyFromTheAgent() async throws {
        let directory = try TemporaryDirectory()
        let agent = try TestAgent(directory: directory.path)
        defer { agent.stop() }
        try agent.add([fleet.clientKey])
        var viaAgent = settings(host: 7)
        viaAgent.identityFiles = []
        viaAgent.agentSocket = agent.socket
        let connection = try await connect(viaAgent)
        let exit = try await connection.execute("true", output: CollectingSink(), deadline: .after(seconds: 10))
        XCTAssertEqual(exit.exitCode, 0)
        await connection.close()
    }

    func testClosedPortIsUnreachableAtOnce() async throws {
        let started = Date()
        let error = await expectSSHError(.unreachable) {
            _ = try await self.connect(self.settings(host: 8, port: 2201, connectTimeout: 20))
        }
        XCTAssertTrue(error?.message.contains("refused") ?? false, "\(String(describing: error))")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "a refused connection must not wait for the deadline")
    }

    func testListenerThatNeverSpeaksFailsAtTheConnectDeadline() async throws {
        let listener = try SilentListener()
        var silent = settings(host: 1, connectTimeout: 1)
        silent.address = "127.0.0.1"
        silent.port = listener.port
        let started = Date()
        let error = await expectSSHError(.unreachable) { _ = try await self.connect(silent) }
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 10)
        XCTAssertTrue(error?.message.contains("connect timeout") ?? false, "\(String(describing: error))")
    }

    // MARK: Helpers

    private func remoteProcessExists(_ pattern: String) throws -> Bool {
        try ProcessRunner.run("/usr/bin/pgrep", ["-f", pattern]).status == 0
    }
}

/// Collects a command's output in memory.
final class CollectingSink: OutputSink {
    private let streams = Locked<[[UInt8]]>([[], []])

    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {
        streams.withLock { $0[stream.rawValue].append(contentsOf: bytes) }
    }

    func text(_ stream: OutputStreamKind) -> String {
        streams.withLock { String(decoding: $0[stream.rawValue], as: UTF8.self) }
    }
}
