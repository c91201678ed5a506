@testable import Fleet
import Foundation
import Locking
import Platform
import SSH
import TestFleet
import XCTest

/// The fan-out runner and the pool against the real test fleet.
final class FleetRunnerTests: XCTestCase {
    private var fleet: TestFleet!
    private var resolver: ConnectionResolver!

    override func setUpWithError() throws {
        fleet = try TestFleet.shared()
        resolver = ConnectionResolver(sshConfig: try SSHConfig(contentsOf: fleet.sshConfig), overrides: .init())
    }

    private func spec(_ index: Int) throws -> ConnectionSpec {
        try resolver.resolve(HostTarget(host: TestFleet.name(index)))
    }

    /// Collects the records of `host_ended` events, by host.
    private final class EndedHosts: RunEventSubscriber {
        let records = Locked<[String: HostRecord]>([:])
        func receive(_ event: RunEvent) {
            if case .hostEnded(let record) = event.kind { records.withLock { $0[record.host] = record } }
        }
    }

    /// Every host's result as the run's events reported it, in the order of `specs`.
    private func collect(_ specs: [ConnectionSpec], runner: FleetRunner, commands: [String],
                         options: FleetRunOptions) async -> [HostRecord] {
        let ended = EndedHosts()
        let sink = RunEventSink(subscribers: [ended])
        var options = options
        options.events = sink
        let tally = await runner.run(specs, commands: commands, options: options)
        await sink.drain()
        XCTAssertEqual(tally.hosts, specs.count)
        return ended.records.withLock { byHost in specs.map { byHost[$0.name]! } }
    }

    func testTwentyCommandsToOneHostUseOneConnection() async throws {
        let pool = ConnectionPool()
        let runner = FleetRunner(pool: pool)
        let before = fleet.connectionCount(toHost: 9)
        let result = await runner.runHost(try spec(9), commands: (1...20).map { "echo \($0)" }, options: .init())
        XCTAssertEqual(result.status, .ok, result.error ?? "")
        XCTAssertEqual(result.commandsRun, 20)
        XCTAssertEqual(result.stdout.text, (1...20).map { "\($0)\n" }.joined())
        // A second batch in the same process reuses the pooled connection too.
        let again = await runner.runHost(try spec(9), commands: ["true"], options: .init())
        XCTAssertEqual(again.status, .ok)
        XCTAssertEqual(pool.statistics.connectionsOpened, 1)
        XCTAssertEqual(fleet.connectionsLogged(toHost: 9, since: before), 1, "sshd saw exactly one TCP connection")
        await pool.closeAll()
    }

    func testAFailedConnectIsRememberedRetriedOrBackedOffAsThePoolSays() async throws {
        let dead = try resolver.resolve(HostTarget(parsing: "127.0.\(TestFleet.baseOctet).251:\(TestFleet.port)"))
        for (policy, attempts) in [(ConnectionPool.FailurePolicy.remember, 1), (.retryOnNextUse, 3)] {
            let pool = ConnectionPool(options: .init(failurePolicy: policy))
            let runner = FleetRunner(pool: pool)
            for _ in 0..<3 {
                let result = await runner.runHost(dead, commands: ["true"], options: .init())
                XCTAssertEqual(result.status, .unreachable)
            }
            XCTAssertEqual(pool.statistics.connectionsOpened, attempts,
                           policy == .remember ? "one-shot runs fail fast" : "workflows try again on every later command")
        }

        // Long-lived sessions: refused at once while backing off (0.3 s, then 0.6 s), tried again after.
        let pool = ConnectionPool(options: .init(failurePolicy: .backOff(.init(initial: 0.3, maximum: 0.6))))
        let runner = FleetRunner(pool: pool)
        func use() async -> HostStatus { await runner.runHost(dead, commands: ["true"], options: .init()).status }
        let first = await use(), refused = await use()
        XCTAssertEqual(first, .unreachable)
        XCTAssertEqual(refused, .unreachable, "refused with the failure's own status")
        XCTAssertEqual(pool.statistics.connectionsOpened, 1)
        XCTAssertEqual(pool.statistics.refusedWhileBackingOff, 1)
        try await Task.sleep(for: .milliseconds(350))
        _ = await use()
        XCTAssertEqual(pool.statistics.connectionsOpened, 2, "tried again once the first delay passed")
        try await Task.sleep(for: .milliseconds(350))
        _ = await use()
        XCTAssertEqual(pool.statistics.connectionsOpened, 2, "the second failure doubles the delay")
        try await Task.sleep(for: .milliseconds(350))
        _ = await use()
        XCTAssertEqual(pool.statistics.connectionsOpened, 3)
        XCTAssertEqual(pool.statistics.refusedWhileBackingOff, 2)
        await pool.closeAll()
    }

    func testBackoffDoublesUpToItsMaximum() {
        let backoff = ConnectionPool.Backoff()
        XCTAssertEqual((1...8).map { backoff.delay(afterFailures: $0) }, [1, 2, 4, 8, 16, 32, 60, 60])
        XCTAssertEqual(backoff.delay(afterFailures: 1_000), 60)
    }

    func testACancelledWaiterLeavesTheSharedConnectionAttemptToTheOthers() async throws {
        let server = try TestSSHServer(fleet: fleet, name: "slow-banner", address: "127.0.21.5")
        defer { server.stop() }
        let spec = try ConnectionResolver(sshConfig: try SSHConfig(contentsOf: server.sshConfig), overrides: .init())
            .resolve(HostTarget(host: "slow-banner"))
        // A stopped listener: TCP connects, the banner waits until it continues.
        let listener = try XCTUnwrap(server.listenerPID)
        signalProcesses([listener], "STOP")
        let pool = ConnectionPool()
        let impatient = Task {
            try await pool.withConnection(for: spec) { _ in "impatient" }
        }
        let patient = Task {
            try await pool.withConnection(for: spec) { connection in
                try await connection.execute("true", output: NullSink(), deadline: .after(seconds: 10)).exitCode
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        impatient.cancel()
        do {
            _ = try await impatient.value
            XCTFail("the cancelled waiter must stop waiting")
        } catch let error as SSHError {
            XCTAssertEqual(error.kind, .cancelled)
        }
        signalProcesses([listener], "CONT")
        let exit = try await patient.value
        XCTAssertEqual(exit, 0, "the other waiter still gets the connection")
        XCTAssertEqual(pool.statistics.connectionsOpened, 1)
        XCTAssertEqual(server.acceptedLogins(), 1)
        await pool.closeAll()
    }

    func testStopsAtTheFirstFailureUnlessKeepGoing() async throws {
        let runner = FleetRunner()
        let commands = ["echo one", "echo two; exit 5", "echo three"]
        let stopped = await runner.runHost(try spec(10), commands: commands, options: .init())
        XCTAssertEqual(stopped.status, .failed)
        XCTAssertEqual(stopped.exitCode, 5)
        XCTAssertEqual(stopped.commandsRun, 2)
        XCTAssertEqual(stopped.stdout.text, "one\ntwo\n")

        let kept = await runner.runHost(try spec(10), commands: commands, options: FleetRunOptions(keepGoing: true))
        XCTAssertEqual(kept.status, .failed, "a failure earlier in the list still marks the host failed")
        XCTAssertEqual(kept.exitCode, 0, "the exit code is that of the last command")
        XCTAssertEqual(kept.stdout.text, "one\ntwo\nthree\n")
        await runner.pool.closeAll()
    }

    func testDeadHostsDoNotDelayTheOthers() async throws {
        let listener = try SilentListener()
        var silentTarget = try resolver.resolve(HostTarget(host: "127.0.0.1", port: listener.port))
        silentTarget.settings.connectTimeout = 3
        silentTarget.name = "silent"
        var closed = try spec(11)
        closed.settings.port = 2201
        closed.name = "closed"
        let good = try (12...15).map(spec)
        let runner = FleetRunner()
        let specs = [silentTarget, closed] + good
        let results = await collect(specs, runner: runner, commands: ["hostname"], options: FleetRunOptions(forks: 8))
        XCTAssertEqual(results[0].status, .unreachable)
        XCTAssertEqual(results[1].status, .unreachable)
        XCTAssertLessThan(results[1].runMilliseconds, 3000, "a refused port fails at once")
        for result in results[2...] {
            XCTAssertEqual(result.status, .ok)
            XCTAssertLessThan(result.runMilliseconds, 3000, "\(result.host) waited for the dead host's deadline")
        }
        await runner.pool.closeAll()
    }

    func testRunTimeoutReportsUnfinishedHostsAsTimeout() async throws {
        let runner = FleetRunner()
        let specs = try (16...17).map(spec)
        let results = await collect(specs, runner: runner, commands: ["sleep 39.5"], options: FleetRunOptions(forks: 1, runTimeout: 1))
        XCTAssertEqual(results.map(\.status), [.timeout, .timeout])
        XCTAssertEqual(results[1].error, "run timeout passed before the host started")
        await runner.pool.closeAll()
        XCTAssertNotEqual(try ProcessRunner.run("/usr/bin/pgrep", ["-f", "sleep 39.5"]).status, 0)
    }

    func testBrokenPooledConnectionIsReopenedOnce() async throws {
        let pool = ConnectionPool()
        let runner = FleetRunner(pool: pool)
        let first = await runner.runHost(try spec(18), commands: ["true"], options: .init())
        XCTAssertEqual(first.status, .ok)
        // Kill the sshd process serving our connection, as a reboot or a network cut would.
        let kill = try ProcessRunner.shell(
            "ss -Htnp state established '( sport = :\(TestFleet.port) )' src \(TestFleet.address(18)) | grep -o 'pid=[0-9]*' | cut -d= -f2 | xargs -r kill -9")
        XCTAssertEqual(kill.status, 0, kill.stderr)
        try await Task.sleep(for: .milliseconds(200))
        let second = await runner.runHost(try spec(18), commands: ["echo back"], options: .init())
        XCTAssertEqual(second.status, .ok, second.error ?? "")
        XCTAssertEqual(second.stdout.text, "back\n")
        XCTAssertEqual(pool.statistics.reconnects, 1)
        await pool.closeAll()
    }

    func testOutputDirectoryKeepsFullStreams() async throws {
        let directory = try TemporaryDirectory()
        let options = FleetRunOptions(capture: CaptureOptions(headBytes: 10, tailBytes: 10, outputDirectory: directory.path))
        let runner = FleetRunner()
        let result = await runner.runHost(try spec(19), commands: ["seq 1 1000; echo warn >&2"], options: options)
        XCTAssertTrue(result.stdout.truncated)
        XCTAssertEqual(result.stdout.bytes, 3893)
        OutputWriter.shared.flush()
        let full = try String(contentsOfFile: "\(directory.path)/\(TestFleet.name(19)).stdout", encoding: .utf8)
        XCTAssertEqual(full, (1...1000).map { "\($0)\n" }.joined())
        XCTAssertEqual(try String(contentsOfFile: "\(directory.path)/\(TestFleet.name(19)).stderr", encoding: .utf8), "warn\n")
        await runner.pool.closeAll()
    }
}

/// Discards a command's output.
final class NullSink: OutputSink {
    func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {}
}
