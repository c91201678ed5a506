import XCTest
@testable import Workflow

/// `hosts=` fan-out tasks: what the validator accepts and how per-host results read back.
final class FanOutTaskTests: XCTestCase {
    private func report(_ text: String) throws -> ValidationReport {
        TaskFileValidator.validate(try TaskFile.parse(text, path: "f.txt", environment: [:]))
    }

    func testValidatorAcceptsFanOutTasks() throws {
        let valid = """
        task=0
        hosts=web:&eu
        command=systemctl
        arguments=restart app@inventory_hostname@
        success=min_success=2
        failure=stderr~fatal
        retry_count=2
        retry_delay=0
        max_parallel=10
        task=1
        hosts=@0_failed_hosts@
        command=sh
        arguments=-c "echo $((1+1))"
        exec=ssh_shell
        success=@0_exit[web01]@=0
        """
        let result = try report(valid)
        XCTAssertEqual(result.errors, [])
        XCTAssertFalse(result.warnings.contains { $0.contains("retry") }, "retries apply per host on fan-out tasks")
        let shellLine = try report("task=0\nhosts=web\nexec=ssh_shell\ncommand=systemctl restart app && echo done\n")
        XCTAssertEqual(shellLine.errors, [])
        XCTAssertEqual(shellLine.warnings, [], "a remote shell command line is not warned about")
    }

    func testValidatorRejectsMisusedFanOut() throws {
        let cases: [(String, String)] = [
            ("task=0\nhosts=web\nhostname=h\ncommand=true\n", "hosts and hostname cannot both be set"),
            ("task=0\nhosts=web\n", "a hosts= task needs a command"),
            ("task=0\nhosts=web\ncommand=true\nmax_parallel=0\n", "max_parallel must be an integer of at least 1"),
            ("task=0\nhosts=web\ncommand=true\nsuccess=min_success=x\n", "invalid aggregate condition"),
            ("task=0\nhosts=web\ncommand=true\nsuccess=exit_0\nfailure=exit_1\n", "success and failure cannot both be set"),
            ("task=0\nhosts=web\nreturn=1\n", "hosts= is only valid on a task with a command"),
            ("task=0\ntype=parallel\ntasks=1,2\ntask=1\nhosts=web\ncommand=true\ntask=2\nhostname=h\ncommand=true\nexec=local\n",
             "a fan-out task cannot be a block subtask"),
            ("task=0\nhosts=web\ncommand=rm;ls\n", "security error in 'command'"),
            ("task=0\nhosts=@7_failed_hosts@\ncommand=true\n", "task 7 is referenced but not defined"),
        ]
        for (text, expected) in cases {
            let errors = try report(text).errors
            XCTAssertTrue(errors.contains { $0.contains(expected) }, "\(expected) not in \(errors)")
        }
    }

    func testPerHostPlaceholders() {
        let hosts = [
            HostTaskResult(host: "web01", exitCode: 0, stdout: "v2\n", stderr: "", success: true, status: .ok, attempts: 1),
            HostTaskResult(host: "web02", exitCode: 255, stdout: "", stderr: "unreachable: connect", success: false,
                           status: .host(.unreachable), attempts: 3),
        ]
        let resolver = PlaceholderResolver(results: [
            4: TaskResult(exitCode: 1, stdout: "hosts=web: 1/2 successful", stderr: "", success: false, hosts: hosts),
            5: TaskResult(exitCode: 0, stdout: "plain", stderr: "", success: true),
        ])
        XCTAssertEqual(resolver.resolve("@4_stdout[web01]@|@4_exit[web02]@|@4_success[web02]@|@4_stderr[web02]@").text,
                       "v2|255|False|unreachable: connect")
        XCTAssertEqual(resolver.resolve("@4_hosts@ / @4_succeeded_hosts@ / @4_failed_hosts@ / @4_stdout@").text,
                       "web01,web02 / web01 / web02 / hosts=web: 1/2 successful")
        let unknownHost = resolver.resolve("@4_stdout[db01]@ @5_stdout[web01]@ @5_hosts@")
        XCTAssertEqual(unknownHost.text, "@4_stdout[db01]@ @5_stdout[web01]@ @5_hosts@")
        XCTAssertFalse(unknownHost.resolved, "a host the task did not run on, or a task without hosts, stays unresolved")
    }

    func testPlanSeparatesPerHostConditionsFromTheAggregate() {
        func plan(success: String? = nil, failure: String? = nil) -> WorkflowEngine.FanOutPlan {
            var task = TaskDefinition(id: 1, idText: "1", line: 1)
            task.success = success
            task.failure = failure
            return WorkflowEngine.FanOutPlan(task)
        }
        let aggregate = plan(success: "majority_success", failure: "stderr~fatal")
        XCTAssertEqual(aggregate.criterion, "majority_success")
        XCTAssertEqual(aggregate.hostCondition?.text, "stderr~fatal")
        XCTAssertEqual(aggregate.hostCondition?.isFailure, true)
        let perHost = plan(success: "exit_0&stdout~ready")
        XCTAssertEqual(perHost.criterion, "all_success")
        XCTAssertEqual(perHost.hostCondition?.text, "exit_0&stdout~ready")
        XCTAssertNil(plan().hostCondition)
    }
}
