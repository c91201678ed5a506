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
}
