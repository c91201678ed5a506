import Foundation
import TestFleet
import XCTest

/// `tasker run --journal FILE`: a workflow's tasks, fan-out hosts and routing as events.
final class WorkflowJournalTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        fleet = try TestFleet.shared()
    }

    func testAWorkflowJournalHasEveryTaskHostAndRouteWithSecretsMasked() throws {
        let flow = directory.path + "/flow.txt"
        try """
        SECRET_TOKEN=hunter2-token

        task=0
        hosts=fleet[0:3]
        exec=ssh
        command=sh
        arguments=-c "echo @SECRET_TOKEN@; test @inventory_hostname@ != node002"
        success=min_success=3
        on_success=2

        task=1
        hostname=localhost
        exec=local
        command=false

        task=2
        hostname=node005
        exec=ssh
        command=echo
        arguments=done

        task=3
        condition=@2_exit@=7
        hostname=localhost
        exec=local
        command=true
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let journal = directory.path + "/flow.ndjson"
        let result = try ProcessRunner.run(TestFleet.taskerExecutable,
                                           ["-r", flow, "--journal", journal, "-F", fleet.sshConfig, "-i", fleet.inventory,
                                            "-l", directory.path + "/logs"], timeout: 120)
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let text = try String(contentsOfFile: journal, encoding: .utf8)
        XCTAssertFalse(text.contains("hunter2-token"), "secrets never reach the journal")
        XCTAssertTrue(text.contains("<masked len=13>"), text)
        let lines = try NDJSON.objects(inFile: journal)
        XCTAssertEqual(lines.first?["type"] as? String, "run_started")
        XCTAssertEqual(lines.first?["operation"] as? String, "workflow")
        XCTAssertEqual(lines.first?["subject"] as? String, flow)
        XCTAssertEqual(lines.last?["type"] as? String, "run_ended")
        XCTAssertEqual(lines.last?["exit_code"] as? Int, 0)
        XCTAssertEqual(lines.first?["fan_out_tasks"] as? [Int], [0], "the matrix's columns are known from the start")
        // The run's tally: the hosts of its hosts= tasks, each by its first unsuccessful outcome.
        XCTAssertEqual(lines.last?["hosts"] as? Int, 4)
        XCTAssertEqual(lines.last?["ok"] as? Int, 3)
        XCTAssertEqual(lines.last?["failed"] as? Int, 1)
        let offsets = lines.map { $0["t_ms"] as? Int ?? -1 }
        XCTAssertEqual(offsets, offsets.sorted())

        func tasks(_ type: String) -> [[String: Any]] { lines.filter { $0["type"] as? String == type } }
        let perHost = tasks("task_ended").filter { $0["task"] as? Int == 0 && $0["host"] != nil }
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: perHost.map { ($0["host"] as! String, $0["status"] as! String) }),
                       ["node001": "ok", "node002": "failed", "node003": "ok", "node004": "ok"])
        XCTAssertEqual(tasks("task_started").filter { $0["task"] as? Int == 0 && $0["host"] != nil }.count, 4)
        let whole = tasks("task_ended").filter { $0["host"] == nil }.map { "\($0["task"]!):\($0["status"]!)" }
        XCTAssertEqual(whole, ["0:ok", "2:ok", "3:skipped"])
        let routes = tasks("routed").map { "\($0["from"]!)->\($0["to"].map { "\($0)" } ?? "end")" }
        XCTAssertEqual(routes, ["0->2", "2->3", "3->end"], "a route to nowhere has no 'to'")
        // Remote tasks' hosts are connected and their commands started as in exec.
        XCTAssertEqual(Set(tasks("host_connected").compactMap { $0["host"] as? String }), ["node001", "node002", "node003", "node004", "node005"])
        XCTAssertEqual(tasks("command_started").count, 5)
    }
}
