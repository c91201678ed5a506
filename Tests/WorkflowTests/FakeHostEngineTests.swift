import Fleet
import Foundation
import Locking
import XCTest
@testable import Workflow

/// Fan-out tasks and blocks run by the engine against fake hosts behind `TaskTransport`,
/// in process: how many hosts run at once, results written while other hosts still run,
/// hosts ending in any order, cancellation reaching running hosts.
final class FakeHostEngineTests: XCTestCase {
    func testFanOutRunsAtMostMaxParallelHostsAndKeepsInventoryOrderWhateverOrderTheyEnd() async throws {
        let hosts = FakeHosts(FakeHosts.names(12)) { host, _ in
            let number = Int(host.dropFirst())!
            // Later hosts end first.
            try? await Task.sleep(for: .milliseconds((13 - number) * 15))
            return [3, 7].contains(number) ? FakeHosts.exited(1) : FakeHosts.exited(0, "\(host) up\n")
        }
        let outcome = try await FakeHosts.engine("""
        task=0
        hosts=all
        command=uptime
        max_parallel=4
        success=max_failed=2
        task=1
        hosts=@0_failed_hosts@
        command=echo
        arguments=again @inventory_hostname@
        success=max_failed=2
        """, hosts: hosts).run()
        XCTAssertEqual(outcome.exitCode, 0)
        XCTAssertEqual(hosts.peak, 4, "max_parallel bounds the hosts in flight, and is reached")
        let records = try XCTUnwrap(outcome.results[0]?.hosts)
        XCTAssertEqual(records.map(\.host), FakeHosts.names(12), "per-host results in the pattern's order")
        XCTAssertEqual(records.filter { !$0.success }.map(\.host), ["h03", "h07"])
        XCTAssertEqual(records[0].stdout, "h01 up\n")
        XCTAssertEqual(outcome.results[0]?.success, true, "two failures are within max_failed=2")
        XCTAssertEqual(hosts.calls.filter { $0.command.hasPrefix("echo") },
                       [.init(host: "h03", command: "echo again h03"), .init(host: "h07", command: "echo again h07")])
    }

    func testAnAggregateBeyondItsBudgetFailsTheTaskAndRoutesOnFailure() async throws {
        let hosts = FakeHosts(FakeHosts.names(5)) { host, command in host == "h05" || command == "rollback" ? FakeHosts.exited(0) : FakeHosts.exited(2) }
        let outcome = try await FakeHosts.engine("""
        task=0
        hosts=all
        command=deploy
        success=min_success=2
        on_failure=9
        task=1
        hosts=all
        command=never-reached
        task=9
        hostname=h01
        exec=ssh
        command=rollback
        """, hosts: hosts).run()
        XCTAssertEqual(outcome.executionOrder, [0, 9])
        XCTAssertEqual(outcome.results[0]?.success, false)
        XCTAssertEqual(outcome.results[0]?.stdout, "hosts=all: 1/5 successful, 4 failed")
        XCTAssertFalse(hosts.calls.contains { $0.command == "never-reached" })
        XCTAssertEqual(outcome.exitCode, 0, "the rollback succeeded and the run ended there")
    }

    func testParallelSubtasksOnHostsStoreEveryResultWhateverOrderTheyEnd() async throws {
        let hosts = FakeHosts(FakeHosts.names(6)) { host, command in
            let number = Int(host.dropFirst())!
            try? await Task.sleep(for: .milliseconds((7 - number) * 20))
            if number == 4 {
                return CommandExit(ending: .timedOut, status: 124, stdout: "", stderr: "Process killed after timeout of 5 seconds",
                                   remote: true)
            }
            return FakeHosts.exited(0, "\(command) from \(host)\n")
        }
        var text = "task=0\ntype=parallel\ntasks=1,2,3,4,5,6\nmax_parallel=6\non_failure=20\n"
        for id in 1...6 { text += "task=\(id)\nhostname=h0\(id)\nexec=ssh\ncommand=echo\narguments=\(id)\n" }
        text += "task=20\nhostname=localhost\nexec=local\ncommand=true\n"
        let outcome = try await FakeHosts.engine(text, hosts: hosts).run()
        XCTAssertEqual(hosts.peak, 6)
        for id in [1, 2, 3, 5, 6] {
            XCTAssertEqual(outcome.results[id]?.stdout, "echo \(id) from h0\(id)\n", "subtask \(id)")
        }
        XCTAssertEqual(outcome.results[4]?.exitCode, 124)
        XCTAssertEqual(outcome.results[0]?.stdout, "Parallel execution: 5/6 successful, 1 timeout")
        XCTAssertEqual(outcome.executionOrder, [0, 20])
    }

    func testCancellingTheRunStopsRunningHostsAndStartsNoOthers() async throws {
        let hosts = FakeHosts(FakeHosts.names(10)) { _, _ in
            do {
                try await Task.sleep(for: .seconds(30))
                return FakeHosts.exited(0)
            } catch {
                return CommandExit(ending: .cancelled, stdout: "", stderr: "Interrupted", remote: true)
            }
        }
        let engine = try FakeHosts.engine("task=0\nhosts=all\ncommand=sleep 30\nmax_parallel=2\ntask=1\nhosts=all\ncommand=after\n", hosts: hosts)
        let run = Task { await engine.run() }
        while hosts.running < 2 { try await Task.sleep(for: .milliseconds(5)) }
        let cancelled = ContinuousClock.now
        run.cancel()
        let outcome = await run.value
        XCTAssertLessThan(ContinuousClock.now - cancelled, .seconds(5), "running hosts stop at once")
        XCTAssertEqual(outcome.reason, .interrupted(signal: SIGINT))
        XCTAssertEqual(outcome.exitCode, 128 + SIGINT)
        XCTAssertEqual(hosts.calls.count, 2, "no host starts after the cancellation")
        let records = try XCTUnwrap(outcome.results[0]?.hosts)
        XCTAssertEqual(records.count, 10)
        XCTAssertTrue(records.allSatisfy { $0.status == .cancelled && !$0.success })
        XCTAssertEqual(records.filter { $0.attempts == 0 }.count, 8, "eight hosts never started")
        XCTAssertNil(outcome.results[1], "the next task never ran")
    }

    func testResultsStoredConcurrentlyAreAllKeptAndOfferedToRecoveryOnce() async {
        let state = EngineState(globals: [:], restored: [:])
        await withTaskGroup(of: Void.self) { group in
            for id in 0..<500 {
                group.addTask { await state.store(id, TaskResult(exitCode: id % 3, stdout: "\(id)", stderr: "", success: id % 3 == 0)) }
            }
        }
        let (results, changed) = await state.takeUnsaved()
        XCTAssertEqual(results.count, 500)
        XCTAssertEqual(changed, Set(0..<500))
        XCTAssertEqual(results[321]?.stdout, "321")
        let again = await state.takeUnsaved()
        XCTAssertTrue(again.changed.isEmpty, "a result is offered to recovery once")
    }
}
