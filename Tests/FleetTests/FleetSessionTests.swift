import Foundation
import Locking
import SSH
import XCTest
@testable import Fleet

/// The session that outlives a run, and a fleet run over it: pool policy by lifetime,
/// what it caches and forgets, the event stream's frame, cancellation of the work.
final class FleetSessionTests: XCTestCase {
    private final class Recorder: RunEventSubscriber {
        let events = Locked<[RunEvent]>([])
        func receive(_ event: RunEvent) { events.withLock { $0.append(event) } }
    }

    private let directory = NSTemporaryDirectory() + "tasker-session-\(UUID().uuidString)"

    override func setUpWithError() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func session(_ config: String = "", lifetime: FleetSession.Lifetime) throws -> FleetSession {
        let resolver = ConnectionResolver(sshConfig: try SSHConfig(parsing: config, path: directory + "/ssh_config"), overrides: .init())
        return FleetSession(settings: .init(resolver: resolver, lifetime: lifetime))
    }

    func testTheLifetimeDecidesHowThePoolTreatsHosts() throws {
        let oneShot = try session(lifetime: .oneShot).pool.options
        XCTAssertEqual(oneShot.failurePolicy, .remember)
        XCTAssertFalse(oneShot.keepsIdleConnections)
        let workflow = try session(lifetime: .workflow).pool.options
        XCTAssertEqual(workflow.failurePolicy, .retryOnNextUse)
        XCTAssertTrue(workflow.keepsIdleConnections)
        let watch = try session(lifetime: .longLived(.init())).pool.options
        XCTAssertEqual(watch.failurePolicy, .backOff(.init(initial: 1, maximum: 60)))
        XCTAssertTrue(watch.keepsIdleConnections)
    }

    func testSpecsAreKeptUntilTheSessionRefreshes() throws {
        let flag = directory + "/flag"
        let session = try session("""
        Match exec "test -e \(flag)"
            Port 2222
        Host *
            Port 22
        """, lifetime: .longLived(.init()))
        XCTAssertEqual(try session.spec(for: "db1").settings.port, 22)
        XCTAssertTrue(FileManager.default.createFile(atPath: flag, contents: nil))
        XCTAssertEqual(try session.spec(for: "db1").settings.port, 22, "kept: resolved once per session")
        session.refresh()
        XCTAssertEqual(try session.spec(for: "db1").settings.port, 2222, "refreshed: ssh_config's Match exec asked again")
        XCTAssertThrowsError(try session.hosts(matching: "web"), "a pattern needs an inventory")
    }

    func testARunIsFramedByItsStartAndEndAndAnInterruptCancelsOnlyTheWork() async throws {
        let session = try session(lifetime: .oneShot)
        let recorder = Recorder()
        let cancelWork = Locked<(@Sendable () -> Void)?>(nil)
        let started = Locked(false)
        let run = FleetRun(operation: "exec", subject: "sleep", targets: 3, commandLine: ["tasker", "exec"])
        let interrupter = Task {
            while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            cancelWork.withLock { $0 }?()
        }
        let outcome = await run.perform(in: session, options: FleetRunOptions(), subscribers: [recorder],
                                        interrupt: { cancel in cancelWork.withLock { $0 = cancel } },
                                        interruptedStatus: { 130 }) { _, options in
            XCTAssertNotNil(options.events, "the work emits into the run's stream")
            started.withLock { $0 = true }
            try? await Task.sleep(for: .seconds(30))
            return RunTally(Task.isCancelled ? [.error, .error, .error] : [.ok, .ok, .ok])
        }
        try await interrupter.value
        XCTAssertEqual(outcome.exitStatus, 130)
        XCTAssertEqual(outcome.tally, RunTally([.error, .error, .error]))
        let events = recorder.events.withLock { $0 }
        guard case .runStarted(let start)? = events.first?.kind, case .runEnded(let summary)? = events.last?.kind else {
            return XCTFail("not framed by run_started and run_ended: \(events)")
        }
        XCTAssertEqual(start.operation, "exec")
        XCTAssertEqual(start.targets, 3)
        XCTAssertEqual(summary.exitCode, 130)
        await session.close()

        let quiet = await FleetRun(operation: "exec", subject: "true", targets: 2)
            .perform(in: session, options: FleetRunOptions(), subscribers: [], interrupt: { _ in }, interruptedStatus: { nil }) { _, _ in
                RunTally([.ok, .failed])
            }
        XCTAssertEqual(quiet.exitStatus, 1, "without an interrupt the tally decides, as exec's exit table says")
    }
}
