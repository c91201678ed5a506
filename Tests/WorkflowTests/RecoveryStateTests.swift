import Foundation
import XCTest
@testable import Workflow

final class RecoveryStateTests: XCTestCase {
    func testSavesKeepEveryResultCurrentWhileReusingUnchangedOnes() throws {
        let directory = NSTemporaryDirectory() + "/tasker-recovery-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/flow.txt"
        try "task=0\ncommand=true\n\ntask=1\ncommand=true\n".write(toFile: path, atomically: true, encoding: .utf8)
        let file = try TaskFile.load(path: path)
        let state = RecoveryState(taskFile: file, logDirectory: directory)
        func result(_ text: String, ok: Bool = true) -> TaskResult {
            TaskResult(exitCode: ok ? 0 : 1, stdout: text, stderr: "", success: ok)
        }

        var results = [0: result("first \"quoted\"\n")]
        state.save(currentTask: 0, intendedNext: 1, results: results, changed: [0], logFile: "log")
        results[1] = result("second", ok: false)
        state.save(currentTask: 1, intendedNext: 1, results: results, changed: [1], logFile: "log")
        // A loop runs task 0 again: only its record is serialised anew.
        results[0] = result("again")
        state.save(currentTask: 0, intendedNext: 1, results: results, changed: [0], logFile: "log")

        let saved = try state.load()
        let records = try XCTUnwrap(saved["task_results"] as? [String: [String: Any]])
        XCTAssertEqual(records["0"]?["stdout"] as? String, "again")
        XCTAssertEqual(records["1"]?["stdout"] as? String, "second")
        XCTAssertEqual(saved["execution_path"] as? [Int], [0])
        XCTAssertEqual(saved["intended_next_task"] as? Int, 1)
        let resume = try XCTUnwrap(try state.resume())
        XCTAssertEqual(resume.startTask, 1)
        XCTAssertEqual(resume.results[1]?.success, false)

        // A fresh state over the same file (a resumed run) writes every restored record.
        let resumed = RecoveryState(taskFile: file, logDirectory: directory)
        resumed.save(currentTask: 1, intendedNext: nil, results: resume.results, changed: [], logFile: "log")
        let again = try XCTUnwrap(try resumed.load()["task_results"] as? [String: [String: Any]])
        XCTAssertEqual(again.count, 2)
    }
}
