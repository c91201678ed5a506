import Foundation
import TestFleet
import XCTest

/// `type=rolling` across the real sshd fleet: a canary that fails stops the rollout with one host
/// touched, which a rollback over `@N_touched_hosts@` then reaches; a healthy release reaches all.
final class RollingDeployTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var fleet: TestFleet!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        fleet = try TestFleet.shared()
    }

    private func run(release: String) throws -> (result: ProcessRunner.Result, report: [String: [String: Any]]) {
        let marker = directory.path + "/deployed-\(release)"
        let flow = directory.path + "/rolling-\(release).txt"
        try """
        RELEASE=\(release)

        task=10
        type=rolling
        hosts=fleet[0:7]
        tasks=11,12
        serial=1,50%,100%
        max_parallel=4
        on_failure=20
        on_success=30

        task=11
        exec=ssh_shell
        command=echo "@RELEASE@ on @inventory_hostname@" >> \(marker)

        task=12
        exec=ssh_shell
        command=test "@RELEASE@" != broken && echo healthy

        task=20
        hosts=@10_touched_hosts@
        exec=ssh_shell
        command=echo "rolled back @inventory_hostname@"
        on_success=21

        task=21
        hostname=localhost
        exec=local
        command=false

        task=30
        hostname=localhost
        exec=local
        command=echo
        arguments=all=@10_succeeded_hosts@

        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let json = directory.path + "/report-\(release).json"
        let result = try ProcessRunner.run(TestFleet.taskerExecutable,
                                           ["-r", flow, "--output-json=\(json)", "-F", fleet.sshConfig, "-i", fleet.inventory,
                                            "-l", directory.path + "/logs"], timeout: 120)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any],
                                   result.stdout + result.stderr)
        return (result, try XCTUnwrap(object["task_results"] as? [String: [String: Any]]))
    }

    func testAHealthyReleaseRollsOverEveryHostInBatches() throws {
        let (result, report) = try run(release: "v2")
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertEqual(report["10"]?["stdout"] as? String, "Rolling: 3/3 batch(es), 8/8 host(s) successful")
        let names = (1...8).map { String(format: "node%03d", $0) }
        XCTAssertEqual(report["30"]?["stdout"] as? String, "all=\(names.joined(separator: ","))\n")
        XCTAssertTrue(result.stdout.contains("in 3 batch(es) [1, 4, 3]"), result.stdout)
        XCTAssertNil(report["20"], "no rollback")
    }

    func testABrokenReleaseIsStoppedByTheCanaryAndRolledBackThere() throws {
        let (result, report) = try run(release: "broken")
        XCTAssertEqual(result.status, 1, "the rollback ends the run as failed: " + result.stdout + result.stderr)
        let hosts = try XCTUnwrap(report["10"]?["hosts"] as? [String: [String: Any]])
        let touched = hosts.filter { ($0.value["attempts"] as? Int ?? 0) > 0 }.map(\.key)
        XCTAssertEqual(touched, ["node001"], "only the canary ran")
        XCTAssertEqual(hosts["node001"]?["step"] as? Int, 12, "it failed its health check")
        XCTAssertEqual(hosts.values.filter { $0["status"] as? String == "held" }.count, 7)
        let rollback = try XCTUnwrap(report["20"]?["hosts"] as? [String: [String: Any]])
        XCTAssertEqual(Array(rollback.keys), ["node001"])
        XCTAssertEqual(rollback["node001"]?["stdout"] as? String, "rolled back node001\n")
        let deployed = try String(contentsOfFile: directory.path + "/deployed-broken", encoding: .utf8)
        XCTAssertEqual(deployed, "broken on node001\n", "the fleet shares this file system: one host wrote")
    }

    func testAutoRecoveryResumesTheRolloutWithoutRerunningCompletedHosts() throws {
        let marker = directory.path + "/ran"
        let fixed = directory.path + "/fixed"
        let flow = directory.path + "/resume.txt"
        try """
        task=10
        type=rolling
        hosts=fleet[0:5]
        tasks=11,12
        serial=2

        task=11
        exec=ssh_shell
        command=echo @inventory_hostname@ >> \(marker)

        task=12
        exec=ssh_shell
        command=test @inventory_hostname@ != node003 || test -e \(fixed)
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        func run() throws -> ProcessRunner.Result {
            try ProcessRunner.run(TestFleet.taskerExecutable,
                                  ["-r", flow, "--auto-recovery", "-y", "-F", fleet.sshConfig, "-i", fleet.inventory, "-l", directory.path + "/logs"],
                                  timeout: 120)
        }
        let first = try run()
        XCTAssertEqual(first.status, 10, first.stdout + first.stderr)
        func ran() throws -> [String] { try String(contentsOfFile: marker, encoding: .utf8).split(separator: "\n").map(String.init).sorted() }
        XCTAssertEqual(try ran(), ["node001", "node002", "node003", "node004"], "the second batch ran, the third never started")
        XCTAssertTrue(FileManager.default.createFile(atPath: fixed, contents: nil))
        try "".write(toFile: marker, atomically: true, encoding: .utf8)
        let resumed = try run()
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resuming: 3 host(s) completed every step before"), resumed.stdout)
        XCTAssertEqual(try ran(), ["node003", "node005", "node006"], "completed hosts are not run again")
    }

    func testCtrlCMidBatchCancelsItsHostsAndAResumeRunsOnlyThoseLeft() throws {
        let sleep = "8\(Int.random(in: 100...999)).5"
        let marker = directory.path + "/finished"
        let released = directory.path + "/released"
        let flow = directory.path + "/interrupt.txt"
        try """
        task=10
        type=rolling
        hosts=fleet[0:5]
        tasks=11
        serial=3

        task=11
        exec=ssh_shell
        command=case @inventory_hostname@ in node00[4-6]) test -e \(released) || sleep \(sleep);; esac; echo @inventory_hostname@ >> \(marker)
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let arguments = ["-r", flow, "--auto-recovery", "-y", "-F", fleet.sshConfig, "-i", fleet.inventory, "-l", directory.path + "/logs"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The sleeps themselves, not the shells whose command lines hold them.
        XCTAssertEqual(try ProcessTable.waitFor("^sleep \(sleep)", atLeast: 3), 3, "the second batch is running")
        kill(process.processIdentifier, SIGINT)
        let log = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130, log)
        XCTAssertEqual(try ProcessTable.count("^sleep \(sleep)"), 0, "remote commands were killed before Tasker exited")
        XCTAssertTrue(log.contains("3/6 host(s) successful, 3 cancelled"), log)
        func finished() throws -> [String] { try String(contentsOfFile: marker, encoding: .utf8).split(separator: "\n").map(String.init).sorted() }
        XCTAssertEqual(try finished(), ["node001", "node002", "node003"])

        XCTAssertTrue(FileManager.default.createFile(atPath: released, contents: nil))
        let resumed = try ProcessRunner.run(TestFleet.taskerExecutable, arguments, timeout: 120)
        XCTAssertEqual(resumed.status, 0, resumed.stdout + resumed.stderr)
        XCTAssertEqual(try finished(), ["node001", "node002", "node003", "node004", "node005", "node006"], "each host finished once")
    }

    func testTheDryRunAndThePlanShowTheBatchesAndThePipeline() throws {
        let flow = directory.path + "/plan.txt"
        try """
        task=10
        type=rolling
        hosts=fleet[0:4]
        tasks=11,12
        serial=1,50%

        task=11
        exec=ssh_shell
        command=deploy

        task=12
        exec=ssh_shell
        command=check
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let common = "-F '\(fleet.sshConfig)' -i '\(fleet.inventory)' -l '\(directory.path)/logs'"
        let plan = try ProcessRunner.run("/bin/sh", ["-c", "echo n | '\(TestFleet.taskerExecutable)' -r '\(flow)' --show-plan \(common)"])
        XCTAssertEqual(plan.status, 0, plan.stdout + plan.stderr)
        for line in ["  Task 10: [rolling]", "    pipeline: 11 (ssh_shell: deploy) → 12 (ssh_shell: check)", "    batch 1: node001",
                     "    batch 2: node002, node003", "    batch 3: node004, node005"] {
            XCTAssertTrue(plan.stdout.contains(line + "\n"), "\(line) not in\n\(plan.stdout)")
        }
        let dry = try ProcessRunner.run("/bin/sh", ["-c", "'\(TestFleet.taskerExecutable)' '\(flow)' \(common)"])
        XCTAssertEqual(dry.status, 0, dry.stdout + dry.stderr)
        XCTAssertTrue(dry.stdout.contains("Task 10: [DRY RUN] batch 3: node004, node005"), dry.stdout)
        XCTAssertTrue(dry.stdout.contains("[DRY RUN] Would execute: deploy"), dry.stdout)
    }

    private func journalEvents(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testBatchesOfTwentyFourHostsAndABudgetThatStopsLaunchingAtTheSecondFailure() throws {
        let flow = directory.path + "/budget.txt"
        let journal = directory.path + "/budget.ndjson"
        try """
        task=10
        type=rolling
        hosts=fleet[0:23]
        tasks=11
        serial=1,25%,100%
        max_parallel=4
        success=max_failed=1

        task=11
        exec=ssh_shell
        command=case @inventory_hostname@ in node00[2-9]|node01*|node02*) sleep 0.$(( $(echo @inventory_hostname@ | tr -dc 0-9) % 10 )); exit 1;; esac
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let result = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--journal", journal, "-F", fleet.sshConfig,
                                                                        "-i", fleet.inventory, "-l", directory.path + "/logs"], timeout: 120)
        XCTAssertEqual(result.status, 10, result.stdout + result.stderr)
        let events = try journalEvents(journal)
        let batches = events.filter { $0["type"] as? String == "batch_started" }
        XCTAssertEqual(batches.map { ($0["hosts"] as? [String])?.count }, [1, 6], "batches of 1, 6 (and 17, never started)")
        // The canary passes; in the second batch four hosts start, the first failure is within the budget
        // and a fifth starts; the second failure spends it: no sixth host starts.
        let started = Set(events.filter { $0["type"] as? String == "task_started" && $0["task"] as? Int == 11 }.compactMap { $0["host"] as? String })
        XCTAssertEqual(started.count, 1 + 5, "\(started.sorted())")
        XCTAssertTrue(result.stdout.contains("18 held"), result.stdout)
    }

    func testAbortRunningKillsTheRunningHostsRemoteCommandsAndAnUnreachableHostCounts() throws {
        let sleep = "9\(Int.random(in: 100...999)).5"
        let inventory = directory.path + "/inventory.ini"
        var text = try String(contentsOfFile: fleet.inventory, encoding: .utf8)
        text += "\n[canaryfirst]\nghost ansible_host=127.0.\(TestFleet.baseOctet).250 ansible_port=\(TestFleet.port)\nnode010\nnode011\nnode012\n"
        try text.write(toFile: inventory, atomically: true, encoding: .utf8)
        let flow = directory.path + "/abort.txt"
        try """
        task=10
        type=rolling
        hosts=canaryfirst
        tasks=11
        max_parallel=4
        abort_running=true

        task=11
        exec=ssh_shell
        command=sleep \(sleep)
        """.write(toFile: flow, atomically: true, encoding: .utf8)
        let journal = directory.path + "/abort.ndjson"
        let started = Date()
        let result = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--journal", journal, "--connect-timeout", "5", "-F",
                                                                        fleet.sshConfig, "-i", inventory, "-l", directory.path + "/logs"],
                                           timeout: 120)
        XCTAssertEqual(result.status, 10, result.stdout + result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 30, "the sleeps were cut short")
        XCTAssertEqual(try ProcessTable.count("^sleep \(sleep)"), 0, "the running hosts' remote commands were killed")
        // Each host's outcome of the block: its task_ended for task 10.
        var outcome: [String: String] = [:]
        for event in try journalEvents(journal) where event["type"] as? String == "task_ended" && event["task"] as? Int == 10 {
            if let host = event["host"] as? String { outcome[host] = event["status"] as? String }
        }
        XCTAssertEqual(outcome["ghost"], "unreachable", "an unreachable host spends the all_success budget")
        for host in ["node010", "node011", "node012"] { XCTAssertEqual(outcome[host], "cancelled", host) }
    }
}
