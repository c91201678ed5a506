import Foundation
import XCTest
@testable import Workflow

final class RecoveryStateTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "/tasker-recovery-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func state(_ text: String = "task=0\ncommand=true\n\ntask=1\ncommand=true\n") throws -> RecoveryState {
        let path = directory + "/flow.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return RecoveryState(taskFile: try TaskFile.load(path: path), logDirectory: directory)
    }

    /// The file as any JSON reader sees it.
    private func saved(_ state: RecoveryState) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: state.path))) as? [String: Any])
    }

    private func result(_ text: String, ok: Bool = true) -> TaskResult {
        TaskResult(exitCode: ok ? 0 : 1, stdout: text, stderr: "", success: ok)
    }

    func testSavesKeepEveryResultCurrentWhileReusingUnchangedOnes() throws {
        let state = try state()
        var results = [0: result("first \"quoted\"\n")]
        state.save(currentTask: 0, intendedNext: 1, results: results, changed: [0], logFile: "log")
        results[1] = result("second", ok: false)
        state.save(currentTask: 1, intendedNext: 1, results: results, changed: [1], logFile: "log")
        // A loop runs task 0 again: only its record is encoded anew.
        results[0] = result("again")
        state.save(currentTask: 0, intendedNext: 1, results: results, changed: [0], logFile: "log")

        let saved = try self.saved(state)
        let records = try XCTUnwrap(saved["task_results"] as? [String: [String: Any]])
        XCTAssertEqual(records["0"]?["stdout"] as? String, "again")
        XCTAssertEqual(records["1"]?["stdout"] as? String, "second")
        XCTAssertEqual(saved["execution_path"] as? [Int], [0])
        XCTAssertEqual(saved["intended_next_task"] as? Int, 1)
        XCTAssertEqual(saved["version"] as? String, "1.0")
        XCTAssertTrue(saved["failure_info"] is NSNull, "task 0 succeeded: TASKER writes null")
        let resume = try XCTUnwrap(try state.resume())
        XCTAssertEqual(resume.startTask, 1)
        XCTAssertEqual(resume.results[1]?.success, false)
        XCTAssertEqual(resume.results[0]?.stdout, "again")

        // A fresh state over the same file (a resumed run) writes every restored record.
        let resumed = try self.state()
        resumed.save(currentTask: 1, intendedNext: nil, results: resume.results, changed: [], logFile: "log")
        let again = try XCTUnwrap(try self.saved(resumed)["task_results"] as? [String: Any])
        XCTAssertEqual(again.count, 2)
        XCTAssertTrue(try self.saved(resumed)["intended_next_task"] is NSNull)
        XCTAssertEqual((try self.saved(resumed)["failure_info"] as? [String: Any])?["task_id"] as? Int, 1)
    }

    func testFanOutHostsComeBackInTheirOrderWithTheirStatus() throws {
        let state = try state()
        let hosts = [
            HostTaskResult(host: "web2", exitCode: 0, stdout: "ok\n", stderr: "", success: true, status: .ok, attempts: 1),
            HostTaskResult(host: "web1", exitCode: 255, stdout: "", stderr: "refused", success: false, status: .host(.unreachable), attempts: 3),
            HostTaskResult(host: "web3", exitCode: 130, stdout: "", stderr: "", success: false, status: .cancelled, attempts: 0),
        ]
        let fanOut = TaskResult(exitCode: 1, stdout: "hosts=web: 1/3 successful", stderr: "", success: false, hosts: hosts)
        state.save(currentTask: 0, intendedNext: 0, results: [0: fanOut], changed: [0], logFile: "log")
        let resume = try XCTUnwrap(try state.resume())
        XCTAssertEqual(resume.results[0], fanOut, "hosts in inventory order, statuses and attempts kept")
    }

    func testABadOrMissingFieldIsNamedInsteadOfDefaulted() throws {
        let state = try state()
        state.save(currentTask: 0, intendedNext: 1, results: [0: result("x")], changed: [0], logFile: "log")
        let good = try saved(state)
        func rewrite(_ change: (inout [String: Any]) -> Void) throws {
            var document = good
            change(&document)
            try JSONSerialization.data(withJSONObject: document).write(to: URL(fileURLWithPath: state.path))
        }
        func message() -> String {
            do {
                _ = try state.resume()
                return "no error"
            } catch let error as TaskFileError {
                XCTAssertEqual(error.exitCode, 12)
                return error.message
            } catch {
                return "\(error)"
            }
        }
        try rewrite { document in
            var records = document["task_results"] as! [String: [String: Any]]
            records["0"]!["exit_code"] = "zero"
            document["task_results"] = records
        }
        XCTAssertTrue(message().hasSuffix("field 'task_results.0.exit_code' is not an integer"), message())
        try rewrite { document in
            var records = document["task_results"] as! [String: [String: Any]]
            records["0"]!["success"] = nil
            document["task_results"] = records
        }
        XCTAssertTrue(message().hasSuffix("field 'task_results.0.success' is missing"), message())
        try rewrite { $0["task_file_hash"] = nil }
        XCTAssertTrue(message().hasSuffix("field 'task_file_hash' is missing"), message())
        try rewrite { $0["execution_path"] = "0,1" }
        XCTAssertTrue(message().hasSuffix("field 'execution_path' is not a list or an object"), message())
        try rewrite { document in
            var records = document["task_results"] as! [String: [String: Any]]
            records["0"]!["hosts"] = ["h1": ["exit_code": 0, "stdout": "", "stderr": "", "success": true, "status": "fine", "attempts": 1]]
            document["task_results"] = records
        }
        XCTAssertTrue(message().hasSuffix("field 'task_results.0.hosts.h1.status' 'fine' is not a host status"), message())
        try "{not json".write(toFile: state.path, atomically: true, encoding: .utf8)
        XCTAssertTrue(message().contains("is not JSON"), message())
        XCTAssertTrue(state.describe().contains("Valid: no"), state.describe())
    }
}
