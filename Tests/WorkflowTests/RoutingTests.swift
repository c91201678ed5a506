import Fleet
import Foundation
import XCTest
@testable import Workflow

final class RoutingTests: XCTestCase {
    private func task(_ id: Int, _ fields: KeyValuePairs<String, String>) -> TaskDefinition {
        TaskDefinition(id: id, idText: String(id), line: 1,
                       written: fields.map { TaskDefinition.WrittenField(key: $0.key, value: $0.value, line: 1) })
    }

    private func route(_ fields: KeyValuePairs<String, String>, ok: Bool, fireAndForget: Bool = false,
                       conditions: [String: Bool] = [:]) -> RouteDecision {
        var loop: LoopState?
        return Routing.route(task(5, fields), ok: ok, fireAndForget: fireAndForget, loop: &loop) { conditions[$0] ?? false }
    }

    func testTable() {
        XCTAssertEqual(route([:] , ok: true), .task(6))
        XCTAssertEqual(route([:] , ok: false), .stopFailed)
        XCTAssertEqual(route([:] , ok: false, fireAndForget: true), .task(6))
        XCTAssertEqual(route(["on_success": "9"], ok: true), .task(9))
        XCTAssertEqual(route(["on_success": "9"], ok: false), .stopFailedByCondition)
        XCTAssertEqual(route(["on_success": "9"], ok: false, fireAndForget: true), .stopFailedByCondition)
        XCTAssertEqual(route(["on_failure": "8"], ok: false), .task(8))
        XCTAssertEqual(route(["on_failure": "8"], ok: true), .task(6))
        XCTAssertEqual(route(["on_failure": "8"], ok: false, fireAndForget: true), .task(8))
        XCTAssertEqual(route(["on_success": "9", "on_failure": "8"], ok: true), .task(9))
        XCTAssertEqual(route(["on_success": "9", "on_failure": "8"], ok: false), .task(8))
        XCTAssertEqual(route(["next": "never"], ok: false), .stopSucceeded)
        XCTAssertEqual(route(["next": "always"], ok: false), .task(6))
        XCTAssertEqual(route(["next": "stdout~x"], ok: false, conditions: ["stdout~x": true]), .task(6))
        XCTAssertEqual(route(["next": "stdout~x"], ok: true), .stopFailed)
        XCTAssertEqual(route(["on_success": "abc"], ok: true), .task(6), "a non-integer on_success continues at ID+1")
        XCTAssertEqual(route(["on_failure": "abc"], ok: false), .stopFailed)
    }

    func testLoopRunsNTimesWhateverTheIterationsReturn() {
        var loop: LoopState?
        var runs = 1
        let looping = task(2, ["next": "loop", "loop": "3"])
        while Routing.route(looping, ok: false, fireAndForget: false, loop: &loop, evaluate: { _ in false }) == .repeatTask {
            runs += 1
        }
        XCTAssertEqual(runs, 3)
        XCTAssertNil(loop)
    }

    func testLoopBreak() {
        var loop: LoopState?
        let looping = task(2, ["next": "loop", "loop": "10", "loop_break": "stdout~done"])
        XCTAssertEqual(Routing.route(looping, ok: true, fireAndForget: false, loop: &loop) { _ in false }, .repeatTask)
        XCTAssertEqual(loop?.iteration, 2)
        XCTAssertEqual(Routing.route(looping, ok: true, fireAndForget: false, loop: &loop) { _ in true }, .task(3))
        XCTAssertNil(loop)
    }

    func testFinalExitCodes() {
        var state = FinalState()
        XCTAssertEqual(state.exitCode(endedBecauseNextUndefined: false), 10, "stopped before any task ran")
        state.record(exitCode: 0, success: true)
        XCTAssertEqual(state.exitCode(endedBecauseNextUndefined: false), 0)
        state.record(exitCode: 0, success: false)
        XCTAssertEqual(state.exitCode(endedBecauseNextUndefined: false), 1, "failed with exit 0 under a success criterion")
        state.record(exitCode: 124, success: false)
        XCTAssertEqual(state.exitCode(endedBecauseNextUndefined: false), 124)
        XCTAssertEqual(state.exitCode(endedBecauseNextUndefined: true), 0, "a gap ends the run successfully")
        state.failedByCondition = true
        XCTAssertEqual(state.exitCode(endedBecauseNextUndefined: false), 10)
        var never = FinalState()
        never.record(exitCode: 3, success: false)
        never.lastTaskStoppedWithNever = true
        XCTAssertEqual(never.exitCode(endedBecauseNextUndefined: false), 0)
        var killed = FinalState()
        killed.record(exitCode: -9, success: false)
        XCTAssertEqual(killed.exitCode(endedBecauseNextUndefined: false), -9)
    }
}

final class WorkflowLogTests: XCTestCase {
    func testFormatLevelsAndMasking() throws {
        let path = NSTemporaryDirectory() + "/tasker-log-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let log = WorkflowLog(level: .warn, echo: false, file: fd, secrets: ["hunter2"])
        log.info("hidden")
        log.warn("shown")
        log.close()
        ConsoleWriter.shared.flush()
        let recorded = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(recorded.count, 1)
        XCTAssertNotNil(recorded[0].range(of: #"^\[\d{2}[A-Z][a-z]{2}\d{2} \d{2}:\d{2}:\d{2}\] WARN: shown$"#, options: .regularExpression))
        XCTAssertEqual(log.mask("login -p hunter2 xhunter2"), "login -p <masked len=7> xhunter2")
        XCTAssertTrue(WorkflowLog.isSecretName("db_password"))
        XCTAssertTrue(WorkflowLog.isSecretName("TOKEN_GITHUB"))
        XCTAssertFalse(WorkflowLog.isSecretName("KEYRING"))
        XCTAssertEqual(WorkflowLog.oneLine(" a\nb \n"), "a\\nb")
        XCTAssertTrue(WorkflowLog.oneLine(String(repeating: "x", count: 250)).hasSuffix("... (250 chars total)"))
    }
}
