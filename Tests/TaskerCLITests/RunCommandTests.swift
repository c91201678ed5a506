import Foundation
import TestFleet
import XCTest

/// `tasker [options] TASKFILE` as TASKER users run it.
final class RunCommandTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
    }

    private func taskFile(_ text: String) throws -> String {
        let path = directory.path + "/flow-\(UUID().uuidString.prefix(6)).txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs tasker with its log directory inside the test's directory.
    private func tasker(_ arguments: [String]) throws -> ProcessRunner.Result {
        try ProcessRunner.run(TestFleet.taskerExecutable, arguments + ["-l", directory.path + "/logs"], timeout: 120)
    }

    func testRunWritesTheJSONReportWithExecutionOrder() throws {
        let flow = try taskFile("""
        task=0
        hostname=localhost
        command=true
        exec=local
        on_success=2
        task=2
        hostname=localhost
        command=echo
        arguments=done
        exec=local
        """)
        let report = directory.path + "/report.json"
        let result = try tasker(["-r", flow, "--output-json=\(report)"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let data = try Data(contentsOf: URL(fileURLWithPath: report))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(object["execution_order"] as? [Int], [0, 2])
        let summary = try XCTUnwrap(object["execution_summary"] as? [String: Any])
        XCTAssertEqual(summary["execution_path"] as? [Int], [0, 2])
        let metadata = try XCTUnwrap(object["workflow_metadata"] as? [String: Any])
        XCTAssertEqual((metadata["execution_id"] as? String)?.count, 8)
        XCTAssertEqual(metadata["status"] as? String, "success")
        XCTAssertEqual(((object["task_results"] as? [String: Any])?["2"] as? [String: Any])?["stdout"] as? String, "done\n")
        XCTAssertTrue(result.stdout.contains("] Task 2: Executing [local]: echo done"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Task 0: Success condition met, jumping to Task 2"), result.stdout)
    }

    func testExitCodesFollowTheReference() throws {
        let failing = try taskFile("task=0\nhostname=h\ncommand=sh\narguments=-c 'exit 3'\nexec=local\n")
        XCTAssertEqual(try tasker(["-r", failing]).status, 3)
        XCTAssertEqual(try tasker([failing]).status, 0, "a dry run does not execute")
        let returning = try taskFile("task=0\nreturn=14\n")
        XCTAssertEqual(try tasker(["-r", returning]).status, 14)
        XCTAssertEqual(try tasker(["-r", returning, "--start-from=5"]).status, 12)
        let empty = try taskFile("A=1\n")
        XCTAssertEqual(try tasker(["-r", empty]).status, 24)
        XCTAssertEqual(try tasker(["-r", directory.path + "/missing.txt"]).status, 1)
        XCTAssertEqual(try tasker(["-r", "--bogus-flag", returning]).status, 2)
        let badTimeout = try tasker(["-r", returning, "--connect-timeout=0"])
        XCTAssertEqual(badTimeout.status, 2)
        XCTAssertEqual(badTimeout.stderr, "tasker: --connect-timeout must be positive\n")
        let badID = try taskFile("task=x\nreturn=0\n")
        XCTAssertEqual(try tasker(["-r", badID]).status, 20)
    }

    func testFileDefinedArgumentsApply() throws {
        let marker = directory.path + "/ran"
        let flow = try taskFile("""
        -r
        --log-level=ERROR
        task=0
        hostname=h
        command=touch
        arguments=\(marker)
        exec=local
        """)
        let result = try tasker([flow])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker), "-r in the file header runs the file")
        XCTAssertFalse(result.stdout.contains("Executing"), "--log-level=ERROR from the file applies")
        let logs = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/logs/log")
        XCTAssertEqual(logs.count, 1)
        XCTAssertTrue(logs[0].hasPrefix("flow-") && logs[0].hasSuffix(".log"), logs[0])
        let forbidden = try taskFile("--force-instance\ntask=0\nreturn=0\n")
        XCTAssertEqual(try tasker([forbidden]).status, 20)
        let badValue = try taskFile("--log-level=LOUD\ntask=0\nreturn=0\n")
        XCTAssertEqual(try tasker([badValue]).status, 2)
    }

    func testValidationFailureExitsTwentyAndValidateOnlyStops() throws {
        let broken = try taskFile("task=0\nhostname=h\ncommand=true\nexec=local\non_success=7\n")
        let result = try tasker(["-r", broken])
        XCTAssertEqual(result.status, 20)
        XCTAssertTrue(result.stdout.contains("# Task validation FAILED."), result.stdout)
        XCTAssertTrue(result.stdout.contains("ERROR: task 7 is referenced but not defined"), result.stdout)
        XCTAssertEqual(try tasker(["-r", broken, "--skip-task-validation"]).status, 0)
        let marker = directory.path + "/never"
        let valid = try taskFile("task=0\nhostname=h\ncommand=touch\narguments=\(marker)\nexec=local\n")
        XCTAssertEqual(try tasker(["-r", valid, "--validate-only"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "--validate-only runs nothing")
    }

    func testInterruptStopsTheRunningTaskAndExits130() throws {
        let marker = "44.\(Int.random(in: 100...999))"
        let flow = try taskFile("task=0\nhostname=h\ncommand=sh\narguments=-c 'sleep \(marker) & sleep \(marker)'\nexec=local\ntask=1\nhostname=h\ncommand=true\nexec=local\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        process.arguments = ["-r", flow, "-l", directory.path + "/logs"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        XCTAssertGreaterThanOrEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 1), 1)
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0, "no orphaned children")
    }

    func testProjectSummaryBackupAndPlan() throws {
        let flow = try taskFile("task=0\nhostname=h\ncommand=false\nexec=local\n")
        XCTAssertEqual(try tasker(["-r", flow, "-p", "nightly run.txt"]).status, 1)
        XCTAssertEqual(try tasker(["-r", flow, "-p", "nightly run.txt"]).status, 1)
        let summary = try String(contentsOfFile: directory.path + "/logs/project/nightly_run.summary", encoding: .utf8)
        let lines = summary.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].hasPrefix("#Timestamp\tStatus"))
        XCTAssertEqual(lines[1].split(separator: "\t").dropFirst().prefix(6).map(String.init),
                       ["FAILURE", "1", (flow as NSString).lastPathComponent, "0", "h", "false"])
        let backups = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/logs/backup")
        XCTAssertEqual(backups.count, 1, "identical content is backed up once: \(backups)")
        let declined = try ProcessRunner.run("/bin/sh", ["-c", "echo n | '\(TestFleet.taskerExecutable)' -r '\(flow)' --show-plan -l '\(directory.path)/logs'"])
        XCTAssertEqual(declined.status, 0)
        XCTAssertTrue(declined.stdout.contains("Task 0: h: false"), declined.stdout)
    }

    /// Two subtasks time out beside one that succeeds, and nothing routes the failure: TASKER's 10,
    /// whichever subtask ends first (the order is forced both ways by the list), and the timeouts fire
    /// on time even while another subtask has just ended.
    func testAParallelBlockWithTimedOutSubtasksEndsWith10InEitherOrder() throws {
        for list in ["1,2,3", "3,1,2"] {
            let flow = try taskFile("""
            task=0
            type=parallel
            tasks=\(list)
            max_parallel=3

            task=1
            hostname=localhost
            exec=local
            command=sleep
            arguments=20
            timeout=5

            task=2
            hostname=localhost
            exec=local
            command=sleep
            arguments=20
            timeout=5

            task=3
            hostname=localhost
            exec=local
            command=sleep
            arguments=1
            """)
            let result = try tasker(["-r", flow])
            XCTAssertEqual(result.status, 10, "tasks=\(list): " + result.stdout)
            XCTAssertTrue(result.stdout.contains("Task 0-1: Completed - Success: False (timeout)"), result.stdout)
            XCTAssertTrue(result.stdout.contains("Task 0-2: Completed - Success: False (timeout)"), result.stdout)
            XCTAssertLessThan(result.seconds, 18, "killed at their deadline, not at the end of sleep 20")
        }
    }

    func testHostValidation() throws {
        let shell = try taskFile("task=0\nhostname=localhost\ncommand=true\nexec=shell\n")
        let passed = try tasker(["-r", shell])
        XCTAssertEqual(passed.status, 0, passed.stdout)
        XCTAssertTrue(passed.stdout.contains("Host localhost: validation passed"), passed.stdout)
        let wrapper = try taskFile("task=0\nhostname=localhost\ncommand=true\n")
        XCTAssertEqual(try tasker(["-r", wrapper]).status, 61, "the default exec type pbrun is not installed")
        XCTAssertEqual(try tasker(["-r", wrapper, "--skip-host-validation", "-t", "shell"]).status, 0)
        let unknownHost = try taskFile("task=0\nhostname=no-such-host.invalid\ncommand=true\nexec=shell\n")
        XCTAssertEqual(try tasker([unknownHost]).status, 21)
        let placeholder = try taskFile("task=0\nhostname=localhost\ncommand=echo\nexec=local\ntask=1\nhostname=@0_stdout@\ncommand=true\nexec=shell\n")
        XCTAssertEqual(try tasker([placeholder]).status, 20)
        XCTAssertEqual(try tasker([placeholder, "--skip-unresolved-host-validation"]).status, 0)
        // A global naming an undefined one leaves a placeholder in the host name: 20, not a failed DNS look-up (21).
        let nested = try taskFile("SERVER=@HOSTNAME@\n\ntask=0\nhostname=@SERVER@\ncommand=true\nexec=shell\n")
        let nestedRun = try tasker([nested])
        XCTAssertEqual(nestedRun.status, 20, nestedRun.stdout)
        XCTAssertTrue(nestedRun.stdout.contains("unresolved hostname placeholders"), nestedRun.stdout)
        let unconfigured = try taskFile("task=0\nhostname=localhost\ncommand=true\nexec=teleport\n")
        XCTAssertEqual(try tasker([unconfigured]).status, 20)
        // An alias names its configured type in host validation too.
        let alias = try taskFile("task=0\nhostname=localhost\ncommand=true\nexec=bash\n")
        let aliased = try tasker(["-r", alias])
        XCTAssertEqual(aliased.status, 0, aliased.stdout)
        XCTAssertTrue(aliased.stdout.contains("Host localhost: validation passed"), aliased.stdout)
    }

    func testAutoRecoveryResumesAfterAFailure() throws {
        let counter = directory.path + "/task0-runs"
        let gate = directory.path + "/gate"
        let flow = try taskFile("""
        task=0
        hostname=h
        command=sh
        arguments=-c "echo run >> \(counter)"
        exec=local
        task=1
        hostname=h
        command=test
        arguments=-f \(gate)
        exec=local
        task=2
        hostname=h
        command=echo
        arguments=done
        exec=local
        """)
        XCTAssertEqual(try tasker(["-r", flow, "--auto-recovery"]).status, 1)
        let recoveryDirectory = directory.path + "/logs/recovery"
        let files = try FileManager.default.contentsOfDirectory(atPath: recoveryDirectory)
        XCTAssertEqual(files.count, 1)
        let state = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(recoveryDirectory)/\(files[0])"))) as? [String: Any])
        XCTAssertEqual(state["intended_next_task"] as? Int, 1)
        XCTAssertEqual(state["execution_path"] as? [Int], [0])
        let info = try tasker([flow, "--show-recovery-info"])
        XCTAssertTrue(info.stdout.contains("Valid: yes"), info.stdout)

        XCTAssertTrue(FileManager.default.createFile(atPath: gate, contents: nil))
        let resumed = try tasker(["-r", flow, "--auto-recovery"])
        XCTAssertEqual(resumed.status, 0, resumed.stdout)
        XCTAssertEqual(try String(contentsOfFile: counter, encoding: .utf8), "run\n", "task 0 is not run again")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: recoveryDirectory), [], "deleted after success")

        XCTAssertEqual(try tasker(["-r", flow, "--auto-recovery"]).status, 0)
        try FileManager.default.removeItem(atPath: gate)
        XCTAssertEqual(try tasker(["-r", flow, "--auto-recovery"]).status, 1)
        try (try String(contentsOfFile: flow, encoding: .utf8) + "\ntask=3\nreturn=0\n").write(toFile: flow, atomically: true, encoding: .utf8)
        XCTAssertEqual(try tasker(["-r", flow, "--auto-recovery"]).status, 12, "the task file changed since the state was saved")
    }

    func testAlertScriptRunsOnFailureWithContext() throws {
        let output = directory.path + "/alert.out"
        let script = directory.path + "/alert.sh"
        try "#!/bin/sh\necho \"$TASKER_EXIT_CODE|$TASKER_FAILED_TASK|$TASKER_ERROR\" > \(output)\n"
            .write(toFile: script, atomically: true, encoding: .utf8)
        let flow = try taskFile("task=0\nhostname=h\ncommand=false\nexec=local\n")
        XCTAssertEqual(try tasker(["-r", flow, "--alert-on-failure=\(script)"]).status, 1)
        XCTAssertEqual(try String(contentsOfFile: output, encoding: .utf8), "1|0|Workflow failed\n")
        try FileManager.default.removeItem(atPath: output)
        let fine = try taskFile("task=0\nhostname=h\ncommand=true\nexec=local\n")
        XCTAssertEqual(try tasker(["-r", fine, "--alert-on-failure=\(script)"]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: output), "no alert on success")
    }

    func testInstanceLockRefusesASecondRun() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = directory.path
        let flow = try taskFile("task=0\nhostname=h\ncommand=sleep\narguments=3\nexec=local\n")
        let first = Process()
        first.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        first.arguments = ["-r", flow, "--instance-check", "-l", directory.path + "/logs"]
        first.environment = environment
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        let lockDirectory = directory.path + "/TASKER/locks"
        for _ in 0..<100 where ((try? FileManager.default.contentsOfDirectory(atPath: lockDirectory)) ?? []).isEmpty { usleep(20_000) }
        let second = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--instance-check", "-l", directory.path + "/logs"],
                                           environment: environment)
        XCTAssertEqual(second.status, 25, second.stdout)
        let forced = try ProcessRunner.run(TestFleet.taskerExecutable, [flow, "--instance-check", "--force-instance", "-l", directory.path + "/logs"],
                                           environment: environment)
        XCTAssertEqual(forced.status, 0)
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: lockDirectory), [], "the lock file is removed")
    }

    func testInterruptDuringAParallelBlockLeavesNothingBehind() throws {
        let marker = "45.\(Int.random(in: 100...999))"
        let subtasks = (100...103).map { "task=\($0)\nhostname=h\ncommand=sleep\narguments=\(marker)\nexec=local\n" }.joined()
        let flow = try taskFile("task=0\ntype=parallel\nmax_parallel=2\ntasks=100,101,102,103\n" + subtasks)
        let sessionsBefore = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("tasker_session_") })
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestFleet.taskerExecutable)
        process.arguments = ["-r", flow, "-l", directory.path + "/logs", "--skip-subtask-range-validation"]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        XCTAssertEqual(try ProcessTable.waitFor("sleep \(marker)", atLeast: 2), 2, "max_parallel=2")
        let signalled = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 130)
        XCTAssertLessThan(Date().timeIntervalSince(signalled), 3)
        XCTAssertEqual(try ProcessTable.count("sleep \(marker)"), 0, "no orphaned subtasks")
        let sessionsAfter = Set(try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter { $0.hasPrefix("tasker_session_") })
        XCTAssertEqual(sessionsAfter.subtracting(sessionsBefore), [], "the run's temp directory is removed")
    }

    func testResumeAsksBeforeUsingAChangedEnvironment() throws {
        let gate = directory.path + "/gate"
        let flow = try taskFile("G=$TASKER_RESUME_TEST\ntask=0\nhostname=h\ncommand=echo\narguments=@G@\nexec=local\ntask=1\nhostname=h\ncommand=test\narguments=-f \(gate)\nexec=local\n")
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_RESUME_TEST"] = "one"
        let logs = ["-l", directory.path + "/logs"]
        XCTAssertEqual(try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--auto-recovery"] + logs, environment: environment).status, 1)
        environment["TASKER_RESUME_TEST"] = "two"
        let declined = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--auto-recovery"] + logs, environment: environment)
        XCTAssertEqual(declined.status, 12, "no answer on stdin declines")
        XCTAssertTrue(FileManager.default.createFile(atPath: gate, contents: nil))
        let accepted = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--auto-recovery", "-y"] + logs, environment: environment)
        XCTAssertEqual(accepted.status, 0, accepted.stdout)
    }

    func testAutoRecoveryKeepsSavedGlobalsWhoseEnvironmentIsGone() throws {
        let gate = directory.path + "/gate-gone"
        let flow = try taskFile("G=$TASKER_GONE_TEST\ntask=0\nhostname=h\ncommand=echo\narguments=@G@\nexec=local\n"
            + "task=1\nhostname=h\ncommand=test\narguments=-f \(gate)\nexec=local\ntask=2\nhostname=h\ncommand=echo\narguments=again @G@\nexec=local\n")
        var environment = ProcessInfo.processInfo.environment
        environment["TASKER_GONE_TEST"] = "saved-value"
        let logs = ["-l", directory.path + "/logs-gone"]
        XCTAssertEqual(try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--auto-recovery"] + logs, environment: environment).status, 1)
        environment["TASKER_GONE_TEST"] = nil
        XCTAssertTrue(FileManager.default.createFile(atPath: gate, contents: nil))
        let resumed = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--auto-recovery", "-y"] + logs, environment: environment)
        XCTAssertEqual(resumed.status, 0, resumed.stdout)
        XCTAssertTrue(resumed.stdout.contains("Task 2: STDOUT: again saved-value"), resumed.stdout)
        XCTAssertEqual(resumed.stdout.components(separatedBy: "environment for global G is gone").count - 1, 1, "one warning")
        // Without a saved state the same missing variable fails validation.
        let fresh = try ProcessRunner.run(TestFleet.taskerExecutable, ["-r", flow, "--auto-recovery", "-y", "-l", directory.path + "/logs-none"],
                                          environment: environment)
        XCTAssertEqual(fresh.status, 20, fresh.stdout)
    }

    func testTheShippedExampleWorkflowRuns() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/local-workflow.txt").path
        let report = directory.path + "/example.json"
        let result = try tasker(["-r", example, "--no-task-backup", "--output-json=\(report)"])
        XCTAssertEqual(result.status, 0, result.stdout)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        XCTAssertEqual(object["execution_order"] as? [Int], [0, 1, 2, 3])
    }

    func testExecSSHRunsTasksOnFleetHostsOverOneConnectionEach() throws {
        let fleet = try TestFleet.shared()
        let before = fleet.connectionCount(toHost: 13)
        let flow = try taskFile("""
        task=0
        hostname=node013
        command=echo
        arguments="it's" a;b & c
        exec=ssh
        task=1
        hostname=node013
        command=sh
        arguments=-c "exit 3"
        exec=ssh
        on_failure=2
        task=2
        type=parallel
        hostnames=node013,node014
        command=hostname
        exec=ssh
        """)
        let report = directory.path + "/ssh.json"
        let result = try tasker(["-r", flow, "-F", fleet.sshConfig, "--output-json=\(report)"])
        XCTAssertEqual(result.status, 0, result.stdout)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        let results = try XCTUnwrap(object["task_results"] as? [String: [String: Any]])
        XCTAssertEqual(results["0"]?["stdout"] as? String, "it's a;b & c\n", "argv words are quoted for the remote shell")
        XCTAssertEqual(results["1"]?["exit_code"] as? Int, 3)
        XCTAssertEqual(results["2"]?["stdout"] as? String, "Parallel execution: 2/2 successful")
        XCTAssertEqual(fleet.connectionsLogged(toHost: 13, since: before), 1, "one connection for every task on the host")

        let unreachable = try taskFile("task=0\nhostname=node013:2201\ncommand=true\nexec=ssh\n")
        let failed = try tasker(["-r", unreachable, "-F", fleet.sshConfig])
        XCTAssertEqual(failed.status, 255)
        XCTAssertTrue(failed.stdout.contains("unreachable"), failed.stdout)
    }
}
