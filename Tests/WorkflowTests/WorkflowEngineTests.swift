import Foundation
import XCTest
@testable import Workflow

/// Small task files run end to end with exec=local and exec=shell.
final class WorkflowEngineTests: XCTestCase {
    private func run(_ text: String, execute: Bool = true, startFrom: Int? = nil,
                     fireAndForget: Bool = false) async throws -> WorkflowOutcome {
        let file = try TaskFile.parse(text, path: "test.txt", environment: ProcessInfo.processInfo.environment)
        var options = WorkflowOptions()
        options.execute = execute
        options.startFrom = startFrom
        options.fireAndForget = fireAndForget
        options.executionTypes = try ExecutionTypes.load()
        let engine = WorkflowEngine(file: file, options: options, log: WorkflowLog(level: .error, echo: false))
        return await engine.run()
    }

    func testSequenceSucceedsAndPlaceholdersFlow() async throws {
        let outcome = try await run("""
        GREETING=hello
        task=0
        hostname=localhost
        command=echo
        arguments=@GREETING@ world
        exec=local
        task=1
        hostname=localhost
        command=echo "got: @0_stdout@" | tr a-z A-Z
        exec=shell
        success=stdout~GOT: HELLO WORLD
        """)
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(outcome.executionOrder, [0, 1])
        XCTAssertEqual(outcome.results[0]?.stdout, "hello world\n")
        XCTAssertEqual(outcome.results[1]?.success, true)
    }

    func testFailureStopsWithTheTaskExitCode() async throws {
        let outcome = try await run("""
        task=0
        hostname=h
        command=sh
        arguments=-c "exit 7"
        exec=local
        task=1
        hostname=h
        command=true
        exec=local
        """)
        XCTAssertEqual(outcome.exitCode, 7)
        XCTAssertEqual(outcome.executionOrder, [0])
        XCTAssertTrue(outcome.producesJSONReport)
    }

    func testRoutingOnFailureGapsAndNever() async throws {
        let outcome = try await run("""
        task=0
        hostname=h
        command=false
        exec=local
        on_failure=5
        task=1
        hostname=h
        command=true
        exec=local
        task=5
        hostname=h
        command=false
        exec=local
        next=never
        """)
        XCTAssertEqual(outcome.exitCode, 0, "next=never ends the run successfully even after a failure")
        XCTAssertEqual(outcome.executionOrder, [0, 5])

        let gap = try await run("task=0\nhostname=h\ncommand=true\nexec=local\ntask=2\nhostname=h\ncommand=false\nexec=local\n")
        XCTAssertEqual(gap.exitCode, 0, "a gap ends the run")
        XCTAssertEqual(gap.executionOrder, [0])
    }

    func testOnSuccessOnlyFailureExitsTen() async throws {
        let outcome = try await run("task=0\nhostname=h\ncommand=false\nexec=local\non_success=2\ntask=2\nreturn=0\n")
        XCTAssertEqual(outcome.exitCode, 10)
        XCTAssertFalse(outcome.producesJSONReport)
    }

    func testLoopsConditionsAndReturn() async throws {
        let directory = NSTemporaryDirectory() + "/loop-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try await run("""
        task=0
        hostname=h
        command=echo x >> \(directory)/count; wc -l < \(directory)/count
        exec=shell
        loop=5
        next=loop
        loop_break=stdout~3
        task=1
        hostname=h
        command=echo
        exec=local
        condition=@0_stdout@=99
        task=2
        return=14
        """)
        XCTAssertEqual(outcome.exitCode, 14)
        XCTAssertEqual(outcome.executionOrder, [0, 2], "loop iterations collapse; the skipped task is not listed")
        XCTAssertEqual(outcome.results[0]?.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "3")
        XCTAssertEqual(outcome.results[1], .skipped)
    }

    func testSplitsSuccessCriteriaAndDryRun() async throws {
        let text = """
        task=0
        hostname=h
        command=echo a,b,c
        exec=shell
        stdout_split=comma,1
        success=stdout=b
        """
        let real = try await run(text)
        XCTAssertEqual(real.exitCode, 0)
        XCTAssertEqual(real.results[0]?.stdout, "b")
        let dry = try await run(text, execute: false)
        XCTAssertEqual(dry.results[0]?.stdout, "DRY RUN STDOUT")
        XCTAssertEqual(dry.exitCode, 1, "the success criterion fails on the fake output, with exit 0 → 1")
    }

    func testTimeoutsStartFromAndMissingPrograms() async throws {
        let timed = try await run("task=0\nhostname=h\ncommand=sleep\narguments=30\nexec=local\ntimeout=5\n")
        XCTAssertEqual(timed.exitCode, 124)
        let started = try await run("task=0\nhostname=h\ncommand=false\nexec=local\ntask=1\nhostname=h\ncommand=true\nexec=local\n", startFrom: 1)
        XCTAssertEqual(started.exitCode, 0)
        XCTAssertEqual(started.executionOrder, [1])
        let missingStart = try await run("task=0\nreturn=0\n", startFrom: 4)
        XCTAssertEqual(missingStart.exitCode, 12)
        let missing = try await run("task=0\nhostname=h\ncommand=/nonexistent/tool\nexec=local\n")
        XCTAssertEqual(missing.exitCode, 20)
        let unknownType = try await run("task=0\nhostname=h\ncommand=x\nexec=teleport\n")
        XCTAssertEqual(unknownType.exitCode, 20)
        let forgiving = try await run("task=0\nhostname=h\ncommand=false\nexec=local\ntask=1\nhostname=h\ncommand=true\nexec=local\n", fireAndForget: true)
        XCTAssertEqual(forgiving.exitCode, 0)
    }
}
