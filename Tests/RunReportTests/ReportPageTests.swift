import Fleet
import Foundation
import XCTest
@testable import RunReport

/// The page drawn from events: its contract elements, escaping, trimming and an unfinished run.
final class ReportPageTests: XCTestCase {
    private func record(_ host: String, _ status: HostStatus, stdout: String = "", started: Int, ended: Int) -> HostRecord {
        var record = HostRecord(host: host, status: status, exitCode: status == .ok ? 0 : 1, stdout: CapturedStream(text: stdout, bytes: UInt64(stdout.utf8.count)),
                                connectMilliseconds: 10, runMilliseconds: ended - started, commandsRun: 1)
        record.startedMilliseconds = started
        record.endedMilliseconds = ended
        return record
    }

    private func history(_ kinds: [(Int, RunEvent.Kind)]) -> RunHistory {
        var history = RunHistory()
        for (offset, kind) in kinds { history.apply(RunEvent(offset: offset, kind)) }
        return history
    }

    func testContractElementsCarryHostsStatusesAndCounts() {
        let history = history([
            (0, .runStarted(.init(operation: "exec", commandLine: ["tasker"], subject: "echo <b>", targets: 3, startedAt: "2026-12-07T10:00:00.000Z"))),
            (1, .hostConnecting(.init(host: "a&b"))),
            (11, .hostConnected(.init(host: "a&b", via: [], connectMilliseconds: 10))),
            (12, .hostEnded(record("a&b", .ok, stdout: "same\n", started: 1, ended: 20))),
            (13, .hostEnded(record("c", .ok, stdout: "same\n", started: 1, ended: 21))),
            (14, .hostEnded(record("d", .failed, stdout: "</script><x>\n", started: 1, ended: 30))),
            (30, .runEnded(RunSummary(tally: RunTally([.ok, .ok, .failed]), exitCode: 1, wallMilliseconds: 30, connectionsOpened: 3))),
        ])
        let page = ReportPage.render(history)
        XCTAssertTrue(page.contains(#"data-host="a&amp;b" data-status="ok""#), page)
        XCTAssertTrue(page.contains(#"data-status="ok" data-count="2""#))
        XCTAssertTrue(page.contains(#"data-status="failed" data-count="1""#))
        XCTAssertTrue(page.contains(#"class="output" id="output-1" data-hosts="1""#))
        XCTAssertTrue(page.contains(#"class="output" id="output-0" data-hosts="2""#))
        XCTAssertLessThan(page.range(of: #"data-hosts="1""#)!.lowerBound, page.range(of: #"data-hosts="2""#)!.lowerBound, "fewest hosts first")
        XCTAssertFalse(page.contains("echo <b>"), "text is escaped")
        XCTAssertEqual(page.components(separatedBy: "</script>").count - 1, 2, "output cannot close a script element")
        XCTAssertFalse(page.contains("id=\"unfinished\""))
        XCTAssertFalse(page.contains("http://") || page.contains("https://"), "nothing fetched")
    }

    func testAnUnfinishedRunSaysSoAndItsOpenHostsAreCancelled() {
        let page = ReportPage.render(history([
            (0, .runStarted(.init(operation: "exec", commandLine: ["tasker"], subject: "sleep 9", targets: 1, startedAt: "x"))),
            (1, .hostConnecting(.init(host: "a"))),
            (5, .hostConnected(.init(host: "a", via: [], connectMilliseconds: 4))),
            (6, .commandStarted(.init(host: "a", index: 0, command: "sleep 9"))),
        ]))
        XCTAssertTrue(page.contains("id=\"unfinished\""))
        XCTAssertTrue(page.contains(#"data-host="a" data-status="cancelled""#))
    }

    func testWorkflowMatrixHasACellPerTaskAndHost() {
        let page = ReportPage.render(history([
            (0, .runStarted(.init(operation: "workflow", commandLine: [], subject: "f.txt", targets: 0, startedAt: "x"))),
            (1, .taskStarted(.init(task: 0, label: "0"))),
            (2, .taskEnded(.init(task: 0, label: "0", host: "h1", status: "ok", exitCode: 0, success: true))),
            (3, .taskEnded(.init(task: 0, label: "0", host: "h2", status: "unreachable", exitCode: 255, success: false))),
            (4, .taskEnded(.init(task: 0, label: "0", status: "failed", exitCode: 1, success: false))),
            (4, .routed(.init(from: 0, to: 1))),
            (5, .taskStarted(.init(task: 1, label: "1"))),
            (6, .taskEnded(.init(task: 1, label: "1", host: "h1", status: "timeout", exitCode: 124, success: false))),
            (6, .routed(.init(from: 1, to: nil))),
            (7, .runEnded(RunSummary(tally: RunTally(), exitCode: 10, wallMilliseconds: 7, connectionsOpened: 1))),
        ]))
        XCTAssertTrue(page.contains(#"data-task="0" data-host="h1" data-status="ok""#))
        XCTAssertTrue(page.contains(#"data-task="0" data-host="h2" data-status="unreachable""#))
        XCTAssertTrue(page.contains(#"data-task="1" data-host="h1" data-status="timeout""#))
        XCTAssertTrue(page.contains(#"data-task="1" data-host="h2" data-status="not_reached""#))
        XCTAssertTrue(page.contains(#"data-host="h1" data-status="timeout""#), "a host shows its first problem")
        XCTAssertTrue(page.contains(#"<span class="step">0</span> → <span class="step">1</span>"#))
    }

    func testSkippedAndUnreachedFanOutTasksStillHaveTheirColumns() {
        let page = ReportPage.render(history([
            (0, .runStarted(.init(operation: "workflow", commandLine: [], subject: "f.txt", targets: 0, startedAt: "x", fanOutTasks: [0, 2, 5]))),
            (1, .taskEnded(.init(task: 0, label: "0", host: "h1", status: "ok", exitCode: 0, success: true))),
            (2, .taskEnded(.init(task: 0, label: "0", status: "ok", exitCode: 0, success: true))),
            (3, .taskEnded(.init(task: 2, label: "2", status: "skipped", exitCode: -1, success: false))),
            (4, .runEnded(RunSummary(tally: RunTally([.ok]), exitCode: 0, wallMilliseconds: 4, connectionsOpened: 1))),
        ]))
        XCTAssertTrue(page.contains(#"data-task="0" data-host="h1" data-status="ok""#))
        XCTAssertTrue(page.contains(#"data-task="2" data-host="h1" data-status="skipped""#), page)
        XCTAssertTrue(page.contains(#"data-task="5" data-host="h1" data-status="not_reached""#))
        XCTAssertTrue(page.contains(#"data-host="h1" data-status="ok""#), "skipped is not a host's problem")
    }

    func testLongOutputsAreTrimmedAndTheTrimmingSaid() {
        var history = RunHistory(keptBytes: 4096)
        history.apply(RunEvent(offset: 0, .hostEnded(record("a", .ok, stdout: String(repeating: "x", count: 100_000), started: 0, ended: 1))))
        let page = ReportPage.render(history)
        XCTAssertTrue(page.contains("bytes left out of this report"))
        XCTAssertTrue(page.contains("id=\"trimmed\""))
        XCTAssertLessThan(page.utf8.count, 30_000)
    }

    func testJournalReaderNamesFileAndLine() throws {
        let path = NSTemporaryDirectory() + "/journal-\(UUID().uuidString).ndjson"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = RecordCoding.line(RunEvent(offset: 0, .hostConnecting(.init(host: "a"))))
        try "\(good)\n{\"type\":\"host_connecting\",\"t_ms\":1}\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JournalReader.events(at: path)) { error in
            XCTAssertEqual("\(error)", "\(path):2: not a Tasker run event: field 'host': missing")
        }
        try "\(good)\n{\"type\":\"host_conn".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try JournalReader.events(at: path)) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path):2: cut off mid-line"), "\(error)")
        }
        try "\(good)\n".write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try JournalReader.events(at: path).count, 1)
    }
}
