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
    /// Each task's result record, encoded when it was stored: a save writes
    /// the document around them instead of encoding every host's output again.
    private let encodedResults = EncodedResults()

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
        (try? read(path))?.created
    }

    public var exists: Bool { FileManager.default.fileExists(atPath: path) }

    /// Writes the state atomically after a task. Only the results in `changed`
    /// (and any not saved before) are encoded; the others are reused as they were.
    public func save(currentTask: Int, intendedNext: Int?, results: [Int: TaskResult], changed: Set<Int>, logFile: String) {
        let successful = results.filter { $0.value.success }.map(\.key).sorted()
        let failure = results[currentTask].flatMap { last in
            last.success ? nil : RecoveryDocument<[String: EncodedJSON]>.FailureInfo(taskID: currentTask, exitCode: last.exitCode,
                                                                                  error: String(last.stderr.prefix(512)))
        }
        let document = RecoveryDocument(
            version: RecoveryDocument<[String: EncodedJSON]>.version, taskFilePath: absoluteTaskPath, taskFileHash: taskFileHash,
            recoveryFile: (path as NSString).lastPathComponent, created: created, updated: ISO8601DateFormatter().string(from: Date()),
            logFile: logFile, executionPath: successful, lastSuccessfulTask: successful.last, currentTask: currentTask,
            intendedNextTask: intendedNext, globalVars: taskFile.globalValues,
            globalVarsMetadata: Dictionary(uniqueKeysWithValues: taskFile.globals.map { variable in
                (variable.name, variable.fromEnvironment ? .init(source: "env", template: variable.raw) : .init(source: "literal"))
            }),
            failureInfo: failure, taskResults: encodedResults.update(results, changed: changed))
        guard let bytes = try? JSONLineEncoder.encode(document) else { return }
        try? DocumentFile.write(bytes, to: path)
    }

    /// The saved state, read back field by field; a field that is missing or of the wrong type is named.
    private static func read(_ path: String) throws -> RecoveryDocument<[String: TaskResultRecord]> {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TaskFileError(exitCode: 12, "recovery file \(path) is unreadable")
        }
        do {
            return try JSONDecoder().decode(RecoveryDocument<[String: TaskResultRecord]>.self, from: data)
        } catch let error as DecodingError {
            throw TaskFileError(exitCode: 12, "recovery file \(path): \(RecordError(error))")
        }
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
        let state = try Self.read(path)
        guard state.version == RecoveryDocument<[String: TaskResultRecord]>.version else {
            throw TaskFileError(exitCode: 12, "recovery file \(path) has an unknown version")
        }
        guard state.taskFileHash == Digest.sha256Hex(taskFile.contents) else {
            throw TaskFileError(exitCode: 12, "recovery file \(path) belongs to a different version of \(taskFile.path)")
        }
        var results: [Int: TaskResult] = [:]
        for (key, record) in state.taskResults {
            guard let id = Int(key) else {
                throw TaskFileError(exitCode: 12, "recovery file \(path): field 'task_results.\(key)' is not a task ID")
            }
            do { results[id] = try record.result(field: "task_results.\(key)") } catch let error as RecordError {
                throw TaskFileError(exitCode: 12, "recovery file \(path): \(error)")
            }
        }
        let path = state.executionPath
        let lastSuccessful = state.lastSuccessfulTask
        let defined = taskFile.tasks.map(\.id).sorted()
        var start = state.intendedNextTask ?? lastSuccessful.map { $0 + 1 } ?? defined.first
        if let candidate = start, taskFile.task(candidate) == nil {
            start = defined.first { $0 > (lastSuccessful ?? -1) }
        }
        if let candidate = start, path.contains(candidate) {
            start = defined.first { $0 > (lastSuccessful ?? -1) && !path.contains($0) }
        }
        guard let start else { return nil }
        var resume = Resume(startTask: start, results: results, globals: taskFile.globalValues)
        let saved = state.globalVars
        for variable in taskFile.globals where state.globalVarsMetadata[variable.name]?.source == "env" {
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
        guard exists, let state = try? Self.read(path) else { return [] }
        return Set(state.globalVars.keys)
    }

    public func delete() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// What `--show-recovery-info` prints.
    public func describe() -> String {
        guard exists else { return "No recovery file for \(taskFile.path) (\(path))" }
        let state: RecoveryDocument<[String: TaskResultRecord]>
        do { state = try Self.read(path) } catch {
            return "Recovery file: \(path)\nValid: no (\((error as? TaskFileError)?.message ?? "unreadable"))"
        }
        var valid = "yes"
        do { _ = try resume() } catch { valid = "no (\(error))" }
        let failure = state.failureInfo.map { "task \($0.taskID), exit code \($0.exitCode): \($0.error)" }
        return [
            "Recovery file: \(path)",
            "Task file: \(state.taskFilePath ?? "")",
            "Created: \(state.created ?? "")",
            "Updated: \(state.updated ?? "")",
            "Valid: \(valid)",
            "Execution path: \(state.executionPath)",
            "Last successful task: \(state.lastSuccessfulTask.map(String.init) ?? "none")",
            "Current task: \(state.currentTask.map(String.init) ?? "none")",
            "Failure info: \(failure ?? "none")",
        ].joined(separator: "\n")
    }
}

/// The JSON of each stored result, kept between saves.
private final class EncodedResults: Sendable {
    private let records = Locked<[Int: EncodedJSON]>([:])

    func update(_ results: [Int: TaskResult], changed: Set<Int>) -> [String: EncodedJSON] {
        records.withLock { records in
            records = records.filter { results[$0.key] != nil }
            for (id, result) in results where records[id] == nil || changed.contains(id) {
                records[id] = try? EncodedJSON(TaskResultRecord(result, hostOrder: true))
            }
            return Dictionary(uniqueKeysWithValues: records.map { (String($0.key), $0.value) })
        }
    }
}
