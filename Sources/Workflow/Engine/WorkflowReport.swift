import Fleet
import Foundation
import Platform
import TextFormats

/// The `--output-json` document (§20.6 of the reference) plus `execution_order`.
public enum WorkflowReport {
    public static func json(file: TaskFile, outcome: WorkflowOutcome, started: Date, ended: Date,
                            logFile: String) -> [String: Any] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let successful = outcome.results.filter { $0.value.success }.map(\.key).sorted()
        let succeeded = outcome.results.values.filter { $0.success && $0.exitCode != 124 }.count
        let failed = outcome.results.values.filter { !$0.success && $0.exitCode != 124 }.count
        let timeouts = outcome.results.values.filter { $0.exitCode == 124 }.count
        let status = outcome.exitCode == 0 ? "success" : "failed"
        var summary: [String: Any] = [
            "total_tasks": file.tasks.count,
            "executed": successful.count,
            "succeeded": succeeded,
            "failed": failed,
            "timeouts": timeouts,
            // [DOC≠REF] the reference's execution_path is the sorted list of successful task IDs.
            "execution_path": successful,
            "final_task": successful.last as Any? ?? NSNull(),
        ]
        if status == "failed" {
            summary["failure_info"] = ["task_id": outcome.finalTask as Any? ?? NSNull(), "exit_code": Int(outcome.exitCode),
                                       "error": "Workflow failed"]
        }
        var results: [String: Any] = [:]
        for (id, result) in outcome.results {
            var record = result.jsonRecord
            if let file = result.stdoutFile { record["stdout_file"] = file }
            if let file = result.stderrFile { record["stderr_file"] = file }
            if let attempts = outcome.attempts[id] { record["attempts"] = attempts }
            results[String(id)] = record
        }
        return [
            "workflow_metadata": [
                "task_file": URL(fileURLWithPath: file.path).standardizedFileURL.path,
                "execution_id": String(Digest.sha256Hex(file.contents).prefix(8)),
                "status": status,
                "start_time": formatter.string(from: started),
                "end_time": formatter.string(from: ended),
                "duration_seconds": (ended.timeIntervalSince(started) * 100).rounded() / 100,
                "log_file": logFile,
            ] as [String: Any],
            "execution_summary": summary,
            "execution_order": outcome.executionOrder,
            "task_results": results,
            "variables": file.globalValues,
        ]
    }

    /// Writes atomically (`PATH.tmp`, then rename). `inserting` adds members
    /// whose JSON is already serialised, so large parts need not be serialised again.
    public static func write(_ document: [String: Any], to path: String, inserting serialised: [String: Data] = [:]) throws {
        var data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        if !serialised.isEmpty, let close = data.lastIndex(of: UInt8(ascii: "}")) {
            var members = Data()
            for (key, value) in serialised.sorted(by: { $0.key < $1.key }) {
                members.append(contentsOf: Array(",\n  \(JSONString.quote(key)) : ".utf8))
                members.append(value)
            }
            if document.isEmpty { members.removeFirst() }
            data.replaceSubrange(close..<close, with: members + Data("\n".utf8))
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let temporary = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
