import Foundation
import XCTest
@testable import Workflow

/// Parallel, conditional and decision blocks end to end with exec=local/shell.
final class BlockTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "/blocks-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func run(_ text: String, execute: Bool = true) async throws -> WorkflowOutcome {
        let file = try TaskFile.parse(text, path: "blocks.txt", environment: ProcessInfo.processInfo.environment)
        var options = WorkflowOptions()
        options.execute = execute
        options.executionTypes = try ExecutionTypes.load()
        options.temporaryDirectory = directory
        return await WorkflowEngine(file: file, options: options, log: WorkflowLog(level: .error, echo: false)).run()
    }

    private let subtasks = """
    task=100
    hostname=h
    command=true
    exec=local
    task=101
    hostname=h
    command=false
    exec=local
    task=102
    hostname=h
    command=echo
    arguments=third
    exec=local
    """

    func testParallelAggregatesAndRoutes() async throws {
        let outcome = try await run("task=0\ntype=parallel\ntasks=100,101,102\nsuccess=min_success=2\ntask=1\nreturn=0\n" + subtasks)
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(outcome.executionOrder, [0, 1], "blocks appear once, subtasks never")
        XCTAssertEqual(outcome.results[0]?.stdout, "Parallel execution: 2/3 successful, 1 failed")
        XCTAssertEqual(outcome.results[0]?.stderr, "Failed tasks: [101]")
        XCTAssertEqual(outcome.results[0]?.success, false, "the stored record says whether all succeeded")
        XCTAssertEqual(outcome.results[102]?.stdout, "third\n")

        let strict = try await run("task=0\ntype=parallel\ntasks=100,101,102\ntask=1\nreturn=0\n" + subtasks)
        XCTAssertEqual(strict.exitCode, 10, "not all succeeded and no on_failure")
    }

    func testParallelRunsConcurrently() async throws {
        let ids = (200...205)
        let text = "task=0\ntype=parallel\nmax_parallel=6\ntasks=\(ids.map(String.init).joined(separator: ","))\n"
            + ids.map { "task=\($0)\nhostname=h\ncommand=sleep\narguments=1\nexec=local\n" }.joined()
        let started = Date()
        let outcome = try await run(text)
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertLessThan(Date().timeIntervalSince(started), 4, "six 1-second subtasks ran at once")
    }

    func testHostnamesGenerateSubtasks() async throws {
        let outcome = try await run("task=0\ntype=parallel\nhostnames=a,b,c\ncommand=echo\narguments=@task@\nexec=local\n")
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(outcome.results[100_001]?.stdout, "100001\n")
        XCTAssertEqual(outcome.results[0]?.stdout, "Parallel execution: 3/3 successful")
    }

    func testConditionalBranchesRunInOrderAndSeeEachOther() async throws {
        let outcome = try await run("""
        task=0
        hostname=h
        command=echo
        arguments=yes
        exec=local
        task=1
        type=conditional
        condition=@0_stdout@=yes
        if_true_tasks=110,111
        if_false_tasks=112
        task=2
        return=0
        task=110
        hostname=h
        command=echo
        arguments=first
        exec=local
        task=111
        hostname=h
        command=echo
        arguments=after @110_stdout@
        exec=local
        task=112
        hostname=h
        command=false
        exec=local
        """)
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(outcome.results[111]?.stdout, "after first\n")
        XCTAssertNil(outcome.results[112])
        XCTAssertEqual(outcome.results[1]?.stdout, "Conditional TRUE branch: 2/2 successful")
        XCTAssertEqual(outcome.executionOrder, [0, 1, 2])
    }

    func testConditionalNextNeverExitsTen() async throws {
        let outcome = try await run("task=0\ntype=conditional\ncondition=true\nif_true_tasks=100\nif_false_tasks=100\nnext=never\n" + subtasks)
        XCTAssertEqual(outcome.exitCode, 10)
    }

    func testDecisionRoutes() async throws {
        let outcome = try await run("""
        task=0
        hostname=h
        command=false
        exec=local
        on_failure=1
        task=1
        type=decision
        success=@0_exit@=0
        on_success=3
        on_failure=2
        task=2
        return=7
        task=3
        return=0
        """)
        XCTAssertEqual(outcome.exitCode, 7)
        XCTAssertEqual(outcome.executionOrder, [0, 1, 2])
        XCTAssertNil(outcome.results[1], "decisions store no result")
    }

    func testRetriesUntilSuccess() async throws {
        let counter = directory + "/attempts"
        let outcome = try await run("""
        task=0
        type=parallel
        tasks=100
        retry_count=3
        retry_delay=0
        task=100
        hostname=h
        command=echo x >> \(counter); test $(wc -l < \(counter)) -ge 3
        exec=shell
        """)
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(try String(contentsOfFile: counter, encoding: .utf8).split(separator: "\n").count, 3)
        XCTAssertEqual(outcome.attempts[100], 3)
        let report = WorkflowReport(file: try TaskFile.parse("task=0\nreturn=0\n", path: "x.txt"), outcome: outcome,
                                    started: Date(), ended: Date(), logFile: "")
        XCTAssertEqual(report.taskResults["100"]?.attempts, 3)
    }

    func testDryRunSubtasksSucceed() async throws {
        let outcome = try await run("task=0\ntype=parallel\ntasks=100,101\n" + subtasks, execute: false)
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(outcome.results[101]?.stdout, "DRY RUN - Command not executed")
    }
}
