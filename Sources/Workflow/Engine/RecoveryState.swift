import Fleet
import Foundation
import Locking
import Platform

/// Auto-recovery (§24): the state saved after every task, and where a rerun resumes.
public struct RecoveryState: Sendable {
    public let path: String
    public let taskFile: TaskFile
    public let absoluteTaskPath: String
    /// When the state was first saved: kept from an existing file, so saves need not re-read it.
    private let created: String
    private let taskFileHash: String
    /// Each task's result record, serialised when it was stored: a save writes
    /// the document around them instead of serialising every host's output again.
    private let serialisedResults = SerialisedResults()

    public init(taskFile: TaskFile, logDirectory: String) {
        self.taskFile = taskFile
        absoluteTaskPath = URL(fileURLWithPath: taskFile.path).standardizedFileURL.path
        let base = (taskFile.path as NSString).lastPathComponent
        let stem = base.hasSuffix(".txt") ? String(base.dropLast(4)) : base
        let hash = String(Digest.sha256Hex(Array(absoluteTaskPath.utf8)).prefix(8))
        path = "\(logDirectory)/recovery/\(stem)_\(hash).recovery.json"
        created = Self.createdStamp(at: path) ?? ISO8601DateFormatter().string(from: Date())
        taskFileHash = Digest.sha256Hex(taskFile.contents)
    }

    private static func createdStamp(at path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["created"] as? String
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Writes the state atomically after a task. Only the results in `changed`
    /// (and any not saved before) are serialised; the others are reused as they were.
    public func save(currentTask: Int, intendedNext: Int?, results: [Int: TaskResult], changed: Set<Int>, logFile: String) {
        let successful = results.filter { $0.value.success }.map(\.key).sorted()
        var failureInfo: Any = NSNull()
        if let last = results[currentTask], !last.success {
            failureInfo = ["task_id": currentTask, "exit_code": last.exitCode, "error": String(last.stderr.prefix(512))]
        }
        let document: [String: Any] = [
            "version": "1.0",
            "task_file_path": absoluteTaskPath,
            "task_file_hash": taskFileHash,
            "recovery_file": (path as NSString).lastPathComponent,
            "created": created,
            "updated": ISO8601DateFormatter().string(from: Date()),
            "log_file": logFile,
            "execution_path": successful,
            "last_successful_task": successful.last as Any? ?? NSNull(),
            "current_task": currentTask,
            "intended_next_task": intendedNext as Any? ?? NSNull(),
            "global_vars": taskFile.globalValues,
            "global_vars_metadata": Dictionary(uniqueKeysWithValues: taskFile.globals.map { variable in
                (variable.name, variable.fromEnvironment ? ["source": "env", "template": variable.raw] : ["source": "literal"])
            }),
            "loop_state": [String: Any](),
            "failure_info": failureInfo,
        ]
        let records = serialisedResults.update(results, changed: changed)
        var taskResults = Data("{".utf8)
        for (index, (id, record)) in records.sorted(by: { String($0.key) < String($1.key) }).enumerated() {
            if index > 0 { taskResults.append(contentsOf: Array(",".utf8)) }
            taskResults.append(contentsOf: Array("\n\"\(id)\" : ".utf8))
            taskResults.append(record)
        }
        taskResults.append(contentsOf: Array("\n}".utf8))
        try? WorkflowReport.write(document, to: path, inserting: ["task_results": taskResults])
    }

    func load() throws -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TaskFileError(exitCode: 12, "recovery file \(path) is unreadable")
        }
        return object
    }

    public struct Resume {
        public var startTask: Int
        public var results: [Int: TaskResult]
        /// Environment-sourced globals whose variable is now missing (the saved value is kept).
        public var missingEnvironment: [(name: String, saved: String)] = []
        /// Environment-sourced globals whose value changed since the state was saved (the new value is used).
        public var changedEnvironment: [(name: String, saved: String, current: String)] = []
        /// The globals to run with: current values, saved ones where the environment variable is gone.
        public var globals: [String: String] = [:]
    }

    /// Checks the saved state against the task file and picks the resume task; nil when there is nothing to resume.
    public func resume() throws -> Resume? {
        let state = try load()
        for key in ["version", "task_file_hash", "task_results", "execution_path"] where state[key] == nil {
            throw TaskFileError(exitCode: 12, "recovery file \(path) lacks '\(key)'")
        }
        guard state["version"] as? String == "1.0" else { throw TaskFileError(exitCode: 12, "recovery file \(path) has an unknown version") }
        guard state["task_file_hash"] as? String == Digest.sha256Hex(taskFile.contents) else {
            throw TaskFileError(exitCode: 12, "recovery file \(path) belongs to a different version of \(taskFile.path)")
        }
        var results: [Int: TaskResult] = [:]
        for (key, value) in state["task_results"] as? [String: Any] ?? [:] {
            guard let id = Int(key), let record = value as? [String: Any] else { continue }
            results[id] = TaskResult(exitCode: record["exit_code"] as? Int ?? 0, stdout: record["stdout"] as? String ?? "",
                                     stderr: record["stderr"] as? String ?? "", success: record["success"] as? Bool ?? false,
                                     hosts: TaskResult.hosts(fromJSON: record["hosts"], order: record["host_order"] as? [String]))
        }
        let path = (state["execution_path"] as? [Int]) ?? []
        let lastSuccessful = state["last_successful_task"] as? Int
        let defined = taskFile.tasks.map(\.id).sorted()
        var start = (state["intended_next_task"] as? Int) ?? lastSuccessful.map { $0 + 1 } ?? defined.first
        if let candidate = start, taskFile.task(candidate) == nil {
            start = defined.first { $0 > (lastSuccessful ?? -1) }
        }
        if let candidate = start, path.contains(candidate) {
            start = defined.first { $0 > (lastSuccessful ?? -1) && !path.contains($0) }
        }
        guard let start else { return nil }
        var resume = Resume(startTask: start, results: results, globals: taskFile.globalValues)
        let saved = state["global_vars"] as? [String: String] ?? [:]
        let metadata = state["global_vars_metadata"] as? [String: [String: String]] ?? [:]
        for variable in taskFile.globals where metadata[variable.name]?["source"] == "env" {
            guard let old = saved[variable.name] else { continue }
            if variable.value == variable.raw.trimmingCharacters(in: .whitespaces) {
                // The template no longer expands: its variable is gone.
                resume.missingEnvironment.append((variable.name, old))
                resume.globals[variable.name] = old
            } else if variable.value != old {
                resume.changedEnvironment.append((variable.name, old, variable.value))
            }
        }
        return resume
    }

    /// The globals the saved state holds values for; empty when there is no readable state.
    public func savedGlobalNames() -> Set<String> {
        guard exists, let state = try? load(), let saved = state["global_vars"] as? [String: Any] else { return [] }
        return Set(saved.keys)
    }

    public func delete() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// What `--show-recovery-info` prints.
    public func describe() -> String {
        guard exists else { return "No recovery file for \(taskFile.path) (\(path))" }
        guard let state = try? load() else { return "Recovery file: \(path)\nValid: no (unreadable)" }
        var valid = "yes"
        do { _ = try resume() } catch { valid = "no (\(error))" }
        return [
            "Recovery file: \(path)",
            "Task file: \(state["task_file_path"] ?? "")",
            "Created: \(state["created"] ?? "")",
            "Updated: \(state["updated"] ?? "")",
            "Valid: \(valid)",
            "Execution path: \(state["execution_path"] ?? [])",
            "Last successful task: \(state["last_successful_task"] ?? "none")",
            "Current task: \(state["current_task"] ?? "none")",
            "Failure info: \(state["failure_info"] ?? "none")",
        ].joined(separator: "\n")
    }
}

/// The JSON of each stored result, kept between saves.
private final class SerialisedResults: Sendable {
    private let records = Locked<[Int: Data]>([:])

    func update(_ results: [Int: TaskResult], changed: Set<Int>) -> [Int: Data] {
        records.withLock { records in
            records = records.filter { results[$0.key] != nil }
            for (id, result) in results where records[id] == nil || changed.contains(id) {
                var record = result.jsonRecord
                if let hosts = result.hosts { record["host_order"] = hosts.map(\.host) }
                records[id] = (try? JSONSerialization.data(withJSONObject: record, options: [.prettyPrinted, .sortedKeys])) ?? Data("{}".utf8)
            }
            return records
        }
    }
}
