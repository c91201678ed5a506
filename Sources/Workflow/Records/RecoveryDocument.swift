import Fleet

/// The auto-recovery file (§24 of the reference), in TASKER's keys. `Results` is
/// `[String: EncodedJSON]` when it is written (each task's record encoded once,
/// when the task stored it) and `[String: TaskResultRecord]` when it is read.
struct RecoveryDocument<Results> {
    struct GlobalSource: Codable, Equatable {
        /// `env` (the value came from an environment variable) or `literal`.
        var source: String
        /// The value as written, for `env` globals.
        var template: String?
    }

    struct FailureInfo: Codable, Equatable {
        var taskID: Int
        var exitCode: Int
        var error: String

        enum CodingKeys: String, CodingKey {
            case taskID = "task_id", exitCode = "exit_code", error
        }
    }

    static var version: String { "1.0" }

    var version: String
    var taskFilePath: String?
    var taskFileHash: String
    var recoveryFile: String?
    var created: String?
    var updated: String?
    var logFile: String?
    /// The tasks that succeeded, in ID order.
    var executionPath: [Int]
    var lastSuccessfulTask: Int?
    var currentTask: Int?
    var intendedNextTask: Int?
    var globalVars: [String: String]
    var globalVarsMetadata: [String: GlobalSource]
    var failureInfo: FailureInfo?
    var taskResults: Results

    enum CodingKeys: String, CodingKey {
        case version, taskFilePath = "task_file_path", taskFileHash = "task_file_hash", recoveryFile = "recovery_file"
        case created, updated, logFile = "log_file", executionPath = "execution_path"
        case lastSuccessfulTask = "last_successful_task", currentTask = "current_task", intendedNextTask = "intended_next_task"
        case globalVars = "global_vars", globalVarsMetadata = "global_vars_metadata", loopState = "loop_state"
        case failureInfo = "failure_info", taskResults = "task_results"
    }
}

extension RecoveryDocument: Encodable where Results: Encodable {
    /// Every key TASKER writes, with `null` where it writes null.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(version, forKey: .version)
        try container.encode(taskFilePath, forKey: .taskFilePath)
        try container.encode(taskFileHash, forKey: .taskFileHash)
        try container.encode(recoveryFile, forKey: .recoveryFile)
        try container.encode(created, forKey: .created)
        try container.encode(updated, forKey: .updated)
        try container.encode(logFile, forKey: .logFile)
        try container.encode(executionPath, forKey: .executionPath)
        try container.encode(lastSuccessfulTask, forKey: .lastSuccessfulTask)
        try container.encode(currentTask, forKey: .currentTask)
        try container.encode(intendedNextTask, forKey: .intendedNextTask)
        try container.encode(globalVars, forKey: .globalVars)
        try container.encode(globalVarsMetadata, forKey: .globalVarsMetadata)
        // Loops restart on a resume, as in the reference, which writes this empty too.
        try container.encode([String: Int](), forKey: .loopState)
        try container.encode(failureInfo, forKey: .failureInfo)
        try container.encode(taskResults, forKey: .taskResults)
    }
}

extension RecoveryDocument: Decodable where Results: Decodable {
    /// What a resume needs is required; the rest may be missing or null.
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        version = try container.decode(String.self, forKey: .version)
        taskFilePath = try container.decodeIfPresent(String.self, forKey: .taskFilePath)
        taskFileHash = try container.decode(String.self, forKey: .taskFileHash)
        recoveryFile = try container.decodeIfPresent(String.self, forKey: .recoveryFile)
        created = try container.decodeIfPresent(String.self, forKey: .created)
        updated = try container.decodeIfPresent(String.self, forKey: .updated)
        logFile = try container.decodeIfPresent(String.self, forKey: .logFile)
        executionPath = try container.decode([Int].self, forKey: .executionPath)
        lastSuccessfulTask = try container.decodeIfPresent(Int.self, forKey: .lastSuccessfulTask)
        currentTask = try container.decodeIfPresent(Int.self, forKey: .currentTask)
        intendedNextTask = try container.decodeIfPresent(Int.self, forKey: .intendedNextTask)
        globalVars = try container.decodeIfPresent([String: String].self, forKey: .globalVars) ?? [:]
        globalVarsMetadata = try container.decodeIfPresent([String: GlobalSource].self, forKey: .globalVarsMetadata) ?? [:]
        failureInfo = try container.decodeIfPresent(FailureInfo.self, forKey: .failureInfo)
        taskResults = try container.decode(Results.self, forKey: .taskResults)
    }
}
