import Foundation
import Locking
import Platform
import XCTest

/// The one local spawner: what it collects, how it stops programs, what it leaves behind.
final class LocalProcessTests: XCTestCase {
    private final class Lines: OutputSink {
        private let text = Locked([OutputStreamKind: String]())
        func write(_ bytes: UnsafeRawBufferPointer, to stream: OutputStreamKind) {
            text.withLock { $0[stream, default: ""] += String(decoding: bytes, as: UTF8.self) }
        }
        subscript(_ stream: OutputStreamKind) -> String { text.withLock { $0[stream, default: ""] } }
    }

    private func openDescriptors() throws -> Int { try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count }

    func testBothStreamsAndTheExitStatusArrive() async throws {
        let lines = Lines()
        let ending = try await LocalProcess.run(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"], timeout: 10, output: lines)
        XCTAssertEqual(ending.exitCode, 3)
        XCTAssertNil(ending.signal)
        XCTAssertEqual(lines[.stdout], "out\n")
        XCTAssertEqual(lines[.stderr], "err\n")
        let killed = try await LocalProcess.run(["/bin/sh", "-c", "kill -USR1 $$"], timeout: 10, output: lines)
        XCTAssertEqual(killed.signal, SIGUSR1)
        XCTAssertEqual(killed.status, -Int(SIGUSR1))
    }

    func testStandardInputIsNullUnlessInherited() async throws {
        let lines = Lines()
        // `cat` of /dev/null ends at once; with a terminal or an open pipe it would wait.
        let ending = try await LocalProcess.run(["cat"], timeout: 10, output: lines)
        XCTAssertEqual(ending.exitCode, 0)
        XCTAssertEqual(lines[.stdout], "")
    }

    func testBlockingRunsKeepAtMostTheLimitAndSayTheyCutIt() throws {
        let run = try LocalProcess.runBlocking(["/bin/sh", "-c", "head -c 100000 /dev/zero; echo e >&2"], timeout: 10, limit: 1000)
        XCTAssertEqual(run.ending.exitCode, 0)
        XCTAssertEqual(run.stdout.count, 1000)
        XCTAssertEqual(run.stderr, Array("e\n".utf8))
        XCTAssertTrue(run.truncated)
        let small = try LocalProcess.runBlocking(["echo", "hi"], timeout: 10, limit: 1000)
        XCTAssertEqual(small.stdout, Array("hi\n".utf8))
        XCTAssertFalse(small.truncated)
    }

    func testTheDeadlineKillsTheWholeGroup() throws {
        let marker = "47.\(Int.random(in: 100...999))"
        let started = ContinuousClock.now
        let run = try LocalProcess.runBlocking(["/bin/sh", "-c", "sleep \(marker) & sleep \(marker)"], timeout: 0.5, limit: 0)
        XCTAssertTrue(run.ending.timedOut)
        XCTAssertEqual(run.ending.signal, SIGKILL)
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(7))
        let survivors = try LocalProcess.runBlocking(["pgrep", "-f", "sleep \(marker)"], timeout: 10, limit: 1000)
        XCTAssertEqual(survivors.ending.exitCode, 1, "no process of the group is left: \(String(decoding: survivors.stdout, as: UTF8.self))")
    }

    func testCancellingTheWaitingTaskTerminatesThenKills() async throws {
        let lines = Lines()
        let polite = Task { try await LocalProcess.run(["sleep", "30"], timeout: nil, output: lines) }
        try await Task.sleep(for: .milliseconds(100))
        polite.cancel()
        let ended = try await polite.value
        XCTAssertTrue(ended.stopped)
        XCTAssertEqual(ended.signal, SIGTERM)

        let stubborn = Task {
            try await LocalProcess.run(["/bin/sh", "-c", "trap '' TERM; echo ready; sleep 30 & wait"], timeout: nil, output: lines)
        }
        while !lines[.stdout].contains("ready") { try await Task.sleep(for: .milliseconds(10)) }
        let cancelled = ContinuousClock.now
        stubborn.cancel()
        let killed = try await stubborn.value
        XCTAssertEqual(killed.signal, SIGKILL, "a program that ignores SIGTERM is killed after the grace")
        XCTAssertLessThan(ContinuousClock.now - cancelled, .seconds(5))

        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await LocalProcess.run(["sleep", "30"], timeout: nil, output: lines)
        }
        let alreadyCancelled = try await early.value
        XCTAssertTrue(alreadyCancelled.stopped, "a task cancelled before the start stops the program at once")
    }

    func testNothingLeaksAndAMissingProgramIsAnError() async throws {
        _ = try await LocalProcess.run(["true"], timeout: 10, output: Lines())  // starts the monitor thread
        let before = try openDescriptors()
        for _ in 0..<20 { _ = try await LocalProcess.run(["true"], timeout: 10, output: Lines()) }
        _ = try LocalProcess.runBlocking(["true"], errors: .inherited, timeout: 10, limit: 10)
        do {
            _ = try await LocalProcess.run(["/nonexistent/program"], timeout: 10, output: Lines())
            XCTFail("a missing program is an error")
        } catch {
            XCTAssertEqual(error.errorNumber, ENOENT)
        }
        XCTAssertEqual(try openDescriptors(), before, "pipes and pidfds are closed, also after a failed spawn")
    }
}
