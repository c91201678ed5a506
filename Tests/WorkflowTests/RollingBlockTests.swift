import Fleet
import Foundation
import Locking
import XCTest
@testable import Workflow

/// `type=rolling`: per-host pipelines in batches within a failure budget, against fake hosts in process.
final class RollingBlockTests: XCTestCase {
    /// When each (host, command) started and ended, in milliseconds since the test began.
    private final class Timeline: Sendable {
        struct Span: Sendable {
            var host: String
            var command: String
            var start: Double
            var end: Double
        }

        private let begin = ContinuousClock.now
        private let spans = Locked<[Span]>([])

        func record<T>(_ host: String, _ command: String, _ work: () async -> T) async -> T {
            let start = (ContinuousClock.now - begin) / .milliseconds(1)
            let value = await work()
            let end = (ContinuousClock.now - begin) / .milliseconds(1)
            spans.withLock { $0.append(Span(host: host, command: command, start: start, end: end)) }
            return value
        }

        var all: [Span] { spans.withLock { $0 } }
        func span(_ host: String, _ command: String) -> Span? { all.first { $0.host == host && $0.command == command } }
    }

    private func pipeline(_ block: String, steps: [(Int, String)], extra: String = "") -> String {
        var text = "task=10\ntype=rolling\nhosts=all\ntasks=\(steps.map { String($0.0) }.joined(separator: ","))\n\(block)"
        for (id, command) in steps { text += "task=\(id)\nexec=ssh_shell\ncommand=\(command)\n" }
        return text + extra
    }

    func testBatchesFollowAnsiblesSerial() {
        let sizes = RolloutPlan.sizes("1,25%,100%")!
        XCTAssertEqual(RolloutPlan.batches(sizes, total: 24), [1, 6, 17])
        XCTAssertEqual(RolloutPlan.batches(RolloutPlan.sizes("2")!, total: 5), [2, 2, 1], "the last entry repeats")
        XCTAssertEqual(RolloutPlan.batches(RolloutPlan.sizes("10%")!, total: 5), [1, 1, 1, 1, 1], "at least one host")
        XCTAssertEqual(RolloutPlan.batches([], total: 7), [7])
        for bad in ["0", "-1", "0%", "101%", "x", "1,,2"] { XCTAssertNil(RolloutPlan.sizes(bad), bad) }
    }

    func testTheBudgetStopsAsSoonAsItCanNoLongerHold() {
        let budget = RolloutPlan.Budget("max_failed=10%", hosts: 20)!
        XCTAssertEqual(budget.criterion, .bound(.maxFailed, 2))
        XCTAssertTrue(budget.canStillHold(successes: 3, failures: 2, pending: 15))
        XCTAssertFalse(budget.canStillHold(successes: 3, failures: 3, pending: 14))
        let minimum = RolloutPlan.Budget("min_success=18", hosts: 20)!
        XCTAssertTrue(minimum.canStillHold(successes: 0, failures: 2, pending: 18))
        XCTAssertFalse(minimum.canStillHold(successes: 0, failures: 3, pending: 17))
        XCTAssertFalse(RolloutPlan.Budget(nil, hosts: 5)!.canStillHold(successes: 4, failures: 1, pending: 0))
        XCTAssertNil(RolloutPlan.Budget("max_failed=x", hosts: 5))
        XCTAssertNil(RolloutPlan.Budget("exit_0", hosts: 5))
    }

    func testEveryHostRunsItsStepsInOrderAndAFastHostDoesNotWaitForASlowOne() async throws {
        let timeline = Timeline()
        let hosts = FakeHosts(FakeHosts.names(24)) { host, command in
            await timeline.record(host, command) {
                try? await Task.sleep(for: .milliseconds(host == "h03" && command.hasPrefix("step1") ? 600 : 10))
                return FakeHosts.exited(0, "\(command) on \(host)\n")
            }
        }
        let outcome = try await FakeHosts.engine(pipeline("serial=1,25%,100%\nmax_parallel=24\n", steps: [(11, "step1"), (12, "step2 @11_stdout@")]),
                                                 hosts: hosts).run()
        XCTAssertEqual(outcome.exitCode, 0)
        let result = try XCTUnwrap(outcome.results[10])
        XCTAssertTrue(result.success)
        XCTAssertEqual(result.hosts?.map(\.host), FakeHosts.names(24))
        XCTAssertTrue(result.stdout.hasPrefix("Rolling: 3/3 batch(es), 24/24 host(s) successful"), result.stdout)
        XCTAssertTrue(hosts.calls.contains(.init(host: "h07", command: "step2 step1 on h07")), "@11_stdout@ is this host's own step 11")
        // The canary's batch ended before the next began; the next batch (h02–h07) ended before h08 started.
        let canaryEnd = try XCTUnwrap(timeline.span("h01", "step2 step1 on h01")).end
        XCTAssertTrue(timeline.all.filter { $0.host != "h01" }.allSatisfy { $0.start >= canaryEnd })
        let slow = try XCTUnwrap(timeline.span("h03", "step1"))
        let fast = try XCTUnwrap(timeline.span("h04", "step2 step1 on h04"))
        XCTAssertLessThan(fast.end, slow.end, "h04 finished both steps while h03 was still in step 1")
        let thirdBatchStart = timeline.all.filter { FakeHosts.names(24).suffix(17).contains($0.host) }.map(\.start).min()!
        XCTAssertGreaterThanOrEqual(thirdBatchStart, slow.end, "a batch is a barrier")
    }

    func testAFailingCanaryStopsTheRolloutWithOneHostTouched() async throws {
        let hosts = FakeHosts(FakeHosts.names(10)) { _, command in FakeHosts.exited(command == "deploy" ? 1 : 0) }
        let outcome = try await FakeHosts.engine(pipeline("serial=1,100%\n", steps: [(11, "deploy"), (12, "check")],
                                                          extra: "task=20\nhosts=@10_touched_hosts@\ncommand=rollback\n"), hosts: hosts).run()
        XCTAssertEqual(outcome.exitCode, 10, "a failed block without on_failure ends the run with 10, as a parallel block")
        let records = try XCTUnwrap(outcome.results[10]?.hosts)
        XCTAssertEqual(records.filter { $0.attempts > 0 }.map(\.host), ["h01"])
        XCTAssertEqual(records.filter { $0.status == .held }.count, 9)
        XCTAssertEqual(records[0].step, 11)
        XCTAssertEqual(hosts.calls.map(\.host), ["h01"], "nothing ran after the canary failed, not even its step 12")
        XCTAssertTrue(outcome.results[10]!.stdout.contains("stopped: the failure budget can no longer hold"), outcome.results[10]!.stdout)
    }

    func testNoHostStartsOnceTheBudgetIsSpent() async throws {
        let hosts = FakeHosts(FakeHosts.names(20)) { host, _ in
            try? await Task.sleep(for: .milliseconds(Int(host.dropFirst())! * 25))
            return FakeHosts.exited(1)
        }
        let outcome = try await FakeHosts.engine(pipeline("success=max_failed=1\nmax_parallel=4\non_failure=30\n", steps: [(11, "deploy")],
                                                          extra: "task=30\nhostname=localhost\nexec=local\ncommand=true\n"), hosts: hosts).run()
        // h01–h04 start; h01 fails (within the budget) and h05 starts; h02 fails: the budget is spent.
        XCTAssertEqual(hosts.calls.count, 5)
        XCTAssertEqual(outcome.executionOrder, [10, 30], "on_failure routes as on any block")
        XCTAssertEqual(outcome.results[10]?.hosts?.filter { $0.status == .held }.count, 15)
    }

    func testAnUnreachableHostCountsAgainstTheBudget() async throws {
        let hosts = FakeHosts(FakeHosts.names(3)) { host, _ in
            host == "h01" ? CommandExit(ending: .notRun(.unreachable), stdout: "", stderr: "unreachable: connect", remote: true)
                : FakeHosts.exited(0)
        }
        let outcome = try await FakeHosts.engine(pipeline("max_parallel=1\n", steps: [(11, "deploy")]), hosts: hosts).run()
        XCTAssertEqual(outcome.results[10]?.success, false)
        XCTAssertEqual(hosts.calls.count, 1)
        XCTAssertEqual(outcome.results[10]?.hosts?.first?.status, .host(.unreachable))
    }

    func testAFailedStepRunsItsRollbackStepForThatHostOnly() async throws {
        let hosts = FakeHosts(FakeHosts.names(3)) { host, command in FakeHosts.exited(host == "h02" && command == "switch" ? 1 : 0) }
        var text = "task=10\ntype=rolling\nhosts=all\ntasks=11,12,13,14\nsuccess=max_failed=1\n"
        text += "task=11\nexec=ssh_shell\ncommand=ship\ntask=12\nexec=ssh_shell\ncommand=switch\non_failure=14\n"
        text += "task=13\nexec=ssh_shell\ncommand=check\ntask=14\nexec=ssh_shell\ncommand=switch back\ncondition=@12_exit@!=0\n"
        let outcome = try await FakeHosts.engine(text, hosts: hosts).run()
        XCTAssertEqual(hosts.calls.filter { $0.command == "switch back" }.map(\.host), ["h02"])
        XCTAssertFalse(hosts.calls.contains(.init(host: "h02", command: "check")))
        let records = try XCTUnwrap(outcome.results[10]?.hosts)
        XCTAssertEqual(records.map(\.success), [true, false, true], "the host still counts as failed")
        XCTAssertEqual(records[1].step, 12)
        XCTAssertEqual(outcome.results[10]?.success, true, "one failure is within max_failed=1")
        XCTAssertEqual(outcome.exitCode, 0)
    }

    func testAFailingGateStopsTheRolloutAfterTheBatch() async throws {
        let hosts = FakeHosts(FakeHosts.names(6)) { _, _ in FakeHosts.exited(0) }
        let outcome = try await FakeHosts.engine(pipeline("serial=2\ngate=20\n", steps: [(11, "deploy")],
                                                          extra: "task=20\nhostname=localhost\nexec=local\ncommand=false\n"), hosts: hosts).run()
        XCTAssertEqual(hosts.calls.map(\.host), ["h01", "h02"])
        XCTAssertEqual(outcome.results[10]?.success, false)
        XCTAssertTrue(outcome.results[10]!.stdout.contains("the gate task 20 failed after batch 1"), outcome.results[10]!.stdout)
        XCTAssertEqual(outcome.results[20]?.exitCode, 1)
    }

    func testAbortRunningCancelsTheHostsStillRunning() async throws {
        let hosts = FakeHosts(FakeHosts.names(4)) { host, _ in
            if host == "h01" { return FakeHosts.exited(1) }
            do {
                try await Task.sleep(for: .seconds(30))
                return FakeHosts.exited(0)
            } catch {
                return CommandExit(ending: .cancelled, stdout: "", stderr: "Interrupted", remote: true)
            }
        }
        let started = ContinuousClock.now
        let outcome = try await FakeHosts.engine(pipeline("max_parallel=4\nabort_running=true\n", steps: [(11, "deploy")]), hosts: hosts).run()
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(5))
        XCTAssertEqual(outcome.results[10]?.hosts?.map(\.status), [.failed, .cancelled, .cancelled, .cancelled])
    }

    func testAResumedRolloutSkipsTheHostsThatCompletedAndRunsTheRest() async throws {
        let healthy = Locked(false)
        let hosts = FakeHosts(FakeHosts.names(6)) { host, _ in FakeHosts.exited(host == "h03" && !healthy.withLock { $0 } ? 1 : 0) }
        let text = pipeline("serial=2\nmax_parallel=1\n", steps: [(11, "deploy")])
        let first = try await FakeHosts.engine(text, hosts: hosts).run()
        XCTAssertEqual(first.exitCode, 10)
        XCTAssertEqual(hosts.calls.map(\.host), ["h01", "h02", "h03"], "the second batch stopped at its failure")

        healthy.withLock { $0 = true }
        let resumedHosts = FakeHosts(FakeHosts.names(6)) { _, _ in FakeHosts.exited(0) }
        var options = WorkflowOptions()
        options.execute = true
        options.environment = [:]
        options.executionTypes = try ExecutionTypes.load()
        options.transport = resumedHosts
        options.startFrom = 10
        options.restoredResults = first.results
        let resumed = await WorkflowEngine(file: try TaskFile.parse(text, path: "fake.txt", environment: [:]), options: options,
                                           log: WorkflowLog(level: .error, echo: false)).run()
        XCTAssertEqual(resumed.exitCode, 0)
        XCTAssertEqual(resumedHosts.calls.map(\.host), ["h03", "h04", "h05", "h06"], "h01 and h02 completed every step before")
        XCTAssertEqual(resumed.results[10]?.hosts?.allSatisfy(\.success), true)
    }

    func testAHostsTaskWithSerialRollsOutAsAOneStepBlock() async throws {
        let hosts = FakeHosts(FakeHosts.names(10)) { host, _ in FakeHosts.exited(["h02", "h03"].contains(host) ? 1 : 0) }
        let outcome = try await FakeHosts.engine("""
        task=0
        hosts=all
        command=restart
        serial=1,3
        success=max_failed=10%
        on_failure=9
        task=9
        hostname=localhost
        exec=local
        command=true
        """, hosts: hosts).run()
        // Batches 1, 3, 3, 3: the second batch's second failure spends a budget of one host in ten.
        XCTAssertEqual(Set(hosts.calls.map(\.host)), ["h01", "h02", "h03", "h04"])
        XCTAssertEqual(outcome.executionOrder, [0, 9])
        XCTAssertEqual(outcome.results[0]?.hosts?.filter { $0.status == .held }.count, 6)
        let plain = FakeHosts(FakeHosts.names(4)) { host, _ in FakeHosts.exited(host == "h01" ? 1 : 0) }
        let unchanged = try await FakeHosts.engine("task=0\nhosts=all\ncommand=restart\nsuccess=max_failed=1\n", hosts: plain).run()
        XCTAssertEqual(plain.calls.count, 4, "without serial= every host runs, then the aggregate is judged (TASKER's semantics)")
        XCTAssertEqual(unchanged.exitCode, 0)
        XCTAssertEqual(try TaskFileValidator.validate(TaskFile.parse("task=0\nhosts=web\ncommand=true\nserial=2\nsuccess=max_failed=10%\n",
                                                                     path: "s.txt", environment: [:])).errors, [])
    }

    func testTheValidatorChecksRollingBlocksAndTheirSteps() throws {
        func errors(_ text: String) throws -> [String] {
            TaskFileValidator.validate(try TaskFile.parse(text, path: "r.txt", environment: [:])).errors
        }
        let good = "task=10\ntype=rolling\nhosts=web\ntasks=11,12\nserial=1,50%\ngate=20\nmax_fail_percentage=20\nsuccess=max_failed=10%\n"
            + "task=11\ncommand=systemctl\narguments=restart app@inventory_hostname@\non_failure=12\ntask=12\ncommand=true\n"
            + "task=20\nhostname=localhost\nexec=local\ncommand=true\n"
        XCTAssertEqual(try errors(good), [])
        let cases: [(String, String)] = [
            ("task=10\ntype=rolling\ntasks=11\ntask=11\ncommand=true\n", "needs hosts="),
            ("task=10\ntype=rolling\nhosts=web\n", "needs tasks="),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11,12\ntask=11\ncommand=true\n", "step 12 is not defined"),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11\ntask=11\nhostname=h\ncommand=true\n", "has no hostname= or hosts="),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11\ntask=11\ncommand=true\ntask=20\ntype=rolling\nhosts=db\ntasks=11\n",
             "step 11 is already a step of rolling block 10"),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11\ntask=11\ncommand=true\non_failure=30\ntask=30\nhostname=h\ncommand=true\nexec=local\n",
             "on_failure=30 points outside the pipeline"),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11\nserial=0%\ntask=11\ncommand=true\n", "serial=0% must list"),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11\nmax_fail_percentage=150\ntask=11\ncommand=true\n", "max_fail_percentage must be"),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11\ngate=99\ntask=11\ncommand=true\n", "gate task 99 is not defined"),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11,12\ngate=12\ntask=11\ncommand=true\ntask=12\ncommand=true\n", "gate task 12 is a step"),
            ("task=10\ntype=rolling\nhosts=web\ntasks=11\nsuccess=max_failed=x\ntask=11\ncommand=true\n", "invalid failure budget"),
        ]
        for (text, expected) in cases {
            let found = try errors(text)
            XCTAssertTrue(found.contains { $0.contains(expected) }, "\(expected) not in \(found)")
        }
    }
}
