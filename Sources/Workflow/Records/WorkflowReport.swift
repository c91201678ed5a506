import Fleet
import Foundation
import Platform

/// The `--output-json` document (§20.6 of the reference) plus `execution_order`, in TASKER's keys.
public struct WorkflowReport: Encodable, Sendable {
    struct Metadata: Encodable, Sendable {
        var taskFile: String
        var executionID: String
        /// `success` or `failed`.
        var status: String
        var startTime: String
        var endTime: String
        var durationSeconds: Double
        var logFile: String

        enum CodingKeys: String, CodingKey {
            case taskFile = "task_file", executionID = "execution_id", status, startTime = "start_time", endTime = "end_time"
            case durationSeconds = "duration_seconds", logFile = "log_file"
        }
    }

    struct Summary: Encodable, Sendable {
        struct FailureInfo: Encodable, Sendable {
            var taskID: Int?
            var exitCode: Int
            var error: String

            enum CodingKeys: String, CodingKey { case taskID = "task_id", exitCode = "exit_code", error }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(taskID, forKey: .taskID)
                try container.encode(exitCode, forKey: .exitCode)
                try container.encode(error, forKey: .error)
            }
        }

        var totalTasks: Int
        var executed: Int
        var succeeded: Int
        var failed: Int
        var timeouts: Int
        var executionPath: [Int]
        var finalTask: Int?
        /// Only when the workflow failed.
        var failureInfo: FailureInfo?

        enum CodingKeys: String, CodingKey {
            case totalTasks = "total_tasks", executed, succeeded, failed, timeouts, executionPath = "execution_path"
            case finalTask = "final_task", failureInfo = "failure_info"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(totalTasks, forKey: .totalTasks)
            try container.encode(executed, forKey: .executed)
            try container.encode(succeeded, forKey: .succeeded)
            try container.encode(failed, forKey: .failed)
            try container.encode(timeouts, forKey: .timeouts)
            try container.encode(executionPath, forKey: .executionPath)
            try container.encode(finalTask, forKey: .finalTask)
            try container.encodeIfPresent(failureInfo, forKey: .failureInfo)
        }
    }

    var workflowMetadata: Metadata
    var executionSummary: Summary
    var executionOrder: [Int]
    var taskResults: [String: TaskResultRecord]
    var variables: [String: String]

    enum CodingKeys: String, CodingKey {
        case workflowMetadata = "workflow_metadata", executionSummary = "execution_summary", executionOrder = "execution_order"
        case taskResults = "task_results", variables
    }

    public init(file: TaskFile, outcome: WorkflowOutcome, started: Date, ended: Date, logFile: String) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let successful = outcome.results.filter { $0.value.success }.map(\.key).sorted()
        let status = outcome.exitCode == 0 ? "success" : "failed"
        workflowMetadata = Metadata(taskFile: URL(fileURLWithPath: file.path).standardizedFileURL.path,
                                    executionID: String(Digest.sha256Hex(file.contents).prefix(8)), status: status,
                                    startTime: formatter.string(from: started), endTime: formatter.string(from: ended),
                                    durationSeconds: (ended.timeIntervalSince(started) * 100).rounded() / 100, logFile: logFile)
        // [QUIRK] TASKER counts a result as a timeout by its exit code, 124.
        let results = outcome.results.values
        executionSummary = Summary(
            totalTasks: file.tasks.count, executed: successful.count,
            succeeded: results.filter { $0.success && $0.exitCode != 124 }.count,
            failed: results.filter { !$0.success && $0.exitCode != 124 }.count,
            timeouts: results.filter { $0.exitCode == 124 }.count,
            // [DOC≠REF] the reference's execution_path is the sorted list of successful task IDs.
            executionPath: successful, finalTask: successful.last,
            failureInfo: status == "failed" ? .init(taskID: outcome.finalTask, exitCode: Int(outcome.exitCode), error: "Workflow failed") : nil)
        executionOrder = outcome.executionOrder
        taskResults = Dictionary(uniqueKeysWithValues: outcome.results.map { id, result in
            var record = TaskResultRecord(result)
            record.stdoutFile = result.stdoutFile
            record.stderrFile = result.stderrFile
            record.attempts = outcome.attempts[id]
            return (String(id), record)
        })
        variables = file.globalValues
    }

    /// Writes the document atomically, indented with sorted keys.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try DocumentFile.write(Array(try encoder.encode(self)), to: path)
    }
}

/// Saved documents are written whole or not at all: `PATH.tmp`, then a rename.
enum DocumentFile {
    static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        let temporary = path + ".tmp"
        try Data(bytes).write(to: URL(fileURLWithPath: temporary))
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try FileManager.default.moveItem(atPath: temporary, toPath: path)
    }
}
