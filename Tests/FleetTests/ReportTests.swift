import Foundation
import XCTest
@testable import Fleet

final class ReportTests: XCTestCase {
    func testHostListsAreCompacted() {
        XCTAssertEqual(HostListFormatter.compact(["node001", "node002", "node003", "node007"]), "node[001-003,007]")
        XCTAssertEqual(HostListFormatter.compact(["web1", "web2", "db1", "web10"]), "web[1-2,10],db1")
        XCTAssertEqual(HostListFormatter.compact(["alpha", "web1"]), "web1,alpha")
        XCTAssertEqual(HostListFormatter.compact(["a1.eu", "a2.eu"]), "a[1-2].eu")
    }

    func testExitStatusFirstMatchWins() {
        func results(_ statuses: [HostStatus]) -> RunTally { RunTally(statuses) }
        XCTAssertEqual(ExitPolicy.exitStatus(for: results([.ok, .ok])), 0)
        XCTAssertEqual(ExitPolicy.exitStatus(for: results([.ok, .failed])), 1)
        XCTAssertEqual(ExitPolicy.exitStatus(for: results([.error])), 1)
        XCTAssertEqual(ExitPolicy.exitStatus(for: results([.failed, .authFailed])), 3)
        XCTAssertEqual(ExitPolicy.exitStatus(for: results([.hostkeyRejected, .ok])), 3)
        XCTAssertEqual(ExitPolicy.exitStatus(for: results([.unreachable, .timeout, .failed])), 4)
        XCTAssertEqual(ExitPolicy.exitStatus(for: RunTally()), 0)
    }

    func testJSONLineEscapesAndUsesNulls() {
        let result = HostRecord(host: "web\"1", status: .failed, exitCode: 2,
                                stdout: CapturedStream(text: "a\nb\t\u{1}", bytes: 5, truncated: false))
        let line = JSONLines.hostLine(result)
        XCTAssertTrue(line.contains(#""host":"web\"1""#), line)
        XCTAssertTrue(line.contains(#""stdout":"a\nb\t\u0001""#), line)
        XCTAssertFalse(line.contains("\n"), "one line")
        let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
        XCTAssertEqual(object?["type"] as? String, "host")
        XCTAssertEqual(object?["status"] as? String, "failed")
        XCTAssertEqual(object?["exit_code"] as? Int, 2)
        XCTAssertEqual(object?["stdout_bytes"] as? Int, 5)
        XCTAssertTrue(object?["error"] is NSNull)
        XCTAssertTrue(object?["signal"] is NSNull)
        XCTAssertEqual(Set(object?.keys.map { $0 } ?? []), [
            "type", "host", "status", "exit_code", "signal", "stdout", "stderr", "stdout_bytes", "stderr_bytes", "stdout_truncated",
            "stderr_truncated", "connect_ms", "run_ms", "commands_run", "error", "via", "bytes_transferred", "pty", "started_ms", "ended_ms",
        ], "today's keys, plus the run offsets")
    }

    func testFoldGroupsIdenticalOutput() {
        let out = CapturedStream(text: "same\n", bytes: 5)
        let results = [
            HostRecord(host: "n1", status: .ok, stdout: out, commandsRun: 1),
            HostRecord(host: "n2", status: .ok, stdout: CapturedStream(text: "other\n", bytes: 6), commandsRun: 1),
            HostRecord(host: "n3", status: .ok, stdout: out, commandsRun: 1),
            HostRecord(host: "n4", status: .unreachable),
        ]
        var fold = FoldReport()
        for result in results { fold.add(result) }
        let text = fold.text
        XCTAssertTrue(text.contains("n[1,3] (2)\n---------------\nsame\n"), text)
        XCTAssertTrue(text.contains("n2 (1)\n---------------\nother\n"), text)
        XCTAssertFalse(text.contains("n4"), "hosts that ran nothing have no output block")
    }

    func testProblemLines() {
        XCTAssertNil(HostProblemLine.text(for: HostRecord(host: "a", status: .ok)))
        XCTAssertEqual(HostProblemLine.text(for: HostRecord(host: "a", status: .failed, exitCode: 3)), "a: exit code 3")
        XCTAssertEqual(HostProblemLine.text(for: HostRecord(host: "a", status: .failed, signal: "KILL")), "a: killed by signal KILL")
        XCTAssertEqual(HostProblemLine.text(for: HostRecord(host: "a", status: .unreachable, error: "connect: refused")),
                       "a: unreachable: connect: refused")
    }
}
