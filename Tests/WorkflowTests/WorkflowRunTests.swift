import Fleet
import Foundation
import Locking
import XCTest
@testable import Workflow

/// Whole runs driven in-process, as `tasker run` drives them: validation,
/// reports, the project summary, auto-recovery and its question.
final class WorkflowRunTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "/tasker-workflow-run-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// What the run printed and asked.
    private final class Console: Sendable {
        let printed = Locked("")
        let questions = Locked<[String]>([])
        let answer: Bool

        init(answer: Bool = false) {
            self.answer = answer
        }
    }

    private func perform(_ text: String, console: Console = Console(),
                         configure: (inout WorkflowRun.Settings) -> Void = { _ in }) async throws -> WorkflowRun.Ending {
        let path = directory + "/flow.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try TaskFile.load(path: path)
        var settings = WorkflowRun.Settings(taskFilePath: path, logDirectory: directory + "/logs", timestamp: "20261130_000000_000000")
        settings.execute = true
        configure(&settings)
        let interaction = WorkflowRun.Interaction(
            print: { text in console.printed.withLock { $0 += text } },
            printError: { text in console.printed.withLock { $0 += text + "\n" } },
            confirm: { question in
                console.questions.withLock { $0.append(question) }
                return console.answer
            },
            makeSSHRunner: {
                SSHTaskRunner(session: FleetSession(settings: .init(resolver: ConnectionResolver(sshConfig: .empty, overrides: .init()),
                                                                    lifetime: .workflow)),
                              settings: .init(forks: 4, fanOutKeepBytes: 1024))
            })
        return try await WorkflowRun(file: file, settings: settings, log: WorkflowLog(level: .error, echo: false),
                                     interaction: interaction).perform()
    }

    func testARunWritesItsReportAndTheProjectSummary() async throws {
        let report = directory + "/report.json"
        let ending = try await perform("""
            task=0
            hostname=localhost
            exec=local
            command=echo
            arguments=hello
            """) {
            $0.reportPath = report
            $0.project = "demo"
        }
        XCTAssertEqual(ending.exitCode, 0)
        XCTAssertNil(ending.failure)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as? [String: Any])
        XCTAssertEqual(((json["task_results"] as? [String: Any])?["0"] as? [String: Any])?["stdout"] as? String, "hello\n")
        let summaries = try FileManager.default.subpathsOfDirectory(atPath: directory + "/logs").filter { $0.contains("demo") }
        XCTAssertFalse(summaries.isEmpty, "the project's summary file gets a line")
    }

    func testValidationFailureEndsWithTwentyAndSaysWhy() async throws {
        let console = Console()
        let ending = try await perform("task=0\ncommand=echo\n", console: console)
        XCTAssertEqual(ending.exitCode, 20)
        XCTAssertEqual(ending.failure, WorkflowRun.Failure(error: "Task validation failed", task: nil))
        XCTAssertTrue(console.printed.withLock { $0 }.contains("# Task validation FAILED."))
    }

    func testAFailedTaskNamesItselfForTheAlertAndADryRunExecutesNothing() async throws {
        let marker = directory + "/ran"
        let flow = """
            task=0
            hostname=localhost
            exec=local
            command=touch
            arguments=\(marker)
            task=1
            hostname=localhost
            exec=local
            command=false
            """
        let dry = try await perform(flow) { $0.execute = false }
        XCTAssertEqual(dry.exitCode, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "a dry run starts nothing")
        let ending = try await perform(flow)
        XCTAssertEqual(ending.exitCode, 1)
        XCTAssertEqual(ending.failure, WorkflowRun.Failure(error: "Workflow failed", task: 1))
    }

    func testAutoRecoveryResumesAtTheFailedTaskAndADeclinedPlanRunsNothing() async throws {
        let counter = directory + "/first-task-runs"
        let gate = directory + "/gate"
        let flow = """
            task=0
            hostname=localhost
            exec=shell
            command=echo x >> \(counter)

            task=1
            hostname=localhost
            exec=shell
            command=test -e \(gate)
            """
        let first = try await perform(flow) { $0.autoRecovery = true }
        XCTAssertEqual(first.exitCode, 1)
        XCTAssertTrue(FileManager.default.createFile(atPath: gate, contents: nil))
        let second = try await perform(flow) { $0.autoRecovery = true }
        XCTAssertEqual(second.exitCode, 0)
        XCTAssertEqual(try String(contentsOfFile: counter, encoding: .utf8), "x\n", "task 0 is not run again on resume")

        let console = Console(answer: false)
        let planned = try await perform(flow, console: console) { $0.showPlan = true }
        XCTAssertEqual(planned.exitCode, 0, "a declined plan stops the run cleanly")
        XCTAssertEqual(console.questions.withLock { $0.count }, 1)
        XCTAssertTrue(console.questions.withLock { $0[0] }.hasSuffix("Proceed? [y/N]: "))
        XCTAssertEqual(try String(contentsOfFile: counter, encoding: .utf8), "x\n", "nothing ran")
    }

    func testResumingAfterTheEnvironmentChangedAsksAndADeclineEndsWithTwelve() async throws {
        let name = "TASKER_RUN_TEST_\(UUID().uuidString.prefix(6))"
        setenv(name, "first", 1)
        defer { unsetenv(name) }
        let flow = """
            WHERE=$\(name)
            task=0
            hostname=localhost
            exec=local
            command=false
            """
        let first = try await perform(flow) { $0.autoRecovery = true }
        XCTAssertEqual(first.exitCode, 1)
        unsetenv(name)
        let console = Console(answer: false)
        let declined = try await perform(flow, console: console) { $0.autoRecovery = true }
        XCTAssertEqual(declined.exitCode, 12)
        XCTAssertEqual(declined.failure, WorkflowRun.Failure(error: "Auto-recovery failed", task: nil))
        XCTAssertEqual(console.questions.withLock { $0 }, ["Environment changed since the saved run. Continue? [y/N]: "])
        let assumed = try await perform(flow, console: console) {
            $0.autoRecovery = true
            $0.assumeYes = true
        }
        XCTAssertEqual(assumed.exitCode, 1, "-y resumes without asking; the task still fails")
        XCTAssertEqual(console.questions.withLock { $0.count }, 1)
    }
}
